/**
 * The ingest API end to end (src/ingest on src/http and the embedded log): events per second for batches
 * of 1,000 valid events POSTed as JSON arrays, each answered only after its append is durable.
 *
 * - ingest.events.interval / ingest.events.always: events/s under the log's `interval` and `always` fsync
 *   policies, against the same fastify app's empty handler (POST with no body, answered `{}`) measured on
 *   the same server in the same run, as requests/s x 1,000: what the events/s would be if a batch cost no
 *   more than an empty request. Both with a closed loop of N requests in flight over keep-alive sockets.
 * - ingest.batch-p99.interval / .always: p99 latency of one batch against the empty request's p99.
 * - ingest.pipeline: the same work in process, without HTTP (parse, validate, serialise, append under
 *   `interval`), against JSON.parse of the same bodies alone; the notes split the time by stage.
 * - ingest.validate: validation plus canonical JSON of 1,000 parsed events by the fast path, against
 *   EventSchema.safeParse then JSON.stringify (the measurement behind the fast path).
 *
 * The server runs in a child process (this script with --serve) so the load generator has its own core.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildServerApp } from '../src/cli/commands/serve.js';
import { loadConfig } from '../src/core/config.js';
import { Rng } from '../src/core/rng.js';
import { EventSchema } from '../src/core/schema/event.js';
import { parseBatchBody } from '../src/ingest/batch-body.js';
import { EVENT_KIND, type LogEntry } from '../src/ingest/record-kinds.js';
import { FileEventLog } from '../src/log/file-log.js';
import { openEventLog } from '../src/log/open.js';
import type { AppendInput, FsyncPolicy } from '../src/log/port.js';
import { benchArgs, formatNumber, measureEach, percentile, report } from './harness/index.js';

const BATCH = 1000;
const ID_DIGITS = 8;
/** The default window (1,000,000 ids): runs fill it, so the figures include eviction. */
const DEDUP_WINDOW = 1_000_000;

// ---------------------------------------------------------------------------------------------- server

async function serve(fsync: FsyncPolicy, dir: string): Promise<void> {
  const config = loadConfig({
    env: {},
    overrides: { logLevel: 'warn', log: { url: pathToFileURL(dir).href, fsync, dedupWindow: DEDUP_WINDOW } },
  });
  const log = await openEventLog(config.log);
  const app = await buildServerApp(config, log);
  app.post('/bench/empty', async () => ({}));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.stdout.write(`PORT ${typeof address === 'object' && address ? address.port : 0}\n`);
  process.once('SIGTERM', () => {
    void app
      .close()
      .then(() => log.close())
      .then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------------------- bodies

/**
 * A batch of 1,000 sim-like events as JSON whose event ids all start with ID_DIGITS zeros; `stamp` writes
 * a batch number over those digits, so every request carries new ids at the cost of one copy.
 */
function batchTemplate(seed: number): { template: Buffer; idAt: number[] } {
  const rng = new Rng(seed);
  let text = '[';
  const idAt: number[] = [];
  let ts = Date.UTC(2026, 0, 5);
  for (let k = 0; k < BATCH; k++) {
    if (k > 0) text += ',';
    ts += rng.int(3000);
    const user = `u${rng.int(1_000_000)}`;
    const item = `v${rng.int(1_000_000)}`;
    const request = `r${rng.int(1e9).toString(36)}`;
    text += '{"event_id":"';
    idAt.push(text.length);
    text += `${'0'.repeat(ID_DIGITS)}-${k}"`;
    const roll = rng.float();
    if (roll < 0.4)
      text += `,"type":"impression","user_id":"${user}","ts":${ts},"item_id":"${item}","request_id":"${request}","position":${rng.int(20)}}`;
    else if (roll < 0.8)
      text += `,"type":"play","user_id":"${user}","ts":${ts},"item_id":"${item}","request_id":"${request}","watch_ms":${rng.int(60_000)},"duration_ms":${1 + rng.int(120_000)}}`;
    else if (roll < 0.95)
      text += `,"type":"skip","user_id":"${user}","ts":${ts},"item_id":"${item}","request_id":"${request}","watch_ms":${rng.int(5000)}}`;
    else text += `,"type":"like","user_id":"${user}","ts":${ts},"item_id":"${item}"}`;
  }
  text += ']';
  return { template: Buffer.from(text, 'latin1'), idAt };
}

function stamp(body: { template: Buffer; idAt: number[] }, batchNo: number): Buffer {
  const out = Buffer.from(body.template);
  const digits = String(batchNo).padStart(ID_DIGITS, '0');
  for (const at of body.idAt) out.write(digits, at, 'latin1');
  return out;
}

// ---------------------------------------------------------------------------------------------- load

interface LoadResult {
  ok: number;
  errors: number;
  firstError?: string;
  seconds: number;
  latenciesMs: number[];
}

function post(agent: http.Agent, port: number, path: string, body: Buffer | null): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {},
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          text += chunk;
        });
        response.on('end', () => resolve([response.statusCode ?? 0, text]));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}

/** Keeps `concurrency` requests in flight for `durationMs` (after `warmupMs` unrecorded); a closed loop. */
async function closedLoop(options: {
  port: number;
  path: string;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  body: () => Buffer | null;
  check: (status: number, text: string) => boolean;
}): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: LoadResult = { ok: 0, errors: 0, seconds: 0, latenciesMs: [] };
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const worker = async () => {
    for (;;) {
      const body = options.body();
      const sent = performance.now();
      if (sent >= end) return;
      let good = false;
      try {
        const [status, text] = await post(agent, options.port, options.path, body);
        good = options.check(status, text);
        if (!good) result.firstError ??= `HTTP ${status}: ${text.slice(0, 200)}`;
      } catch (error) {
        result.firstError ??= (error as Error).message;
      }
      const done = performance.now();
      if (sent < measureFrom || done > end) continue;
      if (good) {
        result.ok++;
        result.latenciesMs.push(done - sent);
      } else result.errors++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  result.seconds = options.durationMs / 1000;
  agent.destroy();
  return result;
}

// ---------------------------------------------------------------------------------------------- runs

const script = fileURLToPath(import.meta.url);

async function startChild(fsync: FsyncPolicy, dir: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, '--serve', fsync, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
    lines.on('line', (line) => {
      if (line.startsWith('PORT ')) resolve(Number(line.slice(5)));
    });
  });
  return { child, port };
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

interface PolicyRun {
  fsync: FsyncPolicy;
  ingest: LoadResult;
  empty: LoadResult;
}

async function runPolicy(fsync: FsyncPolicy, params: RunParams, firstBatch: number): Promise<PolicyRun> {
  const dir = mkdtempSync(join(tmpdir(), `foryou-bench-ingest-${fsync}-`));
  const { child, port } = await startChild(fsync, dir);
  try {
    const body = batchTemplate(7);
    let batchNo = firstBatch;
    const common = { port, warmupMs: params.warmupMs, durationMs: params.durationMs };
    const empty = await closedLoop({
      ...common,
      path: '/bench/empty',
      concurrency: params.emptyConcurrency,
      body: () => null,
      check: (status) => status === 200,
    });
    const ingest = await closedLoop({
      ...common,
      path: '/v1/events',
      concurrency: params.concurrency,
      body: () => stamp(body, batchNo++),
      check: (status, text) => status === 200 && text.startsWith(`{"accepted":${BATCH},`),
    });
    return { fsync, ingest, empty };
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface StageTimes {
  parse: number;
  validate: number;
  buffers: number;
  append: number;
  jsonParse: number;
  batches: number;
}

/** The ingest work without HTTP, stage by stage, on bodies like the ones sent over HTTP. */
async function pipeline(batches: number): Promise<StageTimes> {
  const dir = mkdtempSync(join(tmpdir(), 'foryou-bench-pipeline-'));
  const log = await FileEventLog.open(dir, { fsync: 'interval', dedupWindow: DEDUP_WINDOW });
  const body = batchTemplate(11);
  const times: StageTimes = { parse: 0, validate: 0, buffers: 0, append: 0, jsonParse: 0, batches: 0 };
  try {
    const warmup = Math.max(20, batches / 5);
    for (let b = 0; b < warmup + batches; b++) {
      const bytes = stamp(body, b);
      const t0 = performance.now();
      JSON.parse(bytes.toString('utf8'));
      const t1 = performance.now();
      const parsed = parseBatchBody(bytes, 'json', 10_000);
      const t2 = performance.now();
      const entries: LogEntry[] = [];
      for (const value of parsed.values) {
        const entry = EVENT_KIND.fastEntry!(value) ?? EVENT_KIND.entry(EventSchema.parse(value));
        entries.push(entry);
      }
      const t3 = performance.now();
      const inputs: AppendInput[] = entries.map((e) => ({ id: e.id, payload: Buffer.from(e.json, 'utf8') }));
      const t4 = performance.now();
      await log.append('events', inputs);
      const t5 = performance.now();
      if (b < warmup) continue;
      times.jsonParse += t1 - t0;
      times.parse += t2 - t1;
      times.validate += t3 - t2;
      times.buffers += t4 - t3;
      times.append += t5 - t4;
      times.batches++;
    }
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

/** Validation and canonical JSON of 1,000 parsed events: the fast path against zod then JSON.stringify. */
async function validators(minTimeMs: number) {
  const values = JSON.parse(batchTemplate(13).template.toString('utf8')) as unknown[];
  return measureEach(
    {
      fast: () => {
        let bytes = 0;
        for (const value of values) bytes += EVENT_KIND.fastEntry!(value)!.json.length;
        return bytes;
      },
      zod: () => {
        let bytes = 0;
        for (const value of values) {
          const parsed = EventSchema.safeParse(value);
          if (parsed.success) bytes += EVENT_KIND.entry(parsed.data).json.length;
        }
        return bytes;
      },
    },
    { warmupMs: 300, minTimeMs, runs: 30, items: BATCH },
  );
}

interface RunParams {
  warmupMs: number;
  durationMs: number;
  concurrency: number;
  emptyConcurrency: number;
}

async function main(): Promise<void> {
  const { size } = benchArgs();
  const params: RunParams = {
    warmupMs: size(2000, 300),
    durationMs: size(10_000, 1000),
    concurrency: 8,
    emptyConcurrency: 32,
  };
  const runs: PolicyRun[] = [];
  for (const [k, fsync] of (['interval', 'always'] as const).entries())
    runs.push(await runPolicy(fsync, params, k * 10_000_000));

  for (const run of runs) {
    const eventsPerSec = (run.ingest.ok * BATCH) / run.ingest.seconds;
    const emptyPerSec = run.empty.ok / run.empty.seconds;
    const p = (r: LoadResult, q: number) => percentile(r.latenciesMs, q);
    if (run.ingest.errors > 0 || run.ingest.ok === 0)
      throw new Error(
        `ingest under ${run.fsync}: ${run.ingest.errors} failed, first: ${run.ingest.firstError}`,
      );
    const shared = {
      fsync: run.fsync,
      batch: BATCH,
      concurrency: params.concurrency,
      emptyConcurrency: params.emptyConcurrency,
      durationMs: params.durationMs,
    };
    report({
      name: `ingest.events.${run.fsync}`,
      unit: 'events/s',
      value: eventsPerSec,
      baseline: emptyPerSec * BATCH,
      baselineName: 'empty handler of the same app, requests/s x 1,000',
      better: 'higher',
      params: shared,
      notes:
        `${formatNumber(run.ingest.ok / run.ingest.seconds)} batches/s, p50 ${p(run.ingest, 50).toFixed(1)} ms, ` +
        `p99 ${p(run.ingest, 99).toFixed(1)} ms; empty handler ${formatNumber(emptyPerSec)} requests/s, ` +
        `p50 ${p(run.empty, 50).toFixed(2)} ms, p99 ${p(run.empty, 99).toFixed(2)} ms; closed loop, server in a child process`,
    });
    report({
      name: `ingest.batch-p99.${run.fsync}`,
      unit: 'ms',
      value: p(run.ingest, 99),
      baseline: p(run.empty, 99),
      baselineName: 'empty request p99, same app',
      better: 'lower',
      params: shared,
      notes: `p50 ${p(run.ingest, 50).toFixed(2)} ms vs ${p(run.empty, 50).toFixed(2)} ms; ${run.ingest.ok} batches`,
    });
  }

  const t = await pipeline(size(400, 40));
  const perEventUs = (ms: number) => ((ms / t.batches / BATCH) * 1000).toFixed(2);
  const total = t.parse + t.validate + t.buffers + t.append;
  report({
    name: 'ingest.pipeline',
    unit: 'events/s',
    value: (t.batches * BATCH) / (total / 1000),
    baseline: (t.batches * BATCH) / (t.jsonParse / 1000),
    baselineName: 'JSON.parse of the same bodies alone',
    better: 'higher',
    params: { batch: BATCH, batches: t.batches, fsync: 'interval' },
    notes:
      `µs per event: parse ${perEventUs(t.parse)}, validate + canonical JSON ${perEventUs(t.validate)}, ` +
      `payload buffers ${perEventUs(t.buffers)}, log append ${perEventUs(t.append)}; in process, no HTTP`,
  });

  const v = await validators(size(2000, 200));
  report({
    name: 'ingest.validate',
    unit: 'events/s',
    value: v.fast.itemsPerSec,
    baseline: v.zod.itemsPerSec,
    baselineName: 'EventSchema.safeParse then JSON.stringify',
    better: 'higher',
    params: { batch: BATCH },
    notes: `validation and canonical JSON of parsed events; median of ${v.fast.runs} runs, interleaved`,
  });
}

if (process.argv[2] === '--serve') await serve(process.argv[3] as FsyncPolicy, process.argv[4] as string);
else await main();
