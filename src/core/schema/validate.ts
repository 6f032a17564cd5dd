import type { z } from 'zod';
import { ForyouError } from '../errors.js';

export interface FieldIssue {
  /** Dotted path of the field ("hashtags.3"), or "" for the record itself. */
  path: string;
  message: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[]; message: string };

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describe(issues: readonly z.core.$ZodIssue[], input: unknown): FieldIssue[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    let message = issue.message;
    if (issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(input, issue.path) === undefined)
      message = 'is required';
    else if (issue.code === 'unrecognized_keys')
      message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    else if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input: expected'))
      message = issue.message.replace('Invalid input: expected', 'expected');
    return { path, message };
  });
}

export function formatIssues(issues: readonly FieldIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/** Parses without throwing; the result carries field-level issues a client can act on. */
export function safeParseRecord<S extends z.ZodType>(schema: S, input: unknown): ParseResult<z.infer<S>> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const issues = describe(result.error.issues, input);
  return { ok: false, issues, message: formatIssues(issues) };
}

/** Parses or throws `FY_VALIDATION_FAILED` naming the record kind and every broken field. */
export function parseRecord<S extends z.ZodType>(schema: S, input: unknown, kind: string): z.infer<S> {
  const result = safeParseRecord(schema, input);
  if (result.ok) return result.value;
  throw new ForyouError('FY_VALIDATION_FAILED', `invalid ${kind}: ${result.message}`, {
    details: { kind, issues: result.issues },
  });
}
