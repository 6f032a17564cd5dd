import { createReadStream } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ForyouError } from '../core/errors.js';

export interface JsonLinesWriterOptions {
  /** Bytes buffered in memory before `flushIfFull` writes them out. */
  bufferBytes?: number;
}

/**
 * Appends records as JSON lines. `write` only buffers (it is called in hot loops); callers await
 * `flushIfFull()` at natural boundaries, which bounds memory without an await per record.
 */
export class JsonLinesWriter {
  private chunks: string[] = [];
  private pendingChars = 0;
  private closed = false;
  records = 0;
  bytes = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly bufferBytes: number,
  ) {}

  static async create(path: string, options: JsonLinesWriterOptions = {}): Promise<JsonLinesWriter> {
    try {
      return new JsonLinesWriter(path, await open(path, 'w'), options.bufferBytes ?? 4 << 20);
    } catch (cause) {
      throw new ForyouError('FY_IO_FAILED', `cannot create ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  write(record: unknown): void {
    const line = `${JSON.stringify(record)}\n`;
    this.chunks.push(line);
    this.pendingChars += line.length;
    this.records++;
  }

  get pendingBytes(): number {
    return this.pendingChars;
  }

  async flushIfFull(): Promise<void> {
    if (this.pendingChars >= this.bufferBytes) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const buffer = Buffer.from(this.chunks.join(''), 'utf8');
    this.chunks = [];
    this.pendingChars = 0;
    try {
      let offset = 0;
      while (offset < buffer.length) offset += (await this.handle.write(buffer, offset)).bytesWritten;
    } catch (cause) {
      throw new ForyouError('FY_IO_FAILED', `cannot write ${this.path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    this.bytes += buffer.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.handle.close();
  }
}

/** Reads a JSON-lines file record by record; a line that is not JSON fails with its file and line number. */
export async function* readJsonLines<T = unknown>(path: string): AsyncGenerator<T> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  try {
    for await (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      try {
        yield JSON.parse(line) as T;
      } catch (cause) {
        throw new ForyouError(
          'FY_DATASET_MALFORMED',
          `${path}:${lineNo} is not valid JSON: ${(cause as Error).message}`,
          {
            cause,
            details: { path, line: lineNo },
          },
        );
      }
    }
  } catch (error) {
    if (error instanceof ForyouError) throw error;
    throw new ForyouError('FY_IO_FAILED', `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    lines.close();
    input.destroy();
  }
}
