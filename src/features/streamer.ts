import { type Clock, systemClock } from '../core/clock.js';
import type { Event } from '../core/schema/index.js';
import type { EventLog } from '../log/port.js';
import { WINDOWS } from './definition.js';
import type { OnlineFeatureStore } from './online.js';
import type { FeatureRegistry } from './registry.js';
import { StreamingAggregator } from './streaming.js';

export const EVENTS_TOPIC = 'events';
export const CATALOG_TOPIC = 'catalog';

export interface FeatureStreamerOptions {
  /** Named consumer whose committed offset marks what has reached the online store. */
  consumer?: string;
  /** Records read per step. */
  batchRecords?: number;
  clock?: Clock;
}

export interface StreamerProgress {
  events: number;
  rowsWritten: number;
  offset: number;
  end: number;
}

const decoder = new TextDecoder();

/**
 * The online path of the feature store: follows the log (catalogue first, so events find their items),
 * applies every event to the streaming aggregator, writes the rows that changed to the online store, then
 * commits the events offset, so what is committed is readable. On start it rebuilds its window state by
 * replaying the events that can still fall inside the longest window, without writing.
 */
export class FeatureStreamer {
  readonly aggregator: StreamingAggregator;
  private readonly consumer: string;
  private readonly batchRecords: number;
  private readonly clock: Clock;
  private catalogOffset = 0;
  private eventsOffset = 0;
  private started = false;
  events = 0;
  rowsWritten = 0;

  constructor(
    private readonly log: EventLog,
    private readonly online: OnlineFeatureStore,
    registry: FeatureRegistry,
    options: FeatureStreamerOptions = {},
  ) {
    this.aggregator = new StreamingAggregator(registry.allViews());
    this.consumer = options.consumer ?? 'features';
    this.batchRecords = options.batchRecords ?? 5_000;
    this.clock = options.clock ?? systemClock;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const committed =
      (await this.log.committed(EVENTS_TOPIC, this.consumer)) ?? (await this.log.bounds(EVENTS_TOPIC)).start;
    const longest = Math.max(...Object.values(WINDOWS).map((w) => w.lengthMs));
    const from = Math.max(
      (await this.log.bounds(EVENTS_TOPIC)).start,
      Math.min(committed, await this.log.offsetForTime(EVENTS_TOPIC, this.clock.now() - longest)),
    );
    await this.catchUpCatalog();
    // Warm-up: rebuild the tiles from events already committed; their rows are in the store already.
    for (let offset = from; offset < committed; ) {
      const records = await this.log.read(EVENTS_TOPIC, offset, {
        maxRecords: Math.min(this.batchRecords, committed - offset),
      });
      if (records.length === 0) break;
      for (const r of records) this.aggregator.apply(JSON.parse(decoder.decode(r.payload)) as Event);
      offset = records.at(-1)!.offset + 1;
    }
    for (const _ of this.aggregator.takeChanged());
    this.eventsOffset = committed;
  }

  private async catchUpCatalog(): Promise<void> {
    for (;;) {
      const records = await this.log.read(CATALOG_TOPIC, this.catalogOffset, {
        maxRecords: this.batchRecords,
      });
      if (records.length === 0) return;
      for (const r of records) {
        const entry = JSON.parse(decoder.decode(r.payload)) as {
          kind: string;
          record: Record<string, unknown>;
        };
        if (entry.kind !== 'item') continue;
        const item = entry.record;
        this.aggregator.upsertItem(String(item.item_id), {
          creator_id: typeof item.creator_id === 'string' ? item.creator_id : null,
          hashtags: Array.isArray(item.hashtags) ? (item.hashtags as string[]) : [],
          language: typeof item.language === 'string' ? item.language : null,
          duration_ms: typeof item.duration_ms === 'number' ? item.duration_ms : null,
        });
      }
      this.catalogOffset = records.at(-1)!.offset + 1;
    }
  }

  /** One step: new catalogue records, then up to `batchRecords` events, rows written, offset committed. */
  async step(): Promise<StreamerProgress> {
    await this.start();
    await this.catchUpCatalog();
    const records = await this.log.read(EVENTS_TOPIC, this.eventsOffset, { maxRecords: this.batchRecords });
    for (const r of records) this.aggregator.apply(JSON.parse(decoder.decode(r.payload)) as Event);
    if (records.length > 0) {
      this.rowsWritten += await this.online.writeRows([...this.aggregator.takeChanged()]);
      this.eventsOffset = records.at(-1)!.offset + 1;
      await this.log.commit(EVENTS_TOPIC, this.consumer, this.eventsOffset);
      this.events += records.length;
    }
    const { end } = await this.log.bounds(EVENTS_TOPIC);
    return { events: this.events, rowsWritten: this.rowsWritten, offset: this.eventsOffset, end };
  }

  /** Processes until the events topic is caught up. */
  async runOnce(): Promise<StreamerProgress> {
    for (;;) {
      const progress = await this.step();
      if (progress.offset >= progress.end) return progress;
    }
  }

  /** Follows the log until `signal` aborts, waking as soon as events arrive. */
  async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const progress = await this.step();
      if (progress.offset >= progress.end) await this.log.waitFor(EVENTS_TOPIC, progress.offset, 200);
    }
  }
}
