import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../core/config.js';
import { ForyouError } from '../../core/errors.js';
import {
  type CommitInfo,
  compactLake,
  type LakeStatus,
  LakeWriter,
  lakeLag,
  lakeStatus,
  readManifest,
  type TopicLag,
} from '../../lake/index.js';
import { openEventLog } from '../../log/open.js';
import { configOf, floatOption, intOption } from '../program.js';

const fmt = (n: number) => n.toLocaleString('en-US');

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, k) => (k === 0 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

/** The readable form of `foryou lake status`. */
export function formatLakeStatus(status: LakeStatus, lag: readonly TopicLag[]): string {
  const head =
    status.sequence === 0
      ? `lake ${status.dir}: nothing written yet`
      : `lake ${status.dir}: commit ${fmt(status.sequence)} at ${status.committedAt}`;
  const tables = table(
    ['table', 'partitions', 'files', 'rows', 'bytes'],
    status.tables.map((t) => [t.table, fmt(t.partitions), fmt(t.files), fmt(t.rows), formatBytes(t.bytes)]),
  );
  const topics = table(
    ['topic', 'lake offset', 'log start', 'log end', 'lag'],
    lag.map((l) => [l.topic, fmt(l.lake), fmt(l.logStart), fmt(l.logEnd), fmt(l.lag)]),
  );
  const missed = lag
    .filter((l) => l.missed > 0)
    .map(
      (l) =>
        `warning: the log removed ${fmt(l.missed)} ${l.topic} records (retention) before the lake wrote them; ` +
        'the writer stops at that gap',
    );
  return [head, '', tables, '', topics, ...missed].join('\n');
}

function commitLine(commit: CommitInfo): string {
  const seconds = (commit.ms / 1000).toFixed(2);
  if (commit.kind === 'compaction')
    return `lake: commit ${commit.sequence}: compaction wrote ${commit.files} files in ${seconds} s`;
  const records = Object.entries(commit.records)
    .map(([topic, n]) => `${fmt(n)} ${topic}`)
    .join(', ');
  const rejected = commit.rejected > 0 ? ` (${fmt(commit.rejected)} rejected)` : '';
  return `lake: commit ${commit.sequence}: ${records}${rejected} -> ${commit.files} files in ${seconds} s`;
}

/**
 * The writer only reads the log, so it opens an embedded log read-only: it then runs beside the process
 * that appends (`foryou serve`) without taking its lock, and never blocks it from starting.
 */
function openLogForLake(config: Config) {
  return openEventLog(config.log, { readOnly: true });
}

export function registerLakeCommands(program: Command): void {
  const lake = program
    .command('lake')
    .description('the Parquet lake: write it from the event log, inspect it, compact it (docs/lake.md)');

  lake
    .command('status')
    .description('tables, partitions, files, rows and bytes of the lake, and how far it is behind the log')
    .option('--json', 'print the status as JSON', false)
    .action(async (opts, command: Command) => {
      const config = configOf(command);
      const dir = resolve(config.lake.dir);
      const manifest = await readManifest(dir);
      const status = lakeStatus(dir, manifest);
      const log = await openLogForLake(config);
      let lag: TopicLag[];
      try {
        lag = await lakeLag(manifest, log);
      } finally {
        await log.close();
      }
      if (opts.json) process.stdout.write(`${JSON.stringify({ ...status, lag }, null, 2)}\n`);
      else process.stdout.write(`${formatLakeStatus(status, lag)}\n`);
    });

  lake
    .command('write')
    .description(
      "write the log's events and catalogue into the lake, exactly once (default: until caught up)",
    )
    .option('--follow', 'keep running and follow the log until SIGINT or SIGTERM', false)
    .option('--once', 'write what the log holds now, then exit (the default)', false)
    .option('--batch-records <n>', 'write a batch once this many records are staged', intOption(1), 500_000)
    .option(
      '--batch-seconds <s>',
      '... or once the oldest staged record is this old',
      floatOption(0.001, 86_400),
      60,
    )
    .option(
      '--compact-min-files <n>',
      'compact a partition once it has this many small files (0: never)',
      intOption(0, 1_000_000),
      8,
    )
    .option('--quiet', 'no line per commit on stderr', false)
    .action(async (opts, command: Command) => {
      if (opts.follow && opts.once)
        throw new ForyouError('FY_INVALID_ARGUMENT', 'give --follow or --once, not both', {
          details: { option: '--follow' },
        });
      const config = configOf(command);
      const log = await openLogForLake(config);
      const started = performance.now();
      try {
        const writer = await LakeWriter.open(config.lake.dir, log, {
          batchRecords: opts.batchRecords,
          batchMs: opts.batchSeconds * 1000,
          compactMinFiles: opts.compactMinFiles,
          onCommit: opts.quiet ? undefined : (commit) => process.stderr.write(`${commitLine(commit)}\n`),
        });
        if (!opts.quiet && writer.orphansRemoved.length > 0)
          process.stderr.write(
            `lake: removed ${writer.orphansRemoved.length} files no commit listed (left by an interrupted run)\n`,
          );
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          const summary = opts.follow ? await writer.follow(controller.signal) : await writer.runOnce();
          const seconds = (performance.now() - started) / 1000;
          const lag = await lakeLag(writer.manifest, log);
          process.stdout.write(
            `wrote ${fmt(summary.records)} records in ${fmt(summary.batches)} batches` +
              `${summary.rejected > 0 ? ` (${fmt(summary.rejected)} rejected)` : ''} in ${seconds.toFixed(1)} s; ` +
              `lake at ${lag.map((l) => `${l.topic} ${fmt(l.lake)}/${fmt(l.logEnd)}`).join(', ')}\n`,
          );
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          await writer.close();
        }
      } finally {
        await log.close();
      }
    });

  lake
    .command('compact')
    .description(
      'merge the small files of each partition into one (not while a writer runs: it compacts itself)',
    )
    .option('--min-files <n>', 'merge a partition once it has this many small files', intOption(2), 2)
    .option('--target-mb <n>', 'files this large are left alone, merges stop growing here', intOption(1), 128)
    .action(async (opts, command: Command) => {
      const config = configOf(command);
      const started = performance.now();
      const result = await compactLake(config.lake.dir, {
        minFiles: opts.minFiles,
        targetBytes: opts.targetMb * 1024 * 1024,
      });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(
        result.merges === 0
          ? 'nothing to compact\n'
          : `merged ${fmt(result.filesIn)} files into ${fmt(result.filesOut)} (${fmt(result.rows)} rows) in ${seconds} s; ` +
              `commit ${result.sequence}\n`,
      );
    });
}
