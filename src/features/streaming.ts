import type { Event } from '../core/schema/index.js';
import type { FeatureViewDef } from './definition.js';
import { assembleRow, type FeatureRow } from './row.js';
import { entityKeys, type ItemFacts, sourceRow } from './source.js';
import { type KeyState, ViewLayout } from './view-state.js';

export interface StreamingOptions {
  /** Upper bound on keys kept per view; the least recently updated keys are dropped past it. */
  maxKeysPerView?: number;
}

interface ViewRuntime {
  view: FeatureViewDef;
  layout: ViewLayout;
  states: Map<string, KeyState>;
  /** Keys changed since the last `takeChanged`, each once (its state's `dirty` flag says it is listed). */
  dirtyKeys: string[];
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
    this.runtimes = views.map((view) => ({
      view,
      layout: new ViewLayout(view),
      states: new Map(),
      dirtyKeys: [],
      dirtyStates: [],
    }));
    this.maxKeys = options.maxKeysPerView ?? 5_000_000;
  }

  upsertItem(itemId: string, facts: ItemFacts): void {
    this.items.set(itemId, facts);
  }

  apply(event: Event): void {
    this.events++;
    const item = 'item_id' in event && event.item_id ? this.items.get(event.item_id) : undefined;
    const row = sourceRow(event, item);
    const hashtags = item?.hashtags ?? [];
    for (const rt of this.runtimes) {
      if (!rt.layout.relevant(row)) continue;
      for (const key of entityKeys(rt.view.entity, row, hashtags)) {
        let state = rt.states.get(key);
        if (state === undefined) {
          state = rt.layout.newState();
          // Past the bound the oldest key goes (first in, first out): its windows are the likeliest to be stale.
          if (rt.states.size >= this.maxKeys) this.evictOldest(rt);
          rt.states.set(key, state);
        }
        rt.layout.apply(state, row, event.ts);
        if (!state.dirty) {
          state.dirty = true;
          rt.dirtyKeys.push(key);
          rt.dirtyStates.push(state);
        }
      }
    }
  }

  private evictOldest(rt: ViewRuntime): void {
    const oldest = rt.states.entries().next();
    if (oldest.done) return;
    rt.states.delete(oldest.value[0]);
    rt.layout.release(oldest.value[1]);
  }

  /** The current row of `key` in `view`, as of its newest event; null when the key has no state. */
  row(viewName: string, key: string): FeatureRow | null {
    const rt = this.runtimes.find((r) => r.view.name === viewName);
    const state = rt?.states.get(key);
    if (!rt || !state) return null;
    return assembleRow(rt.view, rt.layout.evaluate(state, state.eventTs), state.eventTs);
  }

  /** Rows of every key changed since the last call, per view. */
  *takeChanged(): Generator<{ view: FeatureViewDef; key: string; row: FeatureRow }> {
    for (const rt of this.runtimes) {
      const keys = rt.dirtyKeys;
      const states = rt.dirtyStates;
      rt.dirtyKeys = [];
      rt.dirtyStates = [];
      for (let i = 0; i < keys.length; i++) {
        const state = states[i]!;
        state.dirty = false;
        // A state evicted (and perhaps reused for another key) since it was listed has nothing to report.
        if (rt.states.get(keys[i]!) !== state) continue;
        yield {
          view: rt.view,
          key: keys[i]!,
          row: assembleRow(rt.view, rt.layout.evaluate(state, state.eventTs), state.eventTs),
        };
      }
    }
  }

  keyCount(viewName: string): number {
    return this.runtimes.find((r) => r.view.name === viewName)?.states.size ?? 0;
  }
}
