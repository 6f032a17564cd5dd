/** Helpers shared by the test suites: temporary folders, captured output, async collection, error checks. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, vi } from 'vitest';
import { type ErrorCode, isForyouError } from '../../src/core/errors.js';

/** A new empty folder under the system temp folder. */
export function tempDir(prefix = 'foryou-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A path inside a new temp folder that does not exist yet (for commands that must create it). */
export function freshPath(name = 'out', prefix?: string): string {
  return join(tempDir(prefix), name);
}

/** A temp folder holding the given files. */
export function folderWith(files: Record<string, string | Buffer>, prefix?: string): string {
  const dir = tempDir(prefix);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** A file named `name` holding `content`, alone in a new temp folder; returns its path. */
export function tempFile(name: string, content: string | Buffer, prefix?: string): string {
  return join(folderWith({ [name]: content }, prefix), name);
}

/** Every value of a (possibly async) iterable, in order. */
export async function collect<T>(iterable: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}

/** Captures what is written to stdout and stderr until `vi.restoreAllMocks()`. */
export function captureOutput(): { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  return { out: () => out, err: () => err };
}

/** Awaits `promise`, expects it to fail with a ForyouError of `code`, and returns the message. */
export async function failureOf(promise: Promise<unknown>, code: ErrorCode): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(isForyouError(error, code), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`expected the promise to fail with ${code}`);
}
