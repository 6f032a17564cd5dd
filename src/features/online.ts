import { type Clock, systemClock } from '../core/clock.js';
import { ForyouError } from '../core/errors.js';
import type { KeyValueStore, PutEntry } from '../store/port.js';
import { ChangeRecorder, FeatureChangeFollower } from './change-feed.js';
import { decodeNumericInto, decodeRow, encodeRow } from './codec.js';
import type { FeatureViewDef } from './definition.js';
import type { Scalar } from './expr.js';
import { type FeatureRegistry, onlineKey, onlineKeyPrefix, type ResolvedService } from './registry.js';
import type { FeatureRow } from './row.js';

export interface OnlineFeatures {
  /** Numeric feature names (`view__feature`), the columns of `values`. */
  names: string[];
  /** keys.length x names.length, row-major; NaN where a value is null, missing, or past its view's TTL. */
  values: Float64Array;
  listNames: string[];
  /** Per key, per list feature (only when asked for). */
  lists: Scalar[][][] | null;
  /** keys.length x views: the event time of each stored row, NaN when absent or expired. */
  eventTs: Float64Array;
  /** Rows found and rows dropped for their TTL, over all keys and views. */
  found: number;
  expired: number;
}

export interface OnlineReadOptions {
  /** Decode last_n lists too (numeric only by default: ranking reads numbers). */
  lists?: boolean;
  /**
   * Fill these buffers instead of allocating: the result's `values` and `eventTs` are then views of them,
   * overwritten by the next read into the same buffers. For callers that consume a result before their
   * next read (a hydrator copying rows out): a read of 1,000 items allocates half a megabyte otherwise,
   * and V8 answers that much off-heap memory with garbage collections of several milliseconds.
   */
  into?: OnlineFeatureBuffers;
}

/** Reusable room for `getOnlineFeatures` results (see `OnlineReadOptions.into`); grows as needed. */
export class OnlineFeatureBuffers {
  values = new Float64Array(0);
  eventTs = new Float64Array(0);

  /** Views of `values` and `eventTs` of the given lengths, growing the buffers first when needed. */
  take(values: number, eventTs: number): { values: Float64Array; eventTs: Float64Array } {
    if (this.values.length < values) this.values = new Float64Array(Math.max(values, this.values.length * 2));
    if (this.eventTs.length < eventTs)
      this.eventTs = new Float64Array(Math.max(eventTs, this.eventTs.length * 2));
    return { values: this.values.subarray(0, values), eventTs: this.eventTs.subarray(0, eventTs) };
  }
}

/**
 * Reads and writes feature rows in the online store: one `getMany` per request for every key and view of a
 * service, TTL enforced on read (a row older than its view's TTL by event time is absent), numbers decoded
 * once straight into a matrix.
 */
/** How one view's stored rows land in the output matrix of a service. */
interface ViewPlan {
  view: FeatureViewDef;
  /** Indices of the service's numeric features among the view's stored numbers. */
  numeric: number[];
  listIdx: number[];
  /** Numbers stored per row. */
  stored: number;
  /** Whether the service reads every stored number, so a row decodes straight into the matrix. */
  contiguous: boolean;
  /** Where the view's columns start in the matrix, and its lists among the list columns. */
  column: number;
  listColumn: number;
}

const plans = new WeakMap<ResolvedService, { views: ViewPlan[]; scratch: number }>();

/** The read plan of a service, worked out once per resolved service. */
function readPlan(service: ResolvedService): { views: ViewPlan[]; scratch: number } {
  let plan = plans.get(service);
  if (plan === undefined) {
    const views = service.views.map(({ view, numeric, lists }, v) => {
      const stored = view.features.filter((f) => f.kind !== 'last_n').length;
      return {
        view,
        numeric,
        listIdx: lists,
        stored,
        contiguous: numeric.length === stored,
        column: service.views.slice(0, v).reduce((sum, e) => sum + e.numeric.length, 0),
        listColumn: service.views.slice(0, v).reduce((sum, e) => sum + e.lists.length, 0),
      };
    });
    plan = { views, scratch: Math.max(0, ...views.map((p) => p.stored)) };
    plans.set(service, plan);
  }
  return plan;
}

/**
 * Decodes one stored row of a view into `out` at `at` (the service's columns of that view); resolves the
 * row's event time, or NaN when the row is past the view's TTL (its columns are then left NaN).
 */
function decodeViewRow(
  p: ViewPlan,
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Float64Array,
  at: number,
  scratch: Float64Array,
  now: number,
): number {
  const ts = p.contiguous
    ? decodeNumericInto(bytes, start, end, out, at, p.stored)
    : decodeNumericInto(bytes, start, end, scratch, 0, p.stored);
  if (now - ts > p.view.ttlMs) {
    if (p.contiguous) out.fill(Number.NaN, at, at + p.stored);
    return Number.NaN;
  }
  if (!p.contiguous) for (let i = 0; i < p.numeric.length; i++) out[at + i] = scratch[p.numeric[i]!]!;
  return ts;
}

export class OnlineFeatureStore {
  /** Decoding room for views a service reads only part of (reads decode synchronously, one at a time). */
  private scratch = new Float64Array(0);
  /** Writes change records, where the store can range-read them back. */
  private readonly changes: ChangeRecorder | null;

  constructor(
    readonly registry: FeatureRegistry,
    readonly store: KeyValueStore,
    private readonly clock: Clock = systemClock,
  ) {
    this.changes = store.visitPrefix ? new ChangeRecorder() : null;
  }

  async getOnlineFeatures(
    serviceName: string,
    keys: readonly string[],
    options: OnlineReadOptions = {},
  ): Promise<OnlineFeatures> {
    const service = this.registry.resolve(serviceName);
    const views = service.views;
    // One view (the common case): its key prefix is passed once and the entity keys go as they are.
    // Several: every full key, still in one read.
    let storeKeys: readonly string[] = keys;
    let prefix = views.length === 1 ? onlineKeyPrefix(views[0]!.view) : '';
    if (views.length !== 1) {
      const all = new Array<string>(keys.length * views.length);
      for (let v = 0; v < views.length; v++)
        for (let k = 0; k < keys.length; k++) all[v * keys.length + k] = onlineKey(views[v]!.view, keys[k]!);
      storeKeys = all;
      prefix = '';
    }
    const now = this.clock.now();
    const width = service.numericNames.length;
    const room = options.into?.take(keys.length * width, keys.length * views.length);
    const values = (room?.values ?? new Float64Array(keys.length * width)).fill(Number.NaN);
    const eventTs = (room?.eventTs ?? new Float64Array(keys.length * views.length)).fill(Number.NaN);
    const lists: Scalar[][][] | null = options.lists ? keys.map(() => []) : null;
    const plan = readPlan(service);
    const scratch = this.scratch.length >= plan.scratch ? this.scratch : new Float64Array(plan.scratch);
    this.scratch = scratch;
    let expired = 0;
    // Decoded inside the store's read (zero copy): the bytes are only valid during the callback.
    const found = await this.store.visitMany(
      storeKeys,
      (index, bytes, start, end) => {
        const v = Math.floor(index / keys.length);
        const k = index - v * keys.length;
        const p = plan.views[v]!;
        const ts = decodeViewRow(p, bytes, start, end, values, k * width + p.column, scratch, now);
        if (Number.isNaN(ts)) {
          expired++;
          return;
        }
        eventTs[k * views.length + v] = ts;
        if (lists && p.listIdx.length > 0) {
          const row = decodeRow(bytes.subarray(start, end));
          p.listIdx.forEach((i, j) => {
            lists[k]![p.listColumn + j] = row.lists[i] ?? [];
          });
        }
      },
      prefix,
    );
    return {
      names: service.numericNames,
      values,
      listNames: service.listNames,
      lists,
      eventTs,
      found,
      expired,
    };
  }

  /**
   * The rows of a one-view service whose entity keys start with `entityPrefix` (every pair of one user,
   * say), in one range read instead of a point read per key. Resolves to null when the store cannot
   * range-read (Redis) or more than `limit` rows match; the caller then reads the keys it wants with
   * `getOnlineFeatures`. Rows past their TTL are left out.
   */
  async scanOnlineFeatures(
    serviceName: string,
    entityPrefix: string,
    limit: number,
  ): Promise<{ entities: string[]; values: Float64Array; names: string[] } | null> {
    const names = this.registry.resolve(serviceName).numericNames;
    const width = names.length;
    const entities: string[] = [];
    let values = new Float64Array(width * 8);
    const found = await this.visitRows(
      serviceName,
      entityPrefix,
      (entity, row) => {
        const at = entities.length * width;
        if (at + width > values.length) {
          const grown = new Float64Array(values.length * 2);
          grown.set(values);
          values = grown;
        }
        values.set(row, at);
        entities.push(entity);
      },
      limit,
    );
    if (found === null || found < 0) return null;
    return { entities, values: values.subarray(0, entities.length * width), names };
  }

  /**
   * Visits the live rows of a one-view service whose entity keys start with `entityPrefix`, in key order
   * and within one snapshot: `visit(entity, row, eventTs)` with the row's numbers in the service's columns
   * (a view reused for the next row: copy what you keep). With `after`, only entities after
   * `entityPrefix + after`. Resolves to how many it visited, to -1 as soon as more than `limit` keys match
   * (after visiting the first `limit`), or to null when the store cannot range-read (Redis).
   */
  async visitRows(
    serviceName: string,
    entityPrefix: string,
    visit: (entity: string, row: Float64Array, eventTs: number) => void,
    limit: number,
    after = '',
  ): Promise<number | null> {
    const service = this.registry.resolve(serviceName);
    if (service.views.length !== 1)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `visitRows reads one-view services; ${serviceName} has ${service.views.length} views`,
      );
    if (!this.store.visitPrefix) return null;
    const p = readPlan(service).views[0]!;
    const row = new Float64Array(service.numericNames.length);
    const now = this.clock.now();
    const scratch = this.scratch.length >= p.stored ? this.scratch : new Float64Array(p.stored);
    this.scratch = scratch;
    return this.store.visitPrefix(
      onlineKeyPrefix(p.view) + entityPrefix,
      (rest, bytes, start, end) => {
        row.fill(Number.NaN);
        const ts = decodeViewRow(p, bytes, start, end, row, 0, scratch, now);
        if (!Number.isNaN(ts)) visit(entityPrefix + rest, row, ts);
      },
      limit,
      after,
    );
  }

  /**
   * Stores rows, each with a native expiry at its event time plus the view's TTL. On a store that keeps
   * change records (see `change-feed.ts`), the same atomic write records which entities of each view it
   * wrote.
   */
  async writeRows(rows: readonly { view: FeatureViewDef; key: string; row: FeatureRow }[]): Promise<number> {
    const now = this.clock.now();
    const entries: PutEntry[] = [];
    const written = this.changes ? new Map<FeatureViewDef, string[]>() : null;
    for (const { view, key, row } of rows) {
      const ttlMs = Math.round(row.eventTs + view.ttlMs - now);
      if (ttlMs < 1) continue;
      entries.push({ key: onlineKey(view, key), value: encodeRow(row), ttlMs });
      if (written) {
        const keys = written.get(view);
        if (keys) keys.push(key);
        else written.set(view, [key]);
      }
    }
    if (entries.length === 0) return 0;
    const rowCount = entries.length;
    if (written) entries.push(...this.changes!.entries(written, now));
    await this.store.putMany(entries);
    if (written) await this.changes!.trim(this.store, written.keys(), now);
    return rowCount;
  }

  /** Follows the writes of `views` (null when the store keeps no change records). */
  followChanges(views: readonly FeatureViewDef[]): FeatureChangeFollower | null {
    return this.changes ? new FeatureChangeFollower(this.store, views, this.clock) : null;
  }

  /** The stored row of one entity in one view (debugging, the consistency check), TTL applied. */
  async readRow(view: FeatureViewDef, key: string): Promise<FeatureRow | null> {
    const bytes = await this.store.get(onlineKey(view, key));
    if (!bytes) return null;
    const row = decodeRow(bytes);
    return this.clock.now() - row.eventTs > view.ttlMs ? null : row;
  }
}
