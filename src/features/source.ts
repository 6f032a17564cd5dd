import type { Event } from '../core/schema/index.js';
import { ENTITIES, type EntityName, KEY_SEPARATOR } from './definition.js';
import type { SourceRow } from './expr.js';

/** What the feature engines need to know about an item from the catalogue. */
export interface ItemFacts {
  creator_id: string | null;
  hashtags: readonly string[];
  language: string | null;
  duration_ms: number | null;
}

/**
 * The source row of an event: its own fields plus its item's catalogue facts. Both engines build exactly
 * this row (the SQL engine with a join on the items table), so a feature means the same in both.
 */
function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

export function sourceRow(event: Event, item: ItemFacts | undefined): SourceRow {
  return fillSourceRow(emptySourceRow(), event, item);
}

/** A source row with every field present (null), to be filled by `fillSourceRow`. */
export function emptySourceRow(): SourceRow {
  return {
    type: null,
    user_id: null,
    item_id: null,
    creator_id: null,
    request_id: null,
    query: null,
    ts: null,
    position: null,
    watch_ms: null,
    duration_ms: null,
    value: null,
    count: null,
    item_language: null,
    item_duration_ms: null,
  };
}

/**
 * Overwrites every field of `row` with the source row of `event` (what `sourceRow` returns), so a consumer
 * applying one event at a time can reuse a single row object.
 */
export function fillSourceRow(row: SourceRow, event: Event, item: ItemFacts | undefined): SourceRow {
  const e = event as Partial<Record<string, unknown>>;
  row.type = event.type;
  row.user_id = event.user_id;
  row.item_id = str(e.item_id);
  row.creator_id = str(e.creator_id) ?? item?.creator_id ?? null;
  row.request_id = str(e.request_id);
  row.query = str(e.query);
  row.ts = event.ts;
  row.position = num(e.position);
  row.watch_ms = num(e.watch_ms);
  row.duration_ms = num(e.duration_ms);
  row.value = num(e.value);
  row.count = num(e.count);
  row.item_language = item?.language ?? null;
  row.item_duration_ms = item?.duration_ms ?? null;
  return row;
}

/** The entity keys a row contributes to: none when a key part is missing, one per hashtag for user_hashtag. */
export function entityKeys(entity: EntityName, row: SourceRow, hashtags: readonly string[]): string[] {
  const parts = ENTITIES[entity].parts;
  if (parts.includes('hashtag' as never)) {
    if (!row.user_id || hashtags.length === 0) return [];
    const keys: string[] = [];
    for (let i = 0; i < hashtags.length; i++) {
      const tag = hashtags[i]!;
      if (hashtags.indexOf(tag) === i) keys.push(`${row.user_id}${KEY_SEPARATOR}${tag}`);
    }
    return keys;
  }
  const values: string[] = [];
  for (const part of parts) {
    const v = row[part as keyof SourceRow];
    if (typeof v !== 'string' || v.length === 0) return [];
    values.push(v);
  }
  return [values.join(KEY_SEPARATOR)];
}
