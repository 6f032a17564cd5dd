import { stat } from 'node:fs/promises';
import { ForyouError, isForyouError } from '../core/errors.js';

/** Where a value came from: the file and its 1-based line number. */
export interface LineRef {
  path: string;
  line: number;
}

/** `FY_DATASET_NOT_FOUND` naming the path and what the loader expected to find there. */
export function notFound(path: string, expected: string, cause?: unknown): ForyouError {
  return new ForyouError('FY_DATASET_NOT_FOUND', `${path} does not exist; expected ${expected}`, {
    cause,
    details: { path, expected },
  });
}

/** `FY_DATASET_MALFORMED` naming `file:line`, what was expected there and what was found. */
export function malformed(at: LineRef, expected: string, got: string): ForyouError {
  return new ForyouError('FY_DATASET_MALFORMED', `${at.path}:${at.line}: expected ${expected}, got ${got}`, {
    details: { path: at.path, line: at.line, expected, got },
  });
}

/** Resolves when `path` is an existing file or folder of the wanted kind, else throws `FY_DATASET_NOT_FOUND`. */
export async function requirePath(path: string, kind: 'file' | 'folder', expected: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (cause) {
    throw notFound(path, expected, cause);
  }
  if (isDir !== (kind === 'folder'))
    throw new ForyouError(
      'FY_DATASET_NOT_FOUND',
      `${path} is a ${isDir ? 'folder' : 'file'}, not a ${kind}; expected ${expected}`,
      { details: { path, expected } },
    );
}

/** True when `path` exists and is a file. */
export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Runs a core-schema parse for a record read at `at`; a `FY_VALIDATION_FAILED` error keeps its code and
 * issues but gains the file and line, so a bad value in a dataset points at its source.
 */
export function atLine<T>(at: LineRef, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!isForyouError(error, 'FY_VALIDATION_FAILED')) throw error;
    throw new ForyouError('FY_VALIDATION_FAILED', `${at.path}:${at.line}: ${error.message}`, {
      cause: error,
      details: { ...error.details, path: at.path, line: at.line },
    });
  }
}
