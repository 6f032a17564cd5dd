import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { readStaged, type TopicConversion } from './convert.js';
import { queryRows } from './duck.js';
import { parseStagedLine } from './staging.js';

/**
 * The slow path, taken only when a batch holds records the lake cannot store: it finds which staged lines
 * are refused and why, using the very rule the fast path applies (DuckDB's parse with the topic's column
 * types, then the topic's refusal expression). Lines DuckDB cannot parse are found by bisection, so the rule
 * is the same whatever else the batch holds, and a record's fate does not depend on its neighbours.
 */

export interface Refusal {
  offset: number;
  reason: string;
  payload: string;
}

/** DuckDB errors caused by the content of a line, as opposed to I/O or resource errors (which propagate). */
function isContentError(error: unknown): boolean {
  const message = String((error as Error)?.message ?? error);
  return /Malformed JSON|JSON transform error|Conversion Error|Could not convert|Invalid Input Error/.test(
    message,
  );
}

function reasonOf(error: unknown): string {
  const message = String((error as Error)?.message ?? error);
  const detail =
    /in line \d+: ([^\n]*?)(?:\s*\|?\s*Try setting|$)/m.exec(message)?.[1] ?? message.split('\n')[0];
  return `cannot be read with the lake's column types: ${detail?.trim() ?? 'unknown error'}`;
}

/**
 * Splits a staged NDJSON file into the lines the lake can store (written to `goodPath`) and the refused ones.
 * Returns the refusals and the number of good lines.
 */
export async function separateRefused(
  connection: DuckDBConnection,
  conversion: TopicConversion,
  stagedPath: string,
  goodPath: string,
  scratchDir: string,
): Promise<{ refusals: Refusal[]; good: number }> {
  const text = await readFile(stagedPath, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const refused = new Map<number, string>();
  let probe = 0;

  const check = async (from: number, to: number): Promise<void> => {
    const path = join(scratchDir, `probe-${probe++}.ndjson`);
    await writeFile(path, `${lines.slice(from, to).join('\n')}\n`);
    try {
      const rows = await queryRows(
        connection,
        `SELECT (${conversion.refusal}) AS refusal FROM ${readStaged(path, conversion.payloadType)}`,
      );
      if (rows.length !== to - from) throw new Error(`read ${rows.length} rows from ${to - from} lines`);
      rows.forEach((row, k) => {
        if (row.refusal !== null) refused.set(from + k, String(row.refusal));
      });
    } catch (error) {
      if (!isContentError(error)) throw error;
      if (to - from === 1) refused.set(from, reasonOf(error));
      else {
        const mid = (from + to) >>> 1;
        await check(from, mid);
        await check(mid, to);
      }
    } finally {
      await rm(path, { force: true });
    }
  };
  if (lines.length > 0) await check(0, lines.length);

  const refusals: Refusal[] = [];
  const good: string[] = [];
  lines.forEach((line, k) => {
    const reason = refused.get(k);
    if (reason === undefined) {
      good.push(line);
      return;
    }
    const parsed = parseStagedLine(line);
    refusals.push({ offset: parsed?.offset ?? -1, reason, payload: parsed?.payload ?? line });
  });
  await writeFile(goodPath, good.length > 0 ? `${good.join('\n')}\n` : '');
  return { refusals, good: good.length };
}
