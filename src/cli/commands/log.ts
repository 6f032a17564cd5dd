import { once } from 'node:events';
import { type Command, InvalidArgumentError } from 'commander';
import { ForyouError } from '../../core/errors.js';
import { openEventLog } from '../../log/open.js';
import type { EventLog, LogRecord, TopicStats } from '../../log/port.js';
import { configOf, intOption } from '../program.js';

const DEFAULT_TAIL = 10;

function sinceOption(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms))
    throw new InvalidArgumentError(`expected an ISO 8601 time like 2026-01-05T10:00:00Z, got "${value}"`);
  return ms;
}

/** One record as a JSON line; a payload that is not JSON is given as base64. */
export function recordLine(topic: string, record: LogRecord): string {
  const head = `{"topic":${JSON.stringify(topic)},"offset":${record.offset},"id":${JSON.stringify(record.id)},"time":"${new Date(record.timestampMs).toISOString()}"`;
  const text = Buffer.from(
    record.payload.buffer,
    record.payload.byteOffset,
    record.payload.byteLength,
  ).toString('utf8');
  try {
    JSON.parse(text);
    return `${head},"payload":${text}}`;
  } catch {
    return `${head},"payload_base64":"${Buffer.from(record.payload).toString('base64')}"}`;
  }
}

/**
 * Writes to stdout, waiting while its buffer is full so a long tail does not pile up in memory. Resolves
 * false once the reader has gone (`foryou log tail | head` closes the pipe): the tail then just stops.
 */
async function write(text: string): Promise<boolean> {
  if (process.stdout.destroyed) return false;
  if (process.stdout.write(text)) return true;
  const done = new AbortController();
  const drained = await Promise.race([
    once(process.stdout, 'drain', { signal: done.signal }).then(() => true),
    once(process.stdout, 'close', { signal: done.signal }).then(() => false),
  ]).catch(() => false);
  done.abort();
  return drained && !process.stdout.destroyed;
}

interface TailOptions {
  topic: string;
  from?: number;
  since?: number;
  follow: boolean;
  limit?: number;
}

async function tail(log: EventLog, opts: TailOptions): Promise<void> {
  if (opts.from !== undefined && opts.since !== undefined)
    throw new ForyouError('FY_INVALID_ARGUMENT', 'give --from or --since, not both', {
      details: { option: '--from' },
    });
  const { topic } = opts;
  let offset: number;
  if (opts.from !== undefined) offset = opts.from;
  else if (opts.since !== undefined) offset = await log.offsetForTime(topic, opts.since);
  else {
    const { start, end } = await log.bounds(topic);
    offset = Math.max(start, end - (opts.limit ?? DEFAULT_TAIL));
  }
  let left = opts.limit ?? Number.POSITIVE_INFINITY;
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  if (opts.follow) {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }
  // A closed pipe is the reader saying it has seen enough, not a failure.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stop();
  };
  process.stdout.on('error', onStdoutError);
  try {
    while (left > 0 && !stopped) {
      const records = await log.read(topic, offset, { maxRecords: Math.min(1000, left), maxBytes: 4 << 20 });
      if (records.length === 0) {
        if (!opts.follow) break;
        await log.waitFor(topic, offset, 500);
        continue;
      }
      if (!(await write(`${records.map((r) => recordLine(topic, r)).join('\n')}\n`))) break;
      offset = records.at(-1)!.offset + 1;
      left -= records.length;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('error', onStdoutError);
  }
}

function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** A readable table of topic stats, one row per topic. */
export function formatStats(stats: readonly TopicStats[]): string {
  const fmt = (n: number) => n.toLocaleString('en-US');
  const rows = stats.map((s) => [
    s.topic,
    fmt(s.records),
    `${fmt(s.start)}..${fmt(s.end)}`,
    formatBytes(s.bytes),
    fmt(s.segments),
    formatTime(s.firstTimestampMs),
    formatTime(s.lastTimestampMs),
    Object.entries(s.consumers)
      .map(([name, offset]) => `${name}@${fmt(offset)}`)
      .join(' ') || '-',
  ]);
  const header = [
    'topic',
    'records',
    'offsets',
    'bytes',
    'segments',
    'first appended',
    'last appended',
    'consumers',
  ];
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => (r[k] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, k) => (k >= 1 && k <= 4 ? c.padStart(widths[k]!) : c.padEnd(widths[k]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function registerLogCommands(program: Command): void {
  const logCommand = program
    .command('log')
    .description('read the event log (opened read-only, so it works while `foryou serve` writes)');
  logCommand
    .command('tail')
    .description('print records as JSON lines: the last 10 by default, or from an offset or a time')
    .option('--topic <name>', 'topic to read', 'events')
    .option('--from <offset>', 'first offset to print', intOption(0))
    .option(
      '--since <time>',
      'start at the first record appended at or after this ISO 8601 time',
      sinceOption,
    )
    .option('--follow', 'keep printing records as they are appended, until Ctrl-C', false)
    .option(
      '--limit <n>',
      'print at most this many records (default without --from/--since: the last 10)',
      intOption(1),
    )
    .action(async (opts: TailOptions, command: Command) => {
      const log = await openEventLog(configOf(command).log, { readOnly: true });
      try {
        await tail(log, opts);
      } finally {
        await log.close();
      }
    });
  logCommand
    .command('stats')
    .description("each topic's offsets, records, bytes, segments, time range and consumers")
    .option('--json', 'one JSON object per topic instead of a table', false)
    .action(async (opts: { json: boolean }, command: Command) => {
      const config = configOf(command);
      const log = await openEventLog(config.log, { readOnly: true });
      try {
        const stats: TopicStats[] = [];
        for (const topic of await log.topics()) stats.push(await log.stats(topic));
        if (opts.json) process.stdout.write(stats.map((s) => `${JSON.stringify(s)}\n`).join(''));
        else if (stats.length === 0) process.stdout.write(`no topics in ${config.log.url}\n`);
        else process.stdout.write(`${formatStats(stats)}\n`);
      } finally {
        await log.close();
      }
    });
}
