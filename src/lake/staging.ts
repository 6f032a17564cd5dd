import { type FileHandle, open } from 'node:fs/promises';
import type { LogRecord } from '../log/port.js';

const CHUNK_BYTES = 4 << 20;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const CLOSE_BRACE = 0x7d;

/**
 * One staged line per log record, holding the record's payload bytes untouched (no parsing in JavaScript):
 *
 *   {"o":<log offset>,"t":<log timestamp ms>,"r":<payload>}
 *
 * DuckDB's `read_json` then parses the lines in bulk. A payload's own line breaks are turned into spaces
 * (valid JSON has them only as whitespace), so one record is always one line.
 */
export function stagedLinePrefix(offset: number, timestampMs: number): string {
  return `{"o":${offset},"t":${timestampMs},"r":`;
}

/** Splits a staged line back into its offset, log time and payload text (for records DuckDB refused). */
export function parseStagedLine(
  line: string,
): { offset: number; timestampMs: number; payload: string } | null {
  const m = /^\{"o":(\d+),"t":(\d+),"r":/.exec(line);
  if (!m || !line.endsWith('}')) return null;
  return { offset: Number(m[1]), timestampMs: Number(m[2]), payload: line.slice(m[0].length, -1) };
}

/** Appends log records of one topic to a staging NDJSON file, in 4 MiB writes. */
export class TopicStager {
  records = 0;
  firstOffset = -1;
  lastOffset = -1;
  /** performance.now() when the first record was staged. */
  firstStagedAt = 0;
  private chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<TopicStager> {
    return new TopicStager(path, await open(path, 'w'));
  }

  add(record: LogRecord): void {
    const payload = sanitize(record.payload);
    const need = 48 + payload.length;
    if (this.used + need > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
      this.used = 0;
    }
    const chunk = this.chunk;
    this.used += chunk.write(stagedLinePrefix(record.offset, record.timestampMs), this.used, 'latin1');
    chunk.set(payload, this.used);
    this.used += payload.length;
    chunk[this.used++] = CLOSE_BRACE;
    chunk[this.used++] = NEWLINE;
    if (this.records === 0) {
      this.firstOffset = record.offset;
      this.firstStagedAt = performance.now();
    }
    this.lastOffset = record.offset;
    this.records++;
  }

  /** Writes the full chunks; call it between log reads to keep memory bounded. */
  async drain(): Promise<void> {
    const chunks = this.chunks;
    this.chunks = [];
    for (const chunk of chunks) await writeAll(this.handle, chunk);
  }

  /** Writes everything staged and closes the file. */
  async close(): Promise<void> {
    await this.drain();
    if (this.used > 0) await writeAll(this.handle, this.chunk.subarray(0, this.used));
    this.used = 0;
    await this.handle.close();
  }

  /** Closes the file without caring about its contents (the batch is abandoned). */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

async function writeAll(handle: FileHandle, buffer: Buffer): Promise<void> {
  for (let written = 0; written < buffer.length; )
    written += (await handle.write(buffer, written, buffer.length - written)).bytesWritten;
}

function sanitize(payload: Uint8Array): Uint8Array {
  if (payload.indexOf(NEWLINE) < 0 && payload.indexOf(CARRIAGE_RETURN) < 0) return payload;
  const copy = Uint8Array.from(payload);
  for (let k = 0; k < copy.length; k++)
    if (copy[k] === NEWLINE || copy[k] === CARRIAGE_RETURN) copy[k] = SPACE;
  return copy;
}
