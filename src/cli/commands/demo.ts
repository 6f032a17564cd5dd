import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEMO_DEFAULTS, type DemoPhase, type DemoSummary, runDemo } from '../../demo/demo.js';
import { configOf, floatOption, intOption } from '../program.js';
import { type Progress, startProgress } from '../progress.js';

const LABELS: Record<DemoPhase, { label: string; unit: string }> = {
  history: { label: 'history', unit: 'steps' },
  train: { label: 'training', unit: 'jobs' },
  live: { label: 'live A/B', unit: 'steps' },
};

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const interval = (ci: [number, number], f: (x: number) => string) => `[${f(ci[0])}, ${f(ci[1])}]`;

/** The closing summary, plain text. */
export function formatDemoSummary(s: DemoSummary): string {
  const lines = [
    `world: ${s.world.users.toLocaleString('en')} users, ${s.world.items.toLocaleString('en')} videos, seed ${s.world.seed}; ` +
      `${s.world.historyDays} days of history (${s.historyEvents.toLocaleString('en')} events), ` +
      `${s.world.liveDays} live days (${s.liveEvents.toLocaleString('en')} events, ${s.retrains} retrains)`,
    '',
    '| arm | users | sessions | watch s / session | like rate | coverage | feed p50 ms | feed p99 ms | degraded |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...s.arms.map(
      (a) =>
        `| ${a.arm} | ${a.users} | ${a.sessions} | ${a.watchSecondsPerSession.toFixed(1)} | ${pct(a.likeRate)} | ` +
        `${pct(a.coverage)} | ${a.latencyP50Ms.toFixed(1)} | ${a.latencyP99Ms.toFixed(1)} | ${a.degradedRequests}/${a.requests} |`,
    ),
    '',
    `watch time per session: ${s.watchTime.treatment.value.toFixed(1)} s vs ${s.watchTime.control.value.toFixed(1)} s, ` +
      `lift ${pct(s.watchTime.lift)} (95% CI ${interval(s.watchTime.liftCi, pct)}, p = ${s.watchTime.pValue.toPrecision(2)})`,
    `like rate: ${pct(s.likeRate.treatment.value)} vs ${pct(s.likeRate.control.value)}, lift ${pct(s.likeRate.lift)} ` +
      `(95% CI ${interval(s.likeRate.liftCi, pct)}, p = ${s.likeRate.pValue.toPrecision(2)})`,
    `time: history ${s.seconds.history.toFixed(0)} s, training ${s.seconds.train.toFixed(0)} s, live ${s.seconds.live.toFixed(0)} s`,
  ];
  return lines.join('\n');
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      "Foryou's main job on the embedded default: simulate a world's history, ingest it, train, serve, then run an A/B test (personalised feed vs trending) with simulated users scrolling the real API",
    )
    .option('--dir <dir>', 'working folder (emptied first; default: <dataDir>/demo)')
    .option('--users <n>', 'simulated users', intOption(50, 5_000_000), DEMO_DEFAULTS.users)
    .option('--items <n>', 'videos', intOption(50, 5_000_000), DEMO_DEFAULTS.items)
    .option(
      '--history-days <n>',
      'days of history before serving',
      floatOption(0.25, 60),
      DEMO_DEFAULTS.historyDays,
    )
    .option('--live-days <n>', 'days of live A/B traffic', floatOption(0.1, 60), DEMO_DEFAULTS.liveDays)
    .option(
      '--retrain-hours <n>',
      'retrain every this many simulated hours (0: never)',
      floatOption(0, 24 * 60),
      DEMO_DEFAULTS.retrainHours,
    )
    .option(
      '--treatment-share <x>',
      'share of users in the personalised arm',
      floatOption(0.01, 0.99),
      DEMO_DEFAULTS.treatmentShare,
    )
    .option('--page-size <n>', 'videos per feed page', intOption(1, 100), DEMO_DEFAULTS.pageSize)
    .option('--concurrency <n>', 'sessions in flight at once', intOption(1, 256), DEMO_DEFAULTS.concurrency)
    .option('--seed <n>', 'seed (default: the config seed)', intOption(0))
    .option('--json', 'print the summary as JSON', false)
    .option('--quiet', 'no progress bars', false)
    .action(async (opts, command: Command) => {
      const config = configOf(command);
      const bars = new Map<DemoPhase, Progress>();
      const summary = await runDemo({
        dir: opts.dir ?? join(resolve(config.dataDir), 'demo'),
        users: opts.users,
        items: opts.items,
        historyDays: opts.historyDays,
        liveDays: opts.liveDays,
        retrainHours: opts.retrainHours,
        sessionsPerDay: opts.sessionsPerDay,
        treatmentShare: opts.treatmentShare,
        pageSize: opts.pageSize,
        concurrency: opts.concurrency,
        seed: opts.seed ?? config.seed,
        onProgress: (p) => {
          let bar = bars.get(p.phase);
          if (!bar) {
            for (const other of bars.values()) other.stop();
            bar = startProgress({
              ...LABELS[p.phase],
              total: p.total,
              extra: '{note}',
              payload: { note: '' },
              quiet: opts.quiet,
            });
            bars.set(p.phase, bar);
          }
          bar.setTotal(p.total);
          bar.update(p.done, { note: p.note ?? '' });
        },
      });
      for (const bar of bars.values()) bar.stop();
      process.stdout.write(`${opts.json ? JSON.stringify(summary, null, 2) : formatDemoSummary(summary)}\n`);
    });
}
