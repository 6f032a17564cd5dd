import type { Event } from '../core/schema/index.js';
import { ENTITIES, type FeatureViewDef, KEY_SEPARATOR } from './definition.js';
import type { SourceRow } from './expr.js';
import type { FeatureRow } from './row.js';
import { emptySourceRow, fillSourceRow, type ItemFacts } from './source.js';
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
  /** Whether keys were evicted since the dirty lists were last taken (their entries may be stale). */
  evicted: boolean;
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
  /** The source row of the event being applied, refilled for each one. */
  private readonly source: SourceRow = emptySourceRow();
  events = 0;

  constructor(views: readonly FeatureViewDef[], options: StreamingOptions = {}) {
    this.runtimes = views.map((view) => {
      const parts = ENTITIES[view.entity].parts as readonly string[];
      return {
        view,
        // Most keys of a pair entity see one or two events: they start compact (see KeyState).
        layout: new ViewLayout(view, { compactKeys: parts.length > 1 }),
        first: parts[0] as ViewRuntime['first'],
        second: (parts[1] ?? null) as ViewRuntime['second'],
        single: new Map(),
        pairs: new Map(),
        keys: 0,
        evicted: false,
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
    const itemId = (event as { item_id?: string }).item_id;
    const item = itemId ? this.items.get(itemId) : undefined;
    const row = fillSourceRow(this.source, event, item);
    const ts = event.ts;
    const runtimes = this.runtimes;
    for (let r = 0; r < runtimes.length; r++) {
      const rt = runtimes[r]!;
      if (!rt.layout.relevant(row)) continue;
      const first =
        rt.first === 'user_id' ? row.user_id : rt.first === 'item_id' ? row.item_id : row.creator_id;
      if (typeof first !== 'string' || first.length === 0) continue;
      if (rt.second === null) this.touchSingle(rt, first, ts);
      else if (rt.second === 'creator_id') {
        const creator = row.creator_id;
        if (typeof creator === 'string' && creator.length > 0)
          this.touchPair(rt, this.inner(rt, first), first, creator, ts);
      } else {
        const tags = item?.hashtags;
        if (tags === undefined || tags.length === 0) continue;
        const inner = this.inner(rt, first);
        for (let i = 0; i < tags.length; i++)
          if (i === 0 || tags.indexOf(tags[i]!) === i) this.touchPair(rt, inner, first, tags[i]!, ts);
      }
    }
  }

  private touchSingle(rt: ViewRuntime, first: string, ts: number): void {
    let state = rt.single.get(first);
    if (state === undefined) {
      this.makeRoom(rt);
      state = rt.layout.newState();
      rt.single.set(first, state);
      rt.keys++;
    }
    this.update(rt, state, first, null, ts);
  }

  /** The states of pairs starting with `first`, made (after room is made for it) when there are none. */
  private inner(rt: ViewRuntime, first: string): Map<string, KeyState> {
    let inner = rt.pairs.get(first);
    if (inner === undefined) {
      this.makeRoom(rt);
      inner = new Map();
      rt.pairs.set(first, inner);
    }
    return inner;
  }

  private touchPair(
    rt: ViewRuntime,
    inner: Map<string, KeyState>,
    first: string,
    second: string,
    ts: number,
  ): void {
    let state = inner.get(second);
    if (state === undefined) {
      state = rt.layout.newState();
      inner.set(second, state);
      rt.keys++;
    }
    this.update(rt, state, first, second, ts);
  }

  /** Applies the event at `ts` to a key's state and lists the key as changed, once until taken. */
  private update(rt: ViewRuntime, state: KeyState, first: string, second: string | null, ts: number): void {
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
    rt.evicted = true;
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
    return rt.layout.row(state);
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
      const evicted = rt.evicted;
      rt.evicted = false;
      for (let i = 0; i < states.length; i++) {
        const state = states[i]!;
        rt.layout.clearDirty(state);
        const second = seconds[i]!;
        // A state evicted (and perhaps reused for another key) since it was listed has nothing to report.
        if ((evicted || rt.evicted) && this.stateOf(rt, firsts[i]!, second) !== state) continue;
        const key = second === null ? firsts[i]! : `${firsts[i]}${KEY_SEPARATOR}${second}`;
        yield { view: rt.view, key, row: rt.layout.row(state) };
      }
    }
  }

  keyCount(viewName: string): number {
    return this.runtimes.find((r) => r.view.name === viewName)?.keys ?? 0;
  }
}
