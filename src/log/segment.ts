import { type FileHandle, open, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ForyouError } from '../core/errors.js';
import { checkFrame, decodeFrame, FRAME_HEAD_BYTES, frameIdAndTime } from './frame.js';
import type { LogRecord } from './port.js';

/** One sparse index entry every this many bytes of a segment. */
export const INDEX_INTERVAL_BYTES = 16 * 1024;
const READ_CHUNK_BYTES = 1 << 20;
const INDEX_MAGIC = 0x58495946; // "FYIX"

export const segmentName = (baseOffset: number): string => String(baseOffset).padStart(20, '0');

export interface ScanResult {
  /** Bytes of valid frames from the start of the file. */
  validBytes: number;
  records: number;
  /** Why the scan stopped before the end of the file, if it did. */
  stop: 'end' | 'incomplete' | 'bad-length' | 'bad-crc';
}

/**
 * One segment file of a topic: frames appended back to back, plus a sparse in-memory index (record number,
 * byte position, timestamp) every INDEX_INTERVAL_BYTES, which is written to a `.index` file when the segment
 * is sealed so reopening a large log does not rescan it.
 */
export class Segment {
  /** Valid bytes in the file (what readers may see). */
  size = 0;
  /** Valid records in the file. */
  count = 0;
  firstTimestampMs: number | null = null;
  lastTimestampMs: number | null = null;
  sealed = false;
  private readonly indexRecords: number[] = [];
  private readonly indexPositions: number[] = [];
  private readonly indexTimes: number[] = [];
  private nextIndexAt = 0;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly handle: FileHandle,
  ) {}

  get path(): string {
    return join(this.dir, `${segmentName(this.baseOffset)}.log`);
  }

  get indexPath(): string {
    return join(this.dir, `${segmentName(this.baseOffset)}.index`);
  }

  get endOffset(): number {
    return this.baseOffset + this.count;
  }

  static async create(dir: string, baseOffset: number): Promise<Segment> {
    const handle = await open(join(dir, `${segmentName(baseOffset)}.log`), 'a+');
    return new Segment(dir, baseOffset, handle);
  }

  /**
   * Opens an existing segment. A sealed segment with a valid index file is trusted; otherwise the file is
   * scanned. With `truncateTornTail`, bytes after the last valid frame are cut off (a write that a crash
   * interrupted was never acknowledged under any fsync policy that promises it).
   */
  static async open(
    dir: string,
    baseOffset: number,
    options: { writable: boolean; sealed: boolean; truncateTornTail: boolean },
  ): Promise<Segment> {
    const path = join(dir, `${segmentName(baseOffset)}.log`);
    const handle = await open(path, options.writable ? 'r+' : 'r');
    const segment = new Segment(dir, baseOffset, handle);
    segment.sealed = options.sealed;
    if (options.sealed && (await segment.loadIndex())) return segment;
    const fileSize = (await handle.stat()).size;
    const scan = await segment.scanFrom(0, 0, fileSize);
    if (scan.stop !== 'end' && scan.validBytes < fileSize) {
      if (options.sealed)
        throw new ForyouError(
          'FY_LOG_CORRUPT',
          `sealed segment ${path} has an invalid frame (${scan.stop}) at byte ${scan.validBytes} of ${fileSize}`,
          { details: { path, position: scan.validBytes } },
        );
      if (options.truncateTornTail) {
        await handle.truncate(scan.validBytes);
        await handle.datasync();
      }
    }
    return segment;
  }

  /** Records an appended frame in the in-memory index; called in write order. */
  noteAppend(position: number, frameLength: number, timestampMs: number): void {
    if (position >= this.nextIndexAt) {
      this.indexRecords.push(this.count);
      this.indexPositions.push(position);
      this.indexTimes.push(timestampMs);
      this.nextIndexAt = position + INDEX_INTERVAL_BYTES;
    }
    this.firstTimestampMs ??= timestampMs;
    this.lastTimestampMs = timestampMs;
    this.count++;
    this.size = position + frameLength;
  }

  /**
   * Scans valid frames from byte `position` (record `record` of this segment) up to `limit` bytes, indexing
   * the ones not yet indexed, and stops at the first invalid or incomplete frame. Used to open a segment
   * and, read-only, to follow a segment another process is appending to.
   */
  async scanFrom(
    position: number,
    record: number,
    limit: number,
    onFrame?: (id: string, timestampMs: number, offset: number) => void,
  ): Promise<ScanResult> {
    let buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let pos = position;
    let rec = record;
    while (pos < limit) {
      const { bytesRead } = await this.handle.read(buffer, 0, Math.min(buffer.length, limit - pos), pos);
      if (bytesRead === 0) break;
      let at = 0;
      for (;;) {
        const check = checkFrame(buffer, at, bytesRead);
        if (!check.ok) {
          if (check.reason !== 'incomplete')
            return { validBytes: pos + at, records: rec, stop: check.reason };
          break;
        }
        if (rec >= this.count) {
          const { id, timestampMs } = frameIdAndTime(buffer, at);
          this.noteAppend(pos + at, check.length, timestampMs);
          onFrame?.(id, timestampMs, this.baseOffset + rec);
        }
        rec++;
        at += check.length;
      }
      if (at === 0) {
        // Nothing complete in this chunk: a frame larger than the buffer, or the data ends mid-frame.
        const need = bytesRead >= 4 ? FRAME_HEAD_BYTES + buffer.readUInt32LE(0) : Number.POSITIVE_INFINITY;
        if (need > buffer.length && pos + need <= limit) {
          buffer = Buffer.allocUnsafe(need);
          continue;
        }
        return { validBytes: pos, records: rec, stop: 'incomplete' };
      }
      pos += at;
    }
    return { validBytes: pos, records: rec, stop: pos >= limit ? 'end' : 'incomplete' };
  }

  /** Index entry at or before record `rel`. */
  private seekRecord(rel: number): { record: number; position: number } {
    let lo = 0;
    let hi = this.indexRecords.length - 1;
    if (hi < 0) return { record: 0, position: 0 };
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.indexRecords[mid]! <= rel) lo = mid;
      else hi = mid - 1;
    }
    return { record: this.indexRecords[lo]!, position: this.indexPositions[lo]! };
  }

  /** Index entry of the last indexed record with a timestamp before `timestampMs`. */
  private seekTime(timestampMs: number): { record: number; position: number } {
    let lo = 0;
    let hi = this.indexTimes.length - 1;
    if (hi < 0 || this.indexTimes[0]! >= timestampMs) return { record: 0, position: 0 };
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.indexTimes[mid]! < timestampMs) lo = mid;
      else hi = mid - 1;
    }
    return { record: this.indexRecords[lo]!, position: this.indexPositions[lo]! };
  }

  /**
   * Reads records from relative record `fromRel`, stopping at `maxRecords`, at `maxBytes` of payload (after
   * at least one record) or at the segment's valid end. Frames are checked again on the way out.
   */
  async read(fromRel: number, maxRecords: number, maxBytes: number, out: LogRecord[]): Promise<void> {
    let { record, position } = this.seekRecord(fromRel);
    let buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let taken = 0;
    let bytes = 0;
    while (record < this.count && taken < maxRecords) {
      const { bytesRead } = await this.handle.read(
        buffer,
        0,
        Math.min(buffer.length, this.size - position),
        position,
      );
      let at = 0;
      while (record < this.count && taken < maxRecords) {
        const check = checkFrame(buffer, at, bytesRead);
        if (!check.ok) {
          if (check.reason === 'incomplete') break;
          throw this.corrupt(check.reason, position + at);
        }
        if (record >= fromRel) {
          const frame = decodeFrame(buffer, at);
          out.push({
            offset: this.baseOffset + record,
            id: frame.id,
            timestampMs: frame.timestampMs,
            payload: frame.payload,
          });
          taken++;
          bytes += frame.payload.length;
          if (bytes >= maxBytes) return;
        }
        record++;
        at += check.length;
      }
      if (at === 0 && record < this.count && taken < maxRecords) {
        const need = FRAME_HEAD_BYTES + buffer.readUInt32LE(0);
        if (need <= buffer.length || position + need > this.size) throw this.corrupt('incomplete', position);
        buffer = Buffer.allocUnsafe(need);
        continue;
      }
      position += at;
    }
  }

  private corrupt(reason: string, position: number): ForyouError {
    return new ForyouError('FY_LOG_CORRUPT', `${this.path}: invalid frame (${reason}) at byte ${position}`, {
      details: { path: this.path, position },
    });
  }

  /** Relative record number of the first record at or after `timestampMs` (`count` when none). */
  async recordForTime(timestampMs: number): Promise<number> {
    if (this.lastTimestampMs === null || this.lastTimestampMs < timestampMs) return this.count;
    let { record, position } = this.seekTime(timestampMs);
    let buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    while (record < this.count) {
      const { bytesRead } = await this.handle.read(
        buffer,
        0,
        Math.min(buffer.length, this.size - position),
        position,
      );
      let at = 0;
      while (record < this.count) {
        const check = checkFrame(buffer, at, bytesRead);
        if (!check.ok) {
          if (check.reason === 'incomplete') break;
          throw this.corrupt(check.reason, position + at);
        }
        if (frameIdAndTime(buffer, at).timestampMs >= timestampMs) return record;
        record++;
        at += check.length;
      }
      if (at === 0 && record < this.count) {
        buffer = Buffer.allocUnsafe(FRAME_HEAD_BYTES + buffer.readUInt32LE(0));
        continue;
      }
      position += at;
    }
    return record;
  }

  /** Writes the sparse index next to the segment so a reopen does not rescan it. */
  async writeIndex(): Promise<void> {
    const n = this.indexRecords.length;
    const buffer = Buffer.alloc(40 + n * 20 + 4);
    buffer.writeUInt32LE(INDEX_MAGIC, 0);
    buffer.writeUInt32LE(1, 4);
    buffer.writeUInt32LE(this.count, 8);
    buffer.writeDoubleLE(this.size, 12);
    buffer.writeDoubleLE(this.firstTimestampMs ?? -1, 20);
    buffer.writeDoubleLE(this.lastTimestampMs ?? -1, 28);
    buffer.writeUInt32LE(n, 36);
    for (let k = 0; k < n; k++) {
      buffer.writeUInt32LE(this.indexRecords[k]!, 40 + k * 20);
      buffer.writeDoubleLE(this.indexPositions[k]!, 44 + k * 20);
      buffer.writeDoubleLE(this.indexTimes[k]!, 52 + k * 20);
    }
    buffer.writeUInt32LE(crc32(buffer.subarray(0, buffer.length - 4)), buffer.length - 4);
    const tmp = `${this.indexPath}.tmp`;
    await writeFile(tmp, buffer, { flush: true });
    await rename(tmp, this.indexPath);
  }

  private async loadIndex(): Promise<boolean> {
    let buffer: Buffer;
    try {
      buffer = await readFile(this.indexPath);
    } catch {
      return false;
    }
    if (buffer.length < 44 || buffer.readUInt32LE(0) !== INDEX_MAGIC) return false;
    if (crc32(buffer.subarray(0, buffer.length - 4)) !== buffer.readUInt32LE(buffer.length - 4)) return false;
    const n = buffer.readUInt32LE(36);
    if (buffer.length !== 40 + n * 20 + 4) return false;
    const size = buffer.readDoubleLE(12);
    if ((await this.handle.stat()).size < size) return false;
    this.count = buffer.readUInt32LE(8);
    this.size = size;
    const first = buffer.readDoubleLE(20);
    const last = buffer.readDoubleLE(28);
    this.firstTimestampMs = first < 0 ? null : first;
    this.lastTimestampMs = last < 0 ? null : last;
    for (let k = 0; k < n; k++) {
      this.indexRecords.push(buffer.readUInt32LE(40 + k * 20));
      this.indexPositions.push(buffer.readDoubleLE(44 + k * 20));
      this.indexTimes.push(buffer.readDoubleLE(52 + k * 20));
    }
    this.nextIndexAt = (this.indexPositions.at(-1) ?? 0) + INDEX_INTERVAL_BYTES;
    return true;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
