import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { FileTopic } from './file-topic.js';
import {
  type AppendInput,
  type AppendResult,
  type EventLog,
  type FsyncPolicy,
  type LogRecord,
  NAME_PATTERN,
  type ReadOptions,
  type TopicBounds,
  type TopicStats,
} from './port.js';

export interface FileEventLogOptions {
  /** When appends are acknowledged; see `FsyncPolicy`. Default `always`. */
  fsync?: FsyncPolicy;
  /** fdatasync period under `interval`. Default 100 ms. */
  fsyncIntervalMs?: number;
  /** A segment is sealed and a new one started past this size. Default 64 MiB. */
  segmentBytes?: number;
  /** How many of each topic's newest ids are remembered for duplicate detection. Default 1,000,000. */
  dedupWindow?: number;
  /** Drop the oldest sealed segments while a topic is larger than this. Default: keep everything. */
  retentionBytes?: number | null;
  /** Drop sealed segments whose newest record is older than this. Default: keep everything. */
  retentionMs?: number | null;
  /**
   * Open without taking the writer lock, to read a log another process is writing (`foryou log tail`,
   * a lake writer in its own process). Appends are refused; reads follow the writer's progress.
   */
  readOnly?: boolean;
}

export function checkName(kind: 'topic' | 'consumer', name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `${kind} name ${JSON.stringify(name)} must be 1-64 characters of a-z 0-9 _ - starting with a letter or digit`,
    );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The embedded event log: one folder per topic under `dir`, each a sequence of segment files (see
 * docs/event-log.md). One process writes (it holds `dir/.lock`); others may open read-only.
 */
export class FileEventLog implements EventLog {
  readonly kind = 'file';
  private readonly topicsByName = new Map<string, Promise<FileTopic>>();
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly options: Required<FileEventLogOptions>,
    private readonly lockPath: string | null,
  ) {}

  static async open(dir: string, options: FileEventLogOptions = {}): Promise<FileEventLog> {
    const resolved: Required<FileEventLogOptions> = {
      fsync: options.fsync ?? 'always',
      fsyncIntervalMs: options.fsyncIntervalMs ?? 100,
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      dedupWindow: options.dedupWindow ?? 1_000_000,
      retentionBytes: options.retentionBytes ?? null,
      retentionMs: options.retentionMs ?? null,
      readOnly: options.readOnly ?? false,
    };
    if (resolved.readOnly) return new FileEventLog(dir, resolved, null);
    await mkdir(dir, { recursive: true });
    const lockPath = join(dir, '.lock');
    await FileEventLog.lock(lockPath);
    return new FileEventLog(dir, resolved, lockPath);
  }

  /** Takes the writer lock, replacing a stale one left by a process that no longer exists. */
  private static async lock(lockPath: string): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(lockPath, 'wx');
        await handle.writeFile(String(process.pid));
        await handle.close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const pid = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
        if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || processAlive(pid)))
          throw new ForyouError(
            'FY_LOG_LOCKED',
            `the event log in ${lockPath.slice(0, -6)} is open for writing by process ${pid}`,
            {
              details: { pid, lockPath },
            },
          );
        await rm(lockPath, { force: true });
      }
    }
    throw new ForyouError('FY_LOG_LOCKED', `could not take the lock ${lockPath}`);
  }

  private topic(name: string): Promise<FileTopic> {
    if (this.closed) throw new ForyouError('FY_INVALID_ARGUMENT', `the event log in ${this.dir} is closed`);
    checkName('topic', name);
    let topic = this.topicsByName.get(name);
    if (!topic) {
      topic = FileTopic.open(name, join(this.dir, name), this.options);
      this.topicsByName.set(name, topic);
      topic.catch(() => this.topicsByName.delete(name));
    }
    return topic;
  }

  async append(topic: string, records: readonly AppendInput[]): Promise<AppendResult[]> {
    return (await this.topic(topic)).append(records);
  }

  async read(topic: string, fromOffset: number, options?: ReadOptions): Promise<LogRecord[]> {
    return (await this.topic(topic)).read(fromOffset, options);
  }

  async offsetForTime(topic: string, timestampMs: number): Promise<number> {
    return (await this.topic(topic)).offsetForTime(timestampMs);
  }

  async bounds(topic: string): Promise<TopicBounds> {
    return (await this.topic(topic)).bounds();
  }

  async waitFor(topic: string, offset: number, timeoutMs: number): Promise<boolean> {
    return (await this.topic(topic)).waitFor(offset, timeoutMs);
  }

  async commit(topic: string, consumer: string, offset: number): Promise<void> {
    checkName('consumer', consumer);
    // Allowed read-only too: a consumer's offset file is its own, independent of the writer's segments, so
    // a process following the log (features, lake) records its progress without the writer lock.
    if (!Number.isInteger(offset) || offset < 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `a committed offset must be a whole number >= 0, got ${offset}`,
      );
    const log = await this.topic(topic);
    const { end } = await log.bounds();
    if (offset > end)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `cannot commit offset ${offset} for ${consumer}: topic ${topic} ends at ${end}`,
      );
    await log.consumers.set(consumer, offset);
  }

  async committed(topic: string, consumer: string): Promise<number | null> {
    checkName('consumer', consumer);
    return (await this.topic(topic)).consumers.get(consumer);
  }

  async stats(topic: string): Promise<TopicStats> {
    return (await this.topic(topic)).stats();
  }

  async topics(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const onDisk = names.filter((n) => NAME_PATTERN.test(n));
    return [...new Set([...onDisk, ...this.topicsByName.keys()])].sort();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const topic of this.topicsByName.values()) await (await topic.catch(() => null))?.close();
    this.topicsByName.clear();
    if (this.lockPath) await rm(this.lockPath, { force: true });
  }
}
