import { type Command, InvalidArgumentError } from 'commander';
import { ForyouError } from '../../core/errors.js';
import { IngestClient, type IngestEndpoint, type SendResult } from '../../ingest/ingest-client.js';
import { WorldFolder } from '../../io/world-folder.js';
import { intOption } from '../program.js';
import { startProgress } from '../progress.js';

export interface ReplayTotals {
  accepted: number;
  duplicates: number;
  /** Duplicates answered to a re-sent request: most likely stored by the attempt whose answer was lost. */
  duplicatesOnRetry: number;
  rejected: number;
  requests: number;
  retriedRequests: number;
  /** The first few rejection reasons, "events[12] watch_ms: must be >= 0". */
  rejections: string[];
}

interface ReplayOptions {
  world: string;
  url: string;
  batch: number;
  concurrency: number;
  attempts: number;
  quiet: boolean;
}

function urlOption(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected a URL like http://127.0.0.1:8080, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`expected an http:// or https:// URL, got "${value}"`);
  return value;
}

/**
 * Sends `records` in batches of `batchSize`, keeping up to `concurrency` requests in flight, in the order
 * the records come (batches may complete out of order). Resolves when every batch is answered.
 */
async function pump(
  records: AsyncIterable<unknown>,
  batchSize: number,
  concurrency: number,
  send: (batch: unknown[]) => Promise<void>,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  const launch = (batch: unknown[]) => {
    const p: Promise<void> = send(batch).then(
      () => {
        inFlight.delete(p);
      },
      (error) => {
        inFlight.delete(p);
        failure ??= error;
      },
    );
    inFlight.add(p);
  };
  let batch: unknown[] = [];
  for await (const record of records) {
    batch.push(record);
    if (batch.length < batchSize) continue;
    launch(batch);
    batch = [];
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failure) break;
  }
  if (batch.length > 0 && !failure) launch(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
}

export function registerReplayCommand(program: Command): void {
  const sim = program.commands.find((c) => c.name() === 'sim') ?? program.command('sim');
  sim
    .command('replay')
    .description(
      "push a world's users, items and event history through a running ingest API (catalogue first, then events in time order)",
    )
    .requiredOption('--world <dir>', 'world folder written by `foryou sim generate` (JSON lines)')
    .requiredOption('--url <url>', 'base URL of `foryou serve`, e.g. http://127.0.0.1:8080', urlOption)
    .option('--batch <n>', 'records per request', intOption(1, 100_000), 1000)
    .option('--concurrency <n>', 'requests in flight at once', intOption(1, 256), 4)
    .option(
      '--attempts <n>',
      'tries per request before giving up (a failed request is re-sent unchanged)',
      intOption(1, 100),
      8,
    )
    .option('--quiet', 'no progress bar', false)
    .action(async (opts: ReplayOptions) => {
      const world = await WorldFolder.open(opts.world);
      const counts = world.manifest.counts;
      const total = counts.users + counts.items + counts.events;
      const client = new IngestClient({ url: opts.url, attempts: opts.attempts });
      const totals: ReplayTotals = {
        accepted: 0,
        duplicates: 0,
        duplicatesOnRetry: 0,
        rejected: 0,
        requests: 0,
        retriedRequests: 0,
        rejections: [],
      };
      const bar = startProgress({
        label: 'replaying',
        total,
        unit: 'records',
        extra: '{rate} records/s',
        payload: { rate: '0' },
        quiet: opts.quiet,
      });
      const started = performance.now();
      let done = 0;
      const record = (endpoint: IngestEndpoint, result: SendResult, size: number) => {
        totals.requests++;
        totals.accepted += result.accepted;
        totals.duplicates += result.duplicates;
        totals.rejected += result.rejected;
        if (result.attempts > 1) {
          totals.retriedRequests++;
          totals.duplicatesOnRetry += result.duplicates;
        }
        for (const n of result.not_accepted) {
          if (n.status === 'rejected' && totals.rejections.length < 5)
            totals.rejections.push(`${endpoint} batch ${totals.requests}, [${n.index}] ${n.reason}`);
        }
        done += size;
        const seconds = (performance.now() - started) / 1000;
        bar.update(done, { rate: Math.round(done / Math.max(seconds, 1e-3)).toLocaleString('en-US') });
      };
      const phases: [IngestEndpoint, AsyncIterable<unknown>][] = [
        ['users', world.records('users')],
        ['items', world.records('items')],
        ['events', world.records('events')],
      ];
      let eventsStarted = 0;
      try {
        for (const [endpoint, records] of phases) {
          if (endpoint === 'events') eventsStarted = performance.now();
          await pump(records, opts.batch, opts.concurrency, async (batch) => {
            record(endpoint, await client.send(endpoint, batch), batch.length);
          });
        }
      } finally {
        bar.stop();
      }
      const ended = performance.now();
      const eventSeconds = (ended - eventsStarted) / 1000;
      const fmt = (n: number) => n.toLocaleString('en-US');
      process.stdout.write(
        `replayed ${fmt(counts.users)} users, ${fmt(counts.items)} items and ${fmt(counts.events)} events ` +
          `to ${opts.url} in ${((ended - started) / 1000).toFixed(1)} s (${fmt(totals.requests)} requests, ` +
          `${fmt(totals.retriedRequests)} retried)\n` +
          `accepted ${fmt(totals.accepted)}, duplicates ${fmt(totals.duplicates)}` +
          (totals.duplicatesOnRetry > 0 ? ` (${fmt(totals.duplicatesOnRetry)} on retried requests)` : '') +
          `, rejected ${fmt(totals.rejected)}\n` +
          `events: ${fmt(Math.round(counts.events / Math.max(eventSeconds, 1e-3)))} events/s\n`,
      );
      if (totals.rejected > 0)
        throw new ForyouError(
          'FY_BATCH_PARTLY_REJECTED',
          `${fmt(totals.rejected)} records were rejected, e.g. ${totals.rejections.join('; ')}`,
          { details: { rejected: totals.rejected } },
        );
    });
}
