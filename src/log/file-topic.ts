import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { ConsumerOffsets } from './consumer-offsets.js';
import { DedupWindow } from './dedup-window.js';
import { encodeFrame, frameBytes, MAX_ID_BYTES } from './frame.js';
import type { AppendInput, AppendResult, FsyncPolicy, LogRecord, ReadOptions, TopicStats } from './port.js';
import { Segment } from './segment.js';

export interface TopicLogOptions {
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  segmentBytes: number;
  dedupWindow: number;
  retentionBytes: number | null;
  retentionMs: number | null;
  readOnly: boolean;
}

const CHUNK_BYTES = 1 << 20;
/** Written chunk buffers kept for reuse. */
const SPARE_CHUNKS = 4;

/** Frames encoded for one segment, waiting to be written. `notes` holds (position, length, timestamp) triples. */
interface PendingChunk {
  /** Base offset of the segment the frames belong to. */
  base: number;
  buffer: Buffer;
  used: number;
  notes: number[];
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * One topic of the embedded log: a folder of segment files. Appends are encoded at once (offsets, dedup),
 * queued, and written by a single writer loop that takes everything queued since its last write in one go:
 * group commit. Under `always` every write is followed by fdatasync before the appends it carried resolve.
 */
export class FileTopic {
  private segments: Segment[] = [];
  /** Next offset to hand out (includes queued records). */
  private assignedEnd = 0;
  /** One past the last record written to the OS (what readers see). */
  private visibleEnd = 0;
  /** Bytes the segment being encoded into will have once the queue is written. */
  private activeBytes = 0;
  /** Base offset of the segment being encoded into (ahead of the active segment after a queued roll). */
  private encodeBase = 0;
  private lastTimestampMs = 0;
  private readonly dedup: DedupWindow;
  private queue: PendingChunk[] = [];
  /**
   * Buffers of written chunks, reused: an append that finds no queued chunk with room (every append on a
   * quiet topic) would otherwise take a fresh megabyte outside the heap, and V8 answers that much external
   * memory with a full collection every few hundred appends (measured: one every 150-200 ms in a serving
   * primary relaying impressions, about a millisecond of CPU per feed request).
   */
  private readonly spare: Buffer[] = [];
  private nextFlush: Deferred | null = null;
  /** The write being carried out, if any. */
  private inFlight: Deferred | null = null;
  private writing = false;
  private failure: unknown = null;
  private readonly waiters = new Set<{
    offset: number;
    resolve: (ok: boolean) => void;
    timer: NodeJS.Timeout;
  }>();
  private syncTimer: NodeJS.Timeout | null = null;
  private unsyncedWrites = false;
  private lastRefreshMs = 0;
  readonly consumers: ConsumerOffsets;

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly options: TopicLogOptions,
  ) {
    this.dedup = new DedupWindow(options.dedupWindow);
    this.consumers = new ConsumerOffsets(join(dir, 'consumers'));
  }

  static async open(name: string, dir: string, options: TopicLogOptions): Promise<FileTopic> {
    const topic = new FileTopic(name, dir, options);
    if (!options.readOnly) await mkdir(dir, { recursive: true });
    await topic.load();
    if (!options.readOnly && options.fsync === 'interval') {
      topic.syncTimer = setInterval(() => void topic.syncNow(), options.fsyncIntervalMs);
      topic.syncTimer.unref();
    }
    return topic;
  }

  private async segmentBases(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((n) => /^\d{20}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
  }

  private async load(): Promise<void> {
    const bases = await this.segmentBases();
    const writable = !this.options.readOnly;
    for (let k = 0; k < bases.length; k++) {
      const last = k === bases.length - 1;
      const segment = await Segment.open(this.dir, bases[k]!, {
        writable: writable && last,
        sealed: !last,
        truncateTornTail: writable && last,
      });
      if (k > 0 && segment.baseOffset !== this.segments[k - 1]!.endOffset)
        throw new ForyouError(
          'FY_LOG_CORRUPT',
          `segment ${segment.path} starts at ${segment.baseOffset} but the one before ends at ${this.segments[k - 1]!.endOffset}`,
        );
      this.segments.push(segment);
    }
    if (this.segments.length === 0 && writable) this.segments.push(await this.createSegment(0));
    const active = this.segments.at(-1);
    this.assignedEnd = active?.endOffset ?? 0;
    this.visibleEnd = this.assignedEnd;
    this.activeBytes = active?.size ?? 0;
    this.encodeBase = active?.baseOffset ?? 0;
    this.lastTimestampMs = active?.lastTimestampMs ?? 0;
    if (writable) await this.rebuildDedup();
  }

  private async createSegment(baseOffset: number): Promise<Segment> {
    const segment = await Segment.create(this.dir, baseOffset);
    if (this.options.fsync !== 'never') await fsyncDir(this.dir);
    return segment;
  }

  /** Reloads the ids of the newest records so duplicates are still caught after a restart. */
  private async rebuildDedup(): Promise<void> {
    const from = Math.max(this.start, this.visibleEnd - this.options.dedupWindow);
    for (let offset = from; offset < this.visibleEnd; ) {
      const batch = await this.read(offset, { maxRecords: 50_000, maxBytes: 64 << 20 });
      if (batch.length === 0) break;
      for (const record of batch) this.dedup.add(record.id, record.offset);
      offset = batch.at(-1)!.offset + 1;
    }
  }

  get start(): number {
    return this.segments[0]?.baseOffset ?? 0;
  }

  get end(): number {
    return this.visibleEnd;
  }

  append(inputs: readonly AppendInput[]): Promise<AppendResult[]> {
    if (this.options.readOnly)
      throw new ForyouError('FY_INVALID_ARGUMENT', `topic ${this.name} is open read-only`);
    if (this.failure) return Promise.reject(this.failure);
    for (const input of inputs) {
      if (typeof input.id !== 'string' || input.id.length === 0)
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `every record needs a non-empty id (topic ${this.name})`,
        );
    }
    const results: AppendResult[] = new Array(inputs.length);
    const now = Date.now();
    const timestampMs = Math.max(now, this.lastTimestampMs);
    this.lastTimestampMs = timestampMs;
    for (let k = 0; k < inputs.length; k++) {
      const { id, payload } = inputs[k]!;
      const original = this.dedup.get(id);
      if (original !== undefined) {
        results[k] = { offset: original, duplicate: true };
        continue;
      }
      const idBytes = Buffer.byteLength(id, 'utf8');
      if (idBytes > MAX_ID_BYTES)
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `record id of ${idBytes} bytes is over the ${MAX_ID_BYTES}-byte limit`,
        );
      const length = frameBytes(idBytes, payload.length);
      if (this.activeBytes > 0 && this.activeBytes + length > this.options.segmentBytes) {
        // Roll: frames from here on go to a new segment starting at this offset; the writer creates it.
        this.encodeBase = this.assignedEnd;
        this.activeBytes = 0;
      }
      const chunk = this.chunkFor(length);
      const position = this.activeBytes;
      encodeFrame(chunk.buffer, chunk.used, timestampMs, id, idBytes, payload);
      chunk.used += length;
      chunk.notes.push(position, length, timestampMs);
      this.activeBytes += length;
      const offset = this.assignedEnd++;
      this.dedup.add(id, offset);
      results[k] = { offset, duplicate: false };
    }
    return this.flushSoon().then(() => results);
  }

  private activeSegment(): Segment {
    return this.segments.at(-1)!;
  }

  /** The chunk to encode the next frame into: the last queued one if it is for the same segment and has room. */
  private chunkFor(length: number): PendingChunk {
    const last = this.queue.at(-1);
    if (last && last.base === this.encodeBase && last.buffer.length - last.used >= length) return last;
    const reuse = this.spare.length > 0 && this.spare.at(-1)!.length >= length ? this.spare.pop()! : null;
    const chunk = {
      base: this.encodeBase,
      buffer: reuse ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, length)),
      used: 0,
      notes: [],
    };
    this.queue.push(chunk);
    return chunk;
  }

  private flushSoon(): Promise<void> {
    // Nothing new queued (say, only duplicates): wait for the write in flight, if any, which holds
    // every record appended before this call.
    if (this.queue.length === 0) return this.inFlight?.promise ?? Promise.resolve();
    if (!this.nextFlush) this.nextFlush = deferred();
    const flush = this.nextFlush.promise;
    if (!this.writing) void this.writeLoop();
    return flush;
  }

  /** Writes everything queued, in order, until the queue is empty; one write (and sync) per segment per turn. */
  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const chunks = this.queue;
        const done = this.nextFlush!;
        this.queue = [];
        this.nextFlush = null;
        this.inFlight = done;
        try {
          await this.writeChunks(chunks);
          for (const chunk of chunks)
            if (this.spare.length < SPARE_CHUNKS && chunk.buffer.length === CHUNK_BYTES)
              this.spare.push(chunk.buffer);
          this.inFlight = null;
          done.resolve();
        } catch (error) {
          this.failure = new ForyouError(
            'FY_IO_FAILED',
            `cannot write topic ${this.name} in ${this.dir}: ${(error as Error).message}`,
            { cause: error },
          );
          done.reject(this.failure);
          const waiting = this.nextFlush as Deferred | null;
          waiting?.reject(this.failure);
          this.nextFlush = null;
          this.queue = [];
          return;
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeChunks(chunks: PendingChunk[]): Promise<void> {
    let k = 0;
    while (k < chunks.length) {
      const base = chunks[k]!.base;
      const segment =
        base === this.activeSegment().baseOffset ? this.activeSegment() : await this.rollTo(base);
      const group: PendingChunk[] = [];
      while (k < chunks.length && chunks[k]!.base === base) group.push(chunks[k++]!);
      const buffers = group.map((c) => c.buffer.subarray(0, c.used));
      let position = segment.size;
      for (const buffer of buffers) {
        let written = 0;
        while (written < buffer.length)
          written += (
            await segment.handle.write(buffer, written, buffer.length - written, position + written)
          ).bytesWritten;
        position += buffer.length;
      }
      if (this.options.fsync === 'always') await segment.handle.datasync();
      else this.unsyncedWrites = true;
      for (const chunk of group) {
        const notes = chunk.notes;
        for (let n = 0; n < notes.length; n += 3) segment.noteAppend(notes[n]!, notes[n + 1]!, notes[n + 2]!);
        this.visibleEnd += notes.length / 3;
      }
      this.wakeWaiters();
    }
  }

  /** Seals the active segment (sync + index file) and starts a new one at `base`. */
  private async rollTo(base: number): Promise<Segment> {
    const previous = this.activeSegment();
    if (base !== previous.endOffset)
      throw new ForyouError(
        'FY_INTERNAL',
        `segment roll of topic ${this.name} to ${base} does not follow ${previous.endOffset}`,
      );
    await previous.handle.datasync();
    previous.sealed = true;
    await previous.writeIndex();
    const segment = await this.createSegment(base);
    this.segments.push(segment);
    await this.applyRetention();
    return segment;
  }

  private async syncNow(): Promise<void> {
    if (!this.unsyncedWrites || this.failure) return;
    this.unsyncedWrites = false;
    try {
      await this.activeSegment().handle.datasync();
    } catch (error) {
      this.failure = new ForyouError(
        'FY_IO_FAILED',
        `cannot sync topic ${this.name}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private wakeWaiters(): void {
    for (const waiter of this.waiters) {
      if (waiter.offset < this.visibleEnd) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }

  /** Drops whole sealed segments that are past the size or age limit. */
  async applyRetention(nowMs = Date.now()): Promise<void> {
    const { retentionBytes, retentionMs } = this.options;
    if (retentionBytes === null && retentionMs === null) return;
    let total = this.segments.reduce((sum, s) => sum + s.size, 0);
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const tooBig = retentionBytes !== null && total > retentionBytes;
      const tooOld =
        retentionMs !== null &&
        oldest.lastTimestampMs !== null &&
        oldest.lastTimestampMs < nowMs - retentionMs;
      if (!tooBig && !tooOld) break;
      this.segments.shift();
      total -= oldest.size;
      await oldest.close();
      await rm(oldest.path, { force: true });
      await rm(oldest.indexPath, { force: true });
    }
  }

  /** Picks up records another process appended (read-only openers only). */
  private async refresh(): Promise<void> {
    if (!this.options.readOnly) return;
    const now = Date.now();
    if (now - this.lastRefreshMs < 10) return;
    this.lastRefreshMs = now;
    const bases = await this.segmentBases();
    while (this.segments.length > 0 && !bases.includes(this.segments[0]!.baseOffset))
      await this.segments.shift()!.close();
    for (const base of bases) {
      if (this.segments.some((s) => s.baseOffset === base)) continue;
      if (this.segments.length > 0 && base < this.segments.at(-1)!.baseOffset) continue;
      this.segments.push(
        await Segment.open(this.dir, base, { writable: false, sealed: false, truncateTornTail: false }),
      );
    }
    for (const segment of this.segments) {
      const size = (await segment.handle.stat()).size;
      if (size > segment.size) await segment.scanFrom(segment.size, segment.count, size);
    }
    this.visibleEnd = this.segments.at(-1)?.endOffset ?? 0;
  }

  private checkOffset(offset: number): void {
    if (!Number.isInteger(offset) || offset < 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', `offset must be a whole number >= 0, got ${offset}`);
  }

  async read(fromOffset: number, options: ReadOptions = {}): Promise<LogRecord[]> {
    this.checkOffset(fromOffset);
    await this.refresh();
    if (fromOffset < this.start)
      throw new ForyouError(
        'FY_LOG_OFFSET_OUT_OF_RANGE',
        `topic ${this.name} starts at offset ${this.start} (older records were removed by retention); asked for ${fromOffset}`,
        {
          details: { topic: this.name, start: this.start, requested: fromOffset },
        },
      );
    const maxRecords = options.maxRecords ?? 1000;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const out: LogRecord[] = [];
    let offset = fromOffset;
    let index = this.segmentIndexFor(offset);
    while (
      index >= 0 &&
      index < this.segments.length &&
      out.length < maxRecords &&
      offset < this.visibleEnd
    ) {
      const segment = this.segments[index]!;
      const before = out.length;
      const bytesSoFar = out.reduce((sum, r) => sum + r.payload.length, 0);
      if (bytesSoFar >= maxBytes && out.length > 0) break;
      await segment.read(
        offset - segment.baseOffset,
        maxRecords - out.length,
        out.length > 0 ? maxBytes - bytesSoFar : maxBytes,
        out,
      );
      if (out.length > before) offset = out.at(-1)!.offset + 1;
      if (offset < segment.endOffset) break; // stopped inside the segment: a limit was reached
      index++;
    }
    return out;
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  async offsetForTime(timestampMs: number): Promise<number> {
    await this.refresh();
    for (const segment of this.segments) {
      if (segment.lastTimestampMs === null || segment.lastTimestampMs < timestampMs) continue;
      return segment.baseOffset + (await segment.recordForTime(timestampMs));
    }
    return this.visibleEnd;
  }

  async bounds(): Promise<{ start: number; end: number }> {
    await this.refresh();
    return { start: this.start, end: this.visibleEnd };
  }

  waitFor(offset: number, timeoutMs: number): Promise<boolean> {
    this.checkOffset(offset);
    if (offset < this.visibleEnd) return Promise.resolve(true);
    if (this.options.readOnly) return this.pollFor(offset, timeoutMs);
    return new Promise((resolve) => {
      const waiter = {
        offset,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  private async pollFor(offset: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
      await this.refresh();
      if (offset < this.visibleEnd) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
    }
  }

  async stats(): Promise<TopicStats> {
    await this.refresh();
    const first = this.segments.find((s) => s.firstTimestampMs !== null);
    const last = [...this.segments].reverse().find((s) => s.lastTimestampMs !== null);
    return {
      topic: this.name,
      start: this.start,
      end: this.visibleEnd,
      records: this.visibleEnd - this.start,
      bytes: this.segments.reduce((sum, s) => sum + s.size, 0),
      segments: this.segments.length,
      firstTimestampMs: first?.firstTimestampMs ?? null,
      lastTimestampMs: last?.lastTimestampMs ?? null,
      consumers: await this.consumers.all(),
    };
  }

  /** Waits for queued writes, syncs, and closes every segment file. */
  async close(): Promise<void> {
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.queue.length > 0 || this.writing) await this.flushSoon().catch(() => {});
    while (this.writing) await new Promise((r) => setImmediate(r));
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters.clear();
    if (!this.options.readOnly && !this.failure && this.options.fsync !== 'never' && this.segments.length > 0)
      await this.activeSegment()
        .handle.datasync()
        .catch(() => {});
    for (const segment of this.segments) await segment.close();
    this.segments = [];
  }
}
