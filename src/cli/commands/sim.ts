import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { WorldFormat } from '../../io/world-folder.js';
import { formatSummary, type GeneratePhase, generateWorld } from '../../sim/index.js';
import { configOf, dateOption, floatOption, formatsOption, intOption } from '../program.js';
import { type Progress, startProgress } from '../progress.js';

const PHASE_LABEL: Record<GeneratePhase, string> = {
  world: 'building world ',
  catalogue: 'writing catalog',
  history: 'simulating     ',
  parquet: 'writing parquet',
};

export function registerSimCommands(program: Command): void {
  const sim = program.command('sim').description('the synthetic short-video world: generate data, replay it');
  sim
    .command('generate')
    .description('generate a world (users, creators, videos) and its event history as JSON lines and Parquet')
    .requiredOption('-o, --out <dir>', 'output folder (must be empty unless --force)')
    .option('--users <n>', 'number of users', intOption(1, 20_000_000), 10_000)
    .option('--items <n>', 'number of videos', intOption(1, 20_000_000), 10_000)
    .option('--creators <n>', 'number of creators (default: one per 20 videos)', intOption(1, 20_000_000))
    .option('--days <n>', 'length of the simulated history in days', floatOption(0.01, 366), 7)
    .option('--start <date>', 'first day of the history (UTC)', dateOption, Date.UTC(2026, 0, 5))
    .option('--sessions-per-day <x>', 'mean sessions per user per day', floatOption(0.01, 50), 0.6)
    .option(
      '--seed <n>',
      'random seed; the same seed and sizes give the same files (default: the config seed, 42)',
      intOption(0, 2 ** 31),
    )
    .option('--format <list>', 'jsonl, parquet or both', formatsOption, ['jsonl', 'parquet'] as WorldFormat[])
    .option('--force', 'replace the contents of a non-empty output folder', false)
    .option('--quiet', 'no progress bar', false)
    .action(async (opts, command: Command) => {
      const formats: WorldFormat[] = opts.format;
      let bar: Progress | null = null;
      let phase: GeneratePhase | null = null;
      const started = performance.now();
      const { manifest, summary } = await generateWorld(
        opts.out,
        {
          seed: opts.seed ?? configOf(command).seed,
          users: opts.users,
          items: opts.items,
          ...(opts.creators ? { creators: opts.creators } : {}),
          days: opts.days,
          startMs: opts.start,
          sessionsPerDay: opts.sessionsPerDay,
        },
        {
          formats,
          force: opts.force,
          onProgress: (p) => {
            if (p.phase !== phase) {
              bar?.stop();
              phase = p.phase;
              bar = startProgress({
                label: PHASE_LABEL[p.phase],
                total: p.total,
                unit: p.phase === 'history' ? 'x 10 min' : '',
                extra: '{events} events',
                quiet: opts.quiet,
              });
            }
            bar?.update(p.done, { events: p.events.toLocaleString('en-US') });
          },
        },
      );
      (bar as Progress | null)?.stop();
      const seconds = (performance.now() - started) / 1000;
      await writeFile(join(opts.out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      process.stdout.write(`${formatSummary(summary)}\n`);
      process.stdout.write(
        `wrote ${opts.out} (${manifest.formats.join(' + ')}) in ${seconds.toFixed(1)} s, ` +
          `${Math.round(manifest.counts.events / seconds).toLocaleString('en-US')} events/s\n`,
      );
    });
}
