import type { Event } from '../core/schema/index.js';
import { ENTITIES, type FeatureViewDef, KEY_SEPARATOR } from './definition.js';
import { assembleRow, type FeatureRow } from './row.js';
import { type ItemFacts, sourceRow } from './source.js';
import { type KeyState, ViewLayout } from './view-state.js';

export interface StreamingOptions {
  /** Upper bound on keys kept per view; the least recently updated keys are dropped past it. */
  maxKeysPerView?: number;
}

interface ViewRuntime {
  view: FeatureViewDef;
  layout: ViewLayout;
  /** Which source-row field gives the first key part and, for pair entities, the second. */
  first: 'user_id' | 'item_id' | 'creator_id';
  second: 'creator_id' | 'hashtag' | null;
  /**
   * States by key. Pair entities are kept two levels deep (first part, then second) so a lookup reuses the
   * event's own id strings instead of building and hashing a joined key for every event.
   */
  single: Map<string, KeyState>;
  pairs: Map<string, Map<string, KeyState>>;
  keys: number;
  /** Keys changed since the last `takeChanged`, each once (its state's `dirty` flag says it is listed). */
  dirtyFirst: string[];
  dirtySecond: (string | null)[];
  dirtyStates: KeyState[];
}

/**
 * The online engine: applies events in log order to every view's per-key tile state and remembers which
 * keys changed, so the writer can store their new rows in batches. It knows the catalogue through
 * `upsertItem` (fed from the catalog topic) to enrich events with their item's creator and hashtags.
 */
export class StreamingAggregator {
  private readonly runtimes: ViewRuntime[];
  private readonly items = new Map<string, ItemFacts>();
  private readonly maxKeys: number;
  events = 0;

  constructor(views: readonly FeatureViewDef[], options: StreamingOptions = {}) {
    this.runtimes = views.map((view) => {
      const parts = ENTITIES[view.entity].parts as readonly string[];
      return {
        view,
        layout: new ViewLayout(view),
        first: parts[0] as ViewRuntime['first'],
        second: (parts[1] ?? null) as ViewRuntime['second'],
        single: new Map(),
        pairs: new Map(),
        keys: 0,
        dirtyFirst: [],
        dirtySecond: [],
        dirtyStates: [],
      };
    });
    this.maxKeys = options.maxKeysPerView ?? 5_000_000;
  }

  upsertItem(itemId: string, facts: ItemFacts): void {
    this.items.set(itemId, facts);
  }

  apply(event: Event): void {
    this.events++;
    const item = 'item_id' in event && event.item_id ? this.items.get(event.item_id) : undefined;
    const row = sourceRow(event, item);
    for (const rt of this.runtimes) {
      if (!rt.layout.relevant(row)) continue;
      const first = row[rt.first];
      if (typeof first !== 'string' || first.length === 0) continue;
      if (rt.second === null) this.touch(rt, first, null, event.ts);
      else if (rt.second === 'creator_id') {
        if (typeof row.creator_id === 'string' && row.creator_id.length > 0)
          this.touch(rt, first, row.creator_id, event.ts);
      } else {
        const tags = item?.hashtags ?? [];
        for (let i = 0; i < tags.length; i++)
          if (tags.indexOf(tags[i]!) === i) this.touch(rt, first, tags[i]!, event.ts);
      }
    }
  }

  private touch(rt: ViewRuntime, first: string, second: string | null, ts: number): void {
    let state: KeyState | undefined;
    if (second === null) {
      state = rt.single.get(first);
      if (state === undefined) {
        this.makeRoom(rt);
        state = rt.layout.newState();
        rt.single.set(first, state);
        rt.keys++;
      }
    } else {
      let inner = rt.pairs.get(first);
      if (inner === undefined) {
        this.makeRoom(rt);
        inner = new Map();
        rt.pairs.set(first, inner);
      }
      state = inner.get(second);
      if (state === undefined) {
        state = rt.layout.newState();
        inner.set(second, state);
        rt.keys++;
      }
    }
    rt.layout.apply(state, ts);
    if (rt.layout.markDirty(state)) {
      rt.dirtyFirst.push(first);
      rt.dirtySecond.push(second);
      rt.dirtyStates.push(state);
    }
  }

  /**
   * Past the bound, the oldest keys go, first in, first out (for pair entities, every pair of the oldest
   * first part): their windows are the likeliest to be stale.
   */
  private makeRoom(rt: ViewRuntime): void {
    if (rt.keys < this.maxKeys) return;
    if (rt.second === null) {
      const oldest = rt.single.entries().next();
      if (oldest.done) return;
      rt.single.delete(oldest.value[0]);
      rt.layout.release(oldest.value[1]);
      rt.keys--;
      return;
    }
    const oldest = rt.pairs.entries().next();
    if (oldest.done) return;
    rt.pairs.delete(oldest.value[0]);
    for (const state of oldest.value[1].values()) rt.layout.release(state);
    rt.keys -= oldest.value[1].size;
  }

  private stateOf(rt: ViewRuntime, first: string, second: string | null): KeyState | undefined {
    return second === null ? rt.single.get(first) : rt.pairs.get(first)?.get(second);
  }

  /** The current row of `key` in `view`, as of its newest event; null when the key has no state. */
  row(viewName: string, key: string): FeatureRow | null {
    const rt = this.runtimes.find((r) => r.view.name === viewName);
    if (!rt) return null;
    const cut = key.indexOf(KEY_SEPARATOR);
    const state =
      rt.second === null
        ? rt.single.get(key)
        : cut < 0
          ? undefined
          : this.stateOf(rt, key.slice(0, cut), key.slice(cut + 1));
    if (state === undefined) return null;
    const ts = rt.layout.eventTs(state);
    return assembleRow(rt.view, rt.layout.evaluate(state, ts), ts);
  }

  /** Rows of every key changed since the last call, per view. */
  *takeChanged(): Generator<{ view: FeatureViewDef; key: string; row: FeatureRow }> {
    for (const rt of this.runtimes) {
      const firsts = rt.dirtyFirst;
      const seconds = rt.dirtySecond;
      const states = rt.dirtyStates;
      rt.dirtyFirst = [];
      rt.dirtySecond = [];
      rt.dirtyStates = [];
      for (let i = 0; i < states.length; i++) {
        const state = states[i]!;
        rt.layout.clearDirty(state);
        const second = seconds[i]!;
        // A state evicted (and perhaps reused for another key) since it was listed has nothing to report.
        if (this.stateOf(rt, firsts[i]!, second) !== state) continue;
        const key = second === null ? firsts[i]! : `${firsts[i]}${KEY_SEPARATOR}${second}`;
        yield {
          view: rt.view,
          key,
          row: assembleRow(
            rt.view,
            rt.layout.evaluate(state, rt.layout.eventTs(state)),
            rt.layout.eventTs(state),
          ),
        };
      }
    }
  }

  keyCount(viewName: string): number {
    return this.runtimes.find((r) => r.view.name === viewName)?.keys ?? 0;
  }
}
