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
  const e = event as Partial<Record<string, unknown>>;
  return {
    type: event.type,
    user_id: event.user_id,
    item_id: str(e.item_id),
    creator_id: str(e.creator_id) ?? item?.creator_id ?? null,
    request_id: str(e.request_id),
    query: str(e.query),
    ts: event.ts,
    position: num(e.position),
    watch_ms: num(e.watch_ms),
    duration_ms: num(e.duration_ms),
    value: num(e.value),
    count: num(e.count),
    item_language: item?.language ?? null,
    item_duration_ms: item?.duration_ms ?? null,
  };
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
