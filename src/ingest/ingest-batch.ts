import { safeParseRecord } from '../core/schema/validate.js';
import type { AppendInput, EventLog } from '../log/port.js';
import type { ParsedBatch } from './batch-body.js';
import type { RecordKind } from './record-kinds.js';

/** A record that was not stored: a duplicate of one already in the log, or rejected with a reason. */
export interface NotAccepted {
  /** Position of the record in the batch, from 0 (blank NDJSON lines are not counted). */
  index: number;
  /** NDJSON only: the 1-based line of the body. */
  line?: number;
  status: 'duplicate' | 'rejected';
  /** Why it was rejected, naming the field: `watch_ms: must be >= 0`. */
  reason?: string;
}

/** The answer to a batch: counts, and only the records that were not accepted (accepted ones are implied). */
export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  rejected: number;
  not_accepted: NotAccepted[];
}

const MAX_REASON_CHARS = 300;

function clip(text: string): string {
  return text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text;
}

/**
 * Validates every record of a batch against its kind's schema and appends the valid ones to the kind's
 * topic in one call; resolves once the append is durable (the log's fsync policy). Duplicates are what
 * the log reports as such, including a repeated id within the batch.
 */
export async function ingestBatch(
  log: EventLog,
  kind: RecordKind,
  batch: ParsedBatch,
): Promise<IngestOutcome> {
  const { values, unreadable, lines } = batch;
  const notAccepted: NotAccepted[] = [];
  const inputs: AppendInput[] = [];
  const positions: number[] = [];
  const reject = (index: number, reason: string) => {
    const entry: NotAccepted = { index, status: 'rejected', reason: clip(reason) };
    if (lines) entry.line = lines[index] as number;
    notAccepted.push(entry);
  };
  for (let index = 0; index < values.length; index++) {
    const problem = unreadable.get(index);
    if (problem !== undefined) {
      reject(index, problem);
      continue;
    }
    const value = values[index];
    let entry = kind.fastEntry?.(value) ?? null;
    if (entry === null) {
      const parsed = kind.schema.safeParse(value);
      if (parsed.success) entry = kind.entry(parsed.data);
    }
    if (entry !== null) {
      inputs.push({ id: entry.id, payload: Buffer.from(entry.json, 'utf8') });
      positions.push(index);
    } else {
      // Only failures pay for the readable message.
      const described = safeParseRecord(kind.schema, value);
      reject(index, described.ok ? 'invalid record' : described.message);
    }
  }
  const rejected = notAccepted.length;
  let duplicates = 0;
  if (inputs.length > 0) {
    const results = await log.append(kind.topic, inputs);
    for (let k = 0; k < results.length; k++) {
      if (!results[k]!.duplicate) continue;
      duplicates++;
      const index = positions[k] as number;
      const entry: NotAccepted = { index, status: 'duplicate' };
      if (lines) entry.line = lines[index] as number;
      notAccepted.push(entry);
    }
    if (duplicates > 0 && rejected > 0) notAccepted.sort((a, b) => a.index - b.index);
  }
  return { accepted: inputs.length - duplicates, duplicates, rejected, not_accepted: notAccepted };
}

/** "[3] watch_ms: must be >= 0; [7] ..." for the first few rejected records of an outcome. */
export function summariseRejections(outcome: IngestOutcome, noun: string, max = 3): string {
  const rejected = outcome.not_accepted.filter((n) => n.status === 'rejected');
  const shown = rejected
    .slice(0, max)
    .map((n) => `[${n.index}] ${n.reason}`)
    .join('; ');
  const more = rejected.length > max ? `; and ${rejected.length - max} more` : '';
  const total = outcome.accepted + outcome.duplicates + outcome.rejected;
  return `${outcome.rejected} of ${total} ${noun} rejected: ${shown}${more}`;
}
