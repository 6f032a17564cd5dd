import { asEventId, asItemId, asRequestId, asUserId } from '../core/ids.js';
import { Rng } from '../core/rng.js';
import type { Event, Item, User } from '../core/schema/index.js';
import type { EventLog } from '../log/port.js';

/**
 * Test support for the lake and the jobs that read it: seeded, valid events and catalogue records, and
 * appending them to a log the way clients' records arrive (one record per event, id = event_id, payload =
 * the event's JSON; catalogue upserts as {"kind", "record"}).
 */

export interface SampleEventsOptions {
  seed?: number;
  /** First event time (default 2026-01-05T00:00Z). */
  startMs?: number;
  /** Events are spread evenly over this many hours (default 4). */
  hours?: number;
  /** Prefix of event ids (default "e"). */
  idPrefix?: string;
}

/** `n` valid events of five types, in time order, with ids `<prefix><k>`. */
export function sampleEvents(n: number, options: SampleEventsOptions = {}): Event[] {
  const rng = new Rng(options.seed ?? 1);
  const start = options.startMs ?? Date.UTC(2026, 0, 5);
  const span = (options.hours ?? 4) * 3_600_000;
  const prefix = options.idPrefix ?? 'e';
  const out: Event[] = [];
  for (let k = 0; k < n; k++) {
    const base = {
      event_id: asEventId(`${prefix}${k}`),
      user_id: asUserId(`u${rng.int(50)}`),
      ts: start + Math.floor((k * span) / Math.max(1, n)),
    };
    const item_id = asItemId(`i${rng.int(200)}`);
    const kind = rng.int(5);
    if (kind === 0)
      out.push({
        ...base,
        type: 'impression',
        item_id,
        request_id: asRequestId(`r${k >> 3}`),
        position: k % 8,
      });
    else if (kind === 1)
      out.push({ ...base, type: 'play', item_id, watch_ms: rng.int(60_000), duration_ms: 30_000 });
    else if (kind === 2) out.push({ ...base, type: 'like', item_id });
    else if (kind === 3) out.push({ ...base, type: 'skip', item_id, watch_ms: rng.int(3000) });
    else out.push({ ...base, type: 'search', query: `cats ${rng.int(9)}` });
  }
  return out;
}

const encoder = new TextEncoder();

/** Appends events as clients' events arrive: id = event_id, payload = the event as JSON. */
export async function appendEvents(log: EventLog, events: readonly Event[], topic = 'events'): Promise<void> {
  for (let k = 0; k < events.length; k += 5000)
    await log.append(
      topic,
      events.slice(k, k + 5000).map((e) => ({ id: e.event_id, payload: encoder.encode(JSON.stringify(e)) })),
    );
}

export type CatalogueRecord = { kind: 'item'; record: Item } | { kind: 'user'; record: User };

let versions = 0;

/** Appends catalogue upserts, one record per version (ids `<kind>:<id>:v<n>`, n counting in this process). */
export async function appendCatalogue(log: EventLog, records: readonly CatalogueRecord[]): Promise<void> {
  await log.append(
    'catalog',
    records.map((r) => ({
      id: `${r.kind}:${r.kind === 'item' ? r.record.item_id : r.record.user_id}:v${versions++}`,
      payload: encoder.encode(JSON.stringify(r)),
    })),
  );
}

export function sampleItem(id: string, caption: string, createdTs = Date.UTC(2026, 0, 1)): CatalogueRecord {
  return {
    kind: 'item',
    record: {
      item_id: asItemId(id),
      caption,
      hashtags: ['cats'],
      language: 'en',
      duration_ms: 30_000,
      created_ts: createdTs,
    },
  };
}

export function sampleUser(id: string, country: string, signupTs = Date.UTC(2025, 11, 1)): CatalogueRecord {
  return {
    kind: 'user',
    record: { user_id: asUserId(id), country, language: 'en', signup_ts: signupTs, interests: ['cats'] },
  };
}
