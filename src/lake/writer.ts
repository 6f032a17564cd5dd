import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { EventLog } from '../log/port.js';
import { type CompactionOptions, type CompactionResult, compactSession } from './compaction.js';
import { CONVERSIONS, type WrittenFile, writeRejects } from './convert.js';
import type { LakeDuckDbOptions } from './duck.js';
import { LAKE_TOPICS, type LakeTopic } from './layout.js';
import { type LakeManifest, offsetOf } from './manifest.js';
import { publishFiles } from './publish.js';
import { separateRefused } from './refusals.js';
import { LakeSession } from './session.js';
import { TopicStager } from './staging.js';

export interface LakeWriterOptions extends LakeDuckDbOptions {
  /** Write a batch once this many records (all topics together) are staged. Default 500,000. */
  batchRecords?: number;
  /** ... or once the oldest staged record has waited this long. Default 60,000 ms. */
  batchMs?: number;
  /** Records asked of the log per read. Default 10,000. */
  readRecords?: number;
  /**
   * Compact after a commit when some partition has at least this many small files; 0 turns automatic
   * compaction off (`compactLake` still works). Default 8.
   */
  compactMinFiles?: number;
  compactTargetBytes?: number;
  /** Called after every commit, for progress output. */
  onCommit?: (commit: CommitInfo) => void;
}

export interface CommitInfo {
  kind: 'batch' | 'compaction';
  sequence: number;
  /** Records of each topic the commit took from the log (batches). */
  records: Partial<Record<LakeTopic, number>>;
  rejected: number;
  files: number;
  ms: number;
}

export interface WriteSummary {
  batches: number;
  records: number;
  rejected: number;
  compactions: number;
}

interface Batch {
  dir: string;
  stagers: Map<LakeTopic, TopicStager>;
  records: number;
  firstAt: number;
}

const READ_BYTES = 16 << 20;

/**
 * The lake writer: consumes the `events` and `catalog` topics of the log and turns them into the lake's
 * Parquet tables, exactly once across crashes and restarts. It reads from the offsets the manifest records,
 * stages raw payloads as NDJSON, and at a batch boundary converts them with DuckDB, publishes the files and
 * commits them together with the new offsets in one atomic manifest replacement (see docs/lake.md).
 */
export class LakeWriter {
  private readonly cursor = new Map<LakeTopic, number>();
  private batch: Batch | null = null;
  /** The batch being committed, if any. */
  private inflight: Promise<void> | null = null;
  private readonly summary: WriteSummary = { batches: 0, records: 0, rejected: 0, compactions: 0 };
  private readonly options: Required<Omit<LakeWriterOptions, 'onCommit' | 'threads' | 'memoryLimit'>>;

  private constructor(
    private readonly session: LakeSession,
    private readonly log: EventLog,
    private readonly onCommit: (commit: CommitInfo) => void,
    options: LakeWriterOptions,
  ) {
    this.options = {
      batchRecords: options.batchRecords ?? 500_000,
      batchMs: options.batchMs ?? 60_000,
      readRecords: options.readRecords ?? 10_000,
      compactMinFiles: options.compactMinFiles ?? 8,
      compactTargetBytes: options.compactTargetBytes ?? 128 * 1024 * 1024,
    };
    for (const topic of LAKE_TOPICS) this.cursor.set(topic, offsetOf(session.manifest, topic));
  }

  /** Takes the lake's lock, removes what a crashed writer left, and resumes from the manifest's offsets. */
  static async open(dir: string, log: EventLog, options: LakeWriterOptions = {}): Promise<LakeWriter> {
    for (const key of ['batchRecords', 'batchMs', 'readRecords'] as const) {
      const value = options[key];
      if (value !== undefined && !(Number.isFinite(value) && value > 0))
        throw new ForyouError('FY_INVALID_ARGUMENT', `${key} must be a number > 0, got ${value}`);
    }
    const session = await LakeSession.open(dir, options);
    return new LakeWriter(session, log, options.onCommit ?? (() => {}), options);
  }

  get dir(): string {
    return this.session.dir;
  }

  get manifest(): LakeManifest {
    return this.session.manifest;
  }

  /** Files the writer removed on open because no manifest listed them (left by a crash). */
  get orphansRemoved(): readonly string[] {
    return this.session.orphansRemoved;
  }

  /** Writes everything the log holds now, then returns. */
  async runOnce(): Promise<WriteSummary> {
    const targets = new Map<LakeTopic, number>();
    for (const topic of LAKE_TOPICS) targets.set(topic, (await this.log.bounds(topic)).end);
    for (;;) {
      const read = await this.pump(targets);
      if (this.due()) await this.startFlush();
      if (read === 0) break;
    }
    await this.flush();
    return { ...this.summary };
  }

  /** Follows the log until `signal` aborts, writing a batch every `batchRecords` records or `batchMs`. */
  async follow(signal: AbortSignal): Promise<WriteSummary> {
    while (!signal.aborted) {
      const read = await this.pump();
      if (this.due()) await this.startFlush();
      if (read > 0) continue;
      await this.settle();
      const waitMs = this.batch
        ? Math.max(1, this.options.batchMs - (performance.now() - this.batch.firstAt))
        : 1000;
      await this.waitForRecords(Math.min(waitMs, 1000), signal);
    }
    await this.flush();
    return { ...this.summary };
  }

  /** Commits what is staged, then merges small files (see compaction.ts). */
  async compact(options: CompactionOptions = {}): Promise<CompactionResult> {
    await this.flush();
    return this.compactNow(options);
  }

  private async compactNow(options: CompactionOptions): Promise<CompactionResult> {
    const started = performance.now();
    const result = await compactSession(this.session, options);
    if (result.merges > 0) {
      this.summary.compactions++;
      this.onCommit({
        kind: 'compaction',
        sequence: result.sequence,
        records: {},
        rejected: 0,
        files: result.filesOut,
        ms: performance.now() - started,
      });
    }
    return result;
  }

  /** Writes what is staged, then releases the lake. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.session.close();
    }
  }

  private staged(): number {
    return this.batch?.records ?? 0;
  }

  private due(): boolean {
    if (!this.batch) return false;
    return (
      this.batch.records >= this.options.batchRecords ||
      performance.now() - this.batch.firstAt >= this.options.batchMs
    );
  }

  /** Reads one chunk of each topic into the batch; returns how many records it staged. */
  private async pump(targets?: Map<LakeTopic, number>): Promise<number> {
    let total = 0;
    for (const topic of LAKE_TOPICS) {
      const from = this.cursor.get(topic)!;
      const room = this.options.batchRecords - this.staged();
      if (room <= 0) break;
      const limit = targets ? targets.get(topic)! - from : Number.POSITIVE_INFINITY;
      const maxRecords = Math.min(this.options.readRecords, room, limit);
      if (maxRecords <= 0) continue;
      const records = await this.log.read(topic, from, { maxRecords, maxBytes: READ_BYTES });
      if (records.length === 0) continue;
      const batch = await this.openBatch();
      let stager = batch.stagers.get(topic);
      if (!stager) {
        stager = await TopicStager.create(join(batch.dir, `${topic}.ndjson`));
        batch.stagers.set(topic, stager);
      }
      for (const record of records) stager.add(record);
      await stager.drain();
      batch.records += records.length;
      this.cursor.set(topic, records.at(-1)!.offset + 1);
      total += records.length;
    }
    return total;
  }

  private async openBatch(): Promise<Batch> {
    if (!this.batch)
      this.batch = {
        dir: await this.session.scratchDir('batch'),
        stagers: new Map(),
        records: 0,
        firstAt: performance.now(),
      };
    return this.batch;
  }

  private async waitForRecords(timeoutMs: number, signal: AbortSignal): Promise<void> {
    let onAbort = () => {};
    const aborted = new Promise<void>((resolve) => {
      onAbort = resolve;
      signal.addEventListener('abort', onAbort, { once: true });
    });
    await Promise.race([
      aborted,
      ...LAKE_TOPICS.map((topic) => this.log.waitFor(topic, this.cursor.get(topic)!, timeoutMs)),
    ]);
    signal.removeEventListener('abort', onAbort);
  }

  /** Writes what is staged and waits until it is committed. */
  async flush(): Promise<void> {
    await this.startFlush();
    await this.settle();
  }

  /**
   * Starts committing the staged batch and returns while DuckDB converts it, so the writer can read and
   * stage the next batch meanwhile. One batch is in flight at most: the previous one is awaited first (its
   * failure is thrown here), which also keeps commits in offset order.
   */
  private async startFlush(): Promise<void> {
    if (!this.batch) return;
    await this.settle();
    const batch = this.batch;
    this.batch = null;
    const commit = (async () => {
      try {
        await this.commitBatch(batch);
      } catch (error) {
        for (const stager of batch.stagers.values()) await stager.discard();
        throw error;
      } finally {
        await rm(batch.dir, { recursive: true, force: true }).catch(() => {});
      }
      await this.compactIfDue();
    })();
    // Failures are reported by settle(); this only keeps Node from calling the rejection unhandled.
    commit.catch(() => {});
    this.inflight = commit;
  }

  /**
   * Waits for the batch being committed. If it failed, nothing after the last commit is kept: the batch
   * being staged is dropped, the cursors go back to the manifest's offsets, and the error is thrown. The
   * writer can then carry on from the committed state.
   */
  private async settle(): Promise<void> {
    const inflight = this.inflight;
    if (!inflight) return;
    try {
      await inflight;
    } catch (error) {
      const batch = this.batch;
      this.batch = null;
      if (batch) {
        for (const stager of batch.stagers.values()) await stager.discard();
        await rm(batch.dir, { recursive: true, force: true }).catch(() => {});
      }
      for (const topic of LAKE_TOPICS) this.cursor.set(topic, offsetOf(this.session.manifest, topic));
      throw error;
    } finally {
      if (this.inflight === inflight) this.inflight = null;
    }
  }

  private async commitBatch(batch: Batch): Promise<void> {
    const started = performance.now();
    const written: WrittenFile[] = [];
    const rejectLines: string[] = [];
    const records: Partial<Record<LakeTopic, number>> = {};
    const offsets: Partial<Record<LakeTopic, number>> = {};
    for (const [topic, stager] of batch.stagers) {
      await stager.close();
      records[topic] = stager.records;
      offsets[topic] = stager.lastOffset + 1;
      const files = await this.convertTopic(topic, stager, batch.dir, rejectLines);
      written.push(...files);
    }
    if (rejectLines.length > 0) {
      const path = join(batch.dir, 'rejects.ndjson');
      await writeFile(path, `${rejectLines.join('\n')}\n`);
      written.push(...(await writeRejects(this.session.connection, path, join(batch.dir, 'out-rejects'))));
    }
    const files = await publishFiles(this.session.dir, written, this.session.livePaths());
    const next = await this.session.commit({ add: files, offsets });
    const count = Object.values(records).reduce((sum, n) => sum + n, 0);
    this.summary.batches++;
    this.summary.records += count;
    this.summary.rejected += rejectLines.length;
    this.onCommit({
      kind: 'batch',
      sequence: next.sequence,
      records,
      rejected: rejectLines.length,
      files: files.length,
      ms: performance.now() - started,
    });
  }

  /** The fast path, and the slow one when some records cannot be stored (their lines go to `rejects`). */
  private async convertTopic(
    topic: LakeTopic,
    stager: TopicStager,
    batchDir: string,
    rejects: string[],
  ): Promise<WrittenFile[]> {
    const conversion = CONVERSIONS[topic];
    const connection = this.session.connection;
    const fastDir = join(batchDir, `out-${topic}`);
    try {
      const files = await conversion.write(connection, stager.path, fastDir);
      if (files.reduce((sum, f) => sum + f.rows, 0) === stager.records) return files;
    } catch (error) {
      if (!/Invalid Input Error|Conversion Error/.test(String(error))) throw error;
    }
    await rm(fastDir, { recursive: true, force: true });
    const goodPath = join(batchDir, `${topic}.good.ndjson`);
    const { refusals, good } = await separateRefused(connection, conversion, stager.path, goodPath, batchDir);
    for (const r of refusals)
      rejects.push(JSON.stringify({ o: r.offset, topic, reason: r.reason, payload: r.payload }));
    if (good === 0) return [];
    const files = await conversion.write(connection, goodPath, join(batchDir, `out-${topic}-good`));
    const rows = files.reduce((sum, f) => sum + f.rows, 0);
    if (rows !== good)
      throw new ForyouError(
        'FY_INTERNAL',
        `the lake wrote ${rows} of ${good} checked ${topic} records (offsets ${stager.firstOffset}-${stager.lastOffset})`,
      );
    return files;
  }

  private async compactIfDue(): Promise<void> {
    const minFiles = this.options.compactMinFiles;
    if (minFiles <= 0) return;
    await this.compactNow({ minFiles, targetBytes: this.options.compactTargetBytes, maxMerges: 64 });
  }
}
