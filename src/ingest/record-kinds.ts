import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { type Event, EventSchema } from '../core/schema/event.js';
import { type Item, ItemSchema } from '../core/schema/item.js';
import { type User, UserSchema } from '../core/schema/user.js';
import { fastEventJson } from './event-fast-path.js';

/** Log topic of behaviour events; record id = event_id. */
export const EVENTS_TOPIC = 'events';
/** Log topic of catalogue upserts (users, items); record id = kind:entity-id:content-hash. */
export const CATALOG_TOPIC = 'catalog';

/** What the log stores for one accepted record. */
export interface LogEntry {
  id: string;
  /** Canonical JSON text of the payload. */
  json: string;
}

/**
 * One kind of record the ingest API accepts: its schema, the topic it goes to and how a valid record
 * becomes a log entry. The canonical JSON is the schema's output serialised: keys in schema order,
 * defaults filled in, strings normalised (a search query trimmed), so equal content gives equal bytes.
 */
export interface RecordKind<T = unknown> {
  /** Singular name used in messages ("event"). */
  name: string;
  /** Plural, as in the route (/v1/events). */
  plural: string;
  topic: string;
  schema: z.ZodType<T>;
  entry(value: T): LogEntry;
  /**
   * Optional fast path on the raw input: the entry of a record it can vouch for, or null to let the schema
   * decide. It must never accept what the schema rejects, nor produce other bytes.
   */
  fastEntry?(value: unknown): LogEntry | null;
}

export const EVENT_KIND: RecordKind<Event> = {
  name: 'event',
  plural: 'events',
  topic: EVENTS_TOPIC,
  schema: EventSchema,
  entry: (event) => ({ id: event.event_id, json: JSON.stringify(event) }),
  fastEntry: (value) => {
    const json = fastEventJson(value);
    return json === null ? null : { id: (value as { event_id: string }).event_id, json };
  },
};

/** 16 hex digits (64 bits) of SHA-256: collisions between two versions of one entity are not a concern. */
function contentHash(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/**
 * A catalogue record is an upsert: its id carries a hash of its content, so re-sending the same content
 * is a duplicate while a changed record is a new version. The payload names the kind so one topic can
 * carry users and items.
 */
function catalogEntry(kind: 'user' | 'item', entityId: string, record: unknown): LogEntry {
  const json = JSON.stringify(record);
  return { id: `${kind}:${entityId}:${contentHash(json)}`, json: `{"kind":"${kind}","record":${json}}` };
}

export const ITEM_KIND: RecordKind<Item> = {
  name: 'item',
  plural: 'items',
  topic: CATALOG_TOPIC,
  schema: ItemSchema,
  entry: (item) => catalogEntry('item', item.item_id, item),
};

export const USER_KIND: RecordKind<User> = {
  name: 'user',
  plural: 'users',
  topic: CATALOG_TOPIC,
  schema: UserSchema,
  entry: (user) => catalogEntry('user', user.user_id, user),
};

export const RECORD_KINDS: readonly RecordKind[] = [
  EVENT_KIND as RecordKind,
  ITEM_KIND as RecordKind,
  USER_KIND as RecordKind,
];
