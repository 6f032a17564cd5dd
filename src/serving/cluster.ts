import type { Worker } from 'node:cluster';
import { ForyouError } from '../core/errors.js';
import type {
  AppendInput,
  AppendResult,
  EventLog,
  LogRecord,
  ReadOptions,
  TopicBounds,
  TopicStats,
} from '../log/port.js';

/**
 * Serving on several cores with node:cluster. The embedded log has one writer, so the primary process
 * owns it and the workers (which serve HTTP, read the shared LMDB store and memory-map the same ANN
 * index) forward their appends to it over the cluster's IPC channel: `ForwardingEventLog` in a worker,
 * `relayAppends` in the primary. Only appends cross; a worker never reads the log.
 */

interface AppendMessage {
  foryou: 'log-append';
  id: number;
  topic: string;
  /** Payloads in base64, so the message survives the default (JSON) IPC serialisation intact. */
  records: { id: string; payload: string }[];
}

interface AppendReply {
  foryou: 'log-append-result';
  id: number;
  results?: AppendResult[];
  error?: { code?: string; message: string };
}

function isAppendReply(message: unknown): message is AppendReply {
  return (message as { foryou?: unknown } | null)?.foryou === 'log-append-result';
}

/** The worker side: an event log whose appends run in the primary process. */
export class ForwardingEventLog implements EventLog {
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (r: AppendResult[]) => void; reject: (e: Error) => void }
  >();
  private readonly onMessage = (message: unknown) => {
    if (!isAppendReply(message)) return;
    const w = this.waiting.get(message.id);
    if (!w) return;
    this.waiting.delete(message.id);
    if (message.results) w.resolve(message.results);
    else
      w.reject(
        new ForyouError(
          'FY_LOG_UNAVAILABLE',
          `the primary process could not append: ${message.error?.message}`,
        ),
      );
  };

  constructor(
    readonly kind: string,
    private readonly channel: NodeJS.Process = process,
  ) {
    if (!channel.send)
      throw new ForyouError('FY_INVALID_ARGUMENT', 'ForwardingEventLog needs a process with an IPC channel');
    channel.on('message', this.onMessage);
  }

  append(topic: string, records: readonly AppendInput[]): Promise<AppendResult[]> {
    const id = this.next++;
    const message: AppendMessage = {
      foryou: 'log-append',
      id,
      topic,
      records: records.map((r) => ({
        id: r.id,
        payload: Buffer.from(r.payload.buffer, r.payload.byteOffset, r.payload.byteLength).toString('base64'),
      })),
    };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const sent = this.channel.send!(message, undefined, undefined, (error) => {
        if (error) {
          this.waiting.delete(id);
          reject(
            new ForyouError('FY_LOG_UNAVAILABLE', `cannot reach the primary process: ${error.message}`, {
              cause: error,
            }),
          );
        }
      });
      if (!sent && !this.channel.connected) {
        this.waiting.delete(id);
        reject(new ForyouError('FY_LOG_UNAVAILABLE', 'the primary process is gone; appends cannot be made'));
      }
    });
  }

  private unsupported(what: string): never {
    throw new ForyouError(
      'FY_LOG_UNAVAILABLE',
      `${what} is not available in a serving worker: only appends are forwarded to the primary process`,
    );
  }

  read(_topic: string, _fromOffset: number, _options?: ReadOptions): Promise<LogRecord[]> {
    return this.unsupported('reading the log');
  }
  offsetForTime(): Promise<number> {
    return this.unsupported('offsetForTime');
  }
  bounds(): Promise<TopicBounds> {
    return this.unsupported('bounds');
  }
  waitFor(): Promise<boolean> {
    return this.unsupported('waitFor');
  }
  commit(): Promise<void> {
    return this.unsupported('commit');
  }
  committed(): Promise<number | null> {
    return this.unsupported('committed');
  }
  stats(): Promise<TopicStats> {
    return this.unsupported('stats');
  }
  topics(): Promise<string[]> {
    return this.unsupported('topics');
  }

  async close(): Promise<void> {
    this.channel.off('message', this.onMessage);
    for (const w of this.waiting.values())
      w.reject(new ForyouError('FY_LOG_UNAVAILABLE', 'the log was closed'));
    this.waiting.clear();
  }
}

/** The primary side: appends a worker forwards go to `log`, and the result goes back to the worker. */
export function relayAppends(worker: Worker, log: EventLog): void {
  worker.on('message', (message: unknown) => {
    const m = message as Partial<AppendMessage> | null;
    if (m?.foryou !== 'log-append' || typeof m.id !== 'number' || !m.topic || !m.records) return;
    const reply = (body: Omit<AppendReply, 'foryou' | 'id'>) => {
      if (worker.isConnected()) worker.send({ foryou: 'log-append-result', id: m.id, ...body });
    };
    log
      .append(
        m.topic,
        m.records.map((r) => ({ id: r.id, payload: new Uint8Array(Buffer.from(r.payload, 'base64')) })),
      )
      .then(
        (results) => reply({ results }),
        (error: unknown) =>
          reply({
            error: {
              message: error instanceof Error ? error.message : String(error),
              ...(error instanceof ForyouError ? { code: error.code } : {}),
            },
          }),
      );
  });
}

/** The glibc tunable that backs large allocations with transparent huge pages (glibc 2.35 and later). */
const HUGE_PAGES_TUNABLE = 'glibc.malloc.hugetlb';

/**
 * The environment of a forked worker: the primary's, with `glibc.malloc.hugetlb=1` added to
 * `GLIBC_TUNABLES` unless the operator set that tunable (set it to 0 to turn this off). glibc then asks
 * for transparent huge pages for its large allocations, among them the serving bundle's arrays, which
 * are read into memory. A request walks about 1,300 random rows of them; with 2 MB pages it needs far
 * fewer page-table entries, and on a host that samples page accesses (DAMON) it recovers faster from each
 * sample (docs/serving.md, fifth round). The ANN index and the LMDB store are file mappings, which this
 * does not change. glibc reads tunables at start, so only a new process gets them.
 */
export function workerEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const tunables = env.GLIBC_TUNABLES ?? '';
  if (tunables.split(':').some((t) => t.split('=')[0] === HUGE_PAGES_TUNABLE)) return { ...env };
  return {
    ...env,
    GLIBC_TUNABLES: tunables ? `${tunables}:${HUGE_PAGES_TUNABLE}=1` : `${HUGE_PAGES_TUNABLE}=1`,
  };
}

/** Initial old-generation size of a worker's V8 heap, in MB (see `workerExecArgv`). */
export const WORKER_OLD_SPACE_MB = 512;
const OLD_SPACE_FLAG = '--initial-old-space-size';

/**
 * The Node flags of a forked worker: the primary's, with `--initial-old-space-size=512` added unless the
 * operator gave that flag. A worker keeps about 27 MB live but promotes about 13 MB a second at 100
 * requests/s; V8 then settled its old-generation limit near 44 MB and ran a full collection every 1.3-2 s,
 * with pauses and marking steps of up to 16 ms, the p99 of a loaded worker. Started with room for 512 MB,
 * the same work collected every 35 s (at about 235 MB) in an 80-second run at 200 requests/s
 * (docs/serving.md). Like a JVM's -Xms, it trades memory that is mostly garbage for fewer pauses.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv): string[] {
  if (execArgv.some((a) => a === OLD_SPACE_FLAG || a.startsWith(`${OLD_SPACE_FLAG}=`))) return [...execArgv];
  return [...execArgv, `${OLD_SPACE_FLAG}=${WORKER_OLD_SPACE_MB}`];
}
