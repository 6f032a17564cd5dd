import { type AggregationDef, type FeatureViewDef, tilesIn, WINDOWS, type WindowName } from './definition.js';
import { type Compiled, compileJs, type Scalar, type SourceRow } from './expr.js';
import { hllAdd, hllEstimate } from './hll.js';

/**
 * The streaming state of one feature view for one entity key, and the arithmetic on it. Each window keeps a
 * ring of tiles (slot = tile mod tiles-per-window); each aggregation keeps a few accumulators per slot, so
 * memory per key is fixed by the definition, whatever the traffic. `evaluate` combines the slots of the
 * window that ends at the newest tile. The offline SQL (sql.ts) computes the same definition; keep them
 * in step.
 */

interface GroupPlan {
  window: WindowName;
  tileMs: number;
  tiles: number;
  /** Offset of this group's slots in `KeyState.tiles`. */
  slotBase: number;
}

export interface AggregationPlan {
  def: AggregationDef;
  group: number;
  filter: Compiled | null;
  value: Compiled | null;
  /** Offset of this aggregation's accumulators in `KeyState.acc`; `width` values per slot. */
  accBase: number;
  width: number;
  /** last_n: index into `KeyState.lists`; distinct_count: offset into `KeyState.regs`. */
  extraBase: number;
  precision: number;
}

/** Accumulators per slot for each kind. */
const WIDTH: Record<AggregationDef['kind'], number> = {
  count: 1,
  sum: 2, // sum, non-null rows
  mean: 2, // sum, non-null rows
  max: 1,
  decayed_sum: 1, // sum of value * 2^((t - tileStart) / halfLife)
  last_n: 0,
  distinct_count: 0,
};

export interface KeyState {
  tiles: Float64Array;
  heads: Float64Array;
  acc: Float64Array;
  regs: Uint8Array | null;
  lists: { values: Scalar[]; tiles: number[] }[];
  /** Event time and log offset of the newest event applied. */
  eventTs: number;
}

export class ViewLayout {
  readonly groups: GroupPlan[] = [];
  readonly aggregations: AggregationPlan[] = [];
  private readonly slots: number;
  private readonly accSize: number;
  private readonly regSize: number;
  private readonly listCount: number;

  constructor(readonly view: FeatureViewDef) {
    const groupOf = new Map<WindowName, number>();
    let slots = 0;
    let acc = 0;
    let regs = 0;
    let lists = 0;
    for (const def of view.features) {
      if (def.kind === 'ratio') continue;
      let group = groupOf.get(def.window);
      if (group === undefined) {
        group = this.groups.length;
        groupOf.set(def.window, group);
        this.groups.push({
          window: def.window,
          tileMs: WINDOWS[def.window].tileMs,
          tiles: tilesIn(def.window),
          slotBase: slots,
        });
        slots += tilesIn(def.window);
      }
      const tiles = this.groups[group]!.tiles;
      const width = WIDTH[def.kind];
      const precision = def.kind === 'distinct_count' ? (def.precision ?? 7) : 0;
      let extraBase = 0;
      if (def.kind === 'last_n') extraBase = lists++;
      if (def.kind === 'distinct_count') {
        extraBase = regs;
        regs += tiles << precision;
      }
      this.aggregations.push({
        def,
        group,
        filter: def.filter ? compileJs(def.filter) : null,
        value: 'value' in def && def.value ? compileJs(def.value) : null,
        accBase: acc,
        width,
        extraBase,
        precision,
      });
      acc += width * tiles;
    }
    this.slots = slots;
    this.accSize = acc;
    this.regSize = regs;
    this.listCount = lists;
  }

  newState(): KeyState {
    const state: KeyState = {
      tiles: new Float64Array(this.slots).fill(-1),
      heads: new Float64Array(this.groups.length).fill(-1),
      acc: new Float64Array(this.accSize),
      regs: this.regSize > 0 ? new Uint8Array(this.regSize) : null,
      lists: Array.from({ length: this.listCount }, () => ({ values: [], tiles: [] })),
      eventTs: Number.NEGATIVE_INFINITY,
    };
    for (const a of this.aggregations)
      if (a.def.kind === 'max')
        state.acc.fill(Number.NEGATIVE_INFINITY, a.accBase, a.accBase + this.groups[a.group]!.tiles);
    return state;
  }

  /** Applies one source row at event time `ts` to the key's state. */
  apply(state: KeyState, row: SourceRow, ts: number): void {
    if (ts > state.eventTs) state.eventTs = ts;
    const late = new Uint8Array(this.groups.length);
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      const tile = Math.floor(ts / group.tileMs);
      const slot = group.slotBase + (tile % group.tiles);
      const held = state.tiles[slot]!;
      if (held > tile) {
        late[g] = 1; // the tile has left the ring: a row this late no longer counts
        continue;
      }
      if (held < tile) {
        state.tiles[slot] = tile;
        this.resetSlot(state, g, tile % group.tiles);
      }
      if (tile > state.heads[g]!) state.heads[g] = tile;
    }
    for (const a of this.aggregations) {
      if (late[a.group]) continue;
      if (a.filter && a.filter(row) !== true) continue;
      const group = this.groups[a.group]!;
      const tile = Math.floor(ts / group.tileMs);
      const k = tile % group.tiles;
      const at = a.accBase + k * a.width;
      const acc = state.acc;
      switch (a.def.kind) {
        case 'count':
          acc[at]! += 1;
          break;
        case 'sum':
        case 'mean': {
          const v = a.value!(row);
          if (typeof v === 'number') {
            acc[at]! += v;
            acc[at + 1]! += 1;
          }
          break;
        }
        case 'max': {
          const v = a.value!(row);
          if (typeof v === 'number' && v > acc[at]!) acc[at] = v;
          break;
        }
        case 'decayed_sum': {
          const v = a.value ? a.value(row) : 1;
          if (typeof v === 'number') acc[at]! += v * 2 ** ((ts - tile * group.tileMs) / a.def.halfLifeMs);
          break;
        }
        case 'last_n': {
          const v = a.value!(row);
          if (v === null) break;
          const list = state.lists[a.extraBase]!;
          list.values.unshift(v);
          list.tiles.unshift(tile);
          if (list.values.length > a.def.n) {
            list.values.length = a.def.n;
            list.tiles.length = a.def.n;
          }
          break;
        }
        case 'distinct_count': {
          const v = a.value!(row);
          if (v === null) break;
          hllAdd(state.regs!, a.extraBase + (k << a.precision), a.precision, String(v));
          break;
        }
      }
    }
  }

  private resetSlot(state: KeyState, group: number, k: number): void {
    for (const a of this.aggregations) {
      if (a.group !== group) continue;
      const at = a.accBase + k * a.width;
      if (a.def.kind === 'max') state.acc[at] = Number.NEGATIVE_INFINITY;
      else state.acc.fill(0, at, at + a.width);
      if (a.def.kind === 'distinct_count')
        state.regs!.fill(0, a.extraBase + (k << a.precision), a.extraBase + ((k + 1) << a.precision));
    }
  }

  /** True when slot `k` of `group` holds a tile inside the window that ends at the group's newest tile. */
  private live(state: KeyState, group: GroupPlan, g: number, k: number): boolean {
    const tile = state.tiles[group.slotBase + k]!;
    return tile >= 0 && tile > state.heads[g]! - group.tiles;
  }

  /**
   * The value of every aggregation of the view, in definition order (ratios excluded), as of `ts`: numbers
   * (null when SQL would give NULL) and, for last_n, lists newest first.
   */
  evaluate(state: KeyState, ts: number): (Scalar | Scalar[])[] {
    const out: (Scalar | Scalar[])[] = [];
    for (const a of this.aggregations) {
      const g = a.group;
      const group = this.groups[g]!;
      const acc = state.acc;
      switch (a.def.kind) {
        case 'count': {
          let c = 0;
          for (let k = 0; k < group.tiles; k++) if (this.live(state, group, g, k)) c += acc[a.accBase + k]!;
          out.push(c);
          break;
        }
        case 'sum':
        case 'mean': {
          let s = 0;
          let n = 0;
          for (let k = 0; k < group.tiles; k++) {
            if (!this.live(state, group, g, k)) continue;
            s += acc[a.accBase + k * 2]!;
            n += acc[a.accBase + k * 2 + 1]!;
          }
          out.push(n === 0 ? null : a.def.kind === 'sum' ? s : s / n);
          break;
        }
        case 'max': {
          let m = Number.NEGATIVE_INFINITY;
          for (let k = 0; k < group.tiles; k++)
            if (this.live(state, group, g, k) && acc[a.accBase + k]! > m) m = acc[a.accBase + k]!;
          out.push(m === Number.NEGATIVE_INFINITY ? null : m);
          break;
        }
        case 'decayed_sum': {
          let s = 0;
          for (let k = 0; k < group.tiles; k++) {
            if (!this.live(state, group, g, k)) continue;
            const tileStart = state.tiles[group.slotBase + k]! * group.tileMs;
            s += acc[a.accBase + k]! * 2 ** (-(ts - tileStart) / a.def.halfLifeMs);
          }
          out.push(s);
          break;
        }
        case 'last_n': {
          const list = state.lists[a.extraBase]!;
          const oldest = state.heads[g]! - group.tiles;
          const values: Scalar[] = [];
          for (let k = 0; k < list.values.length; k++)
            if (list.tiles[k]! > oldest) values.push(list.values[k]!);
          out.push(values);
          break;
        }
        case 'distinct_count': {
          const m = 1 << a.precision;
          const merged = new Uint8Array(m);
          let any = false;
          for (let k = 0; k < group.tiles; k++) {
            if (!this.live(state, group, g, k)) continue;
            const base = a.extraBase + (k << a.precision);
            for (let r = 0; r < m; r++) {
              const v = state.regs![base + r]!;
              if (v > merged[r]!) merged[r] = v;
              if (v > 0) any = true;
            }
          }
          out.push(any ? Math.round(hllEstimate(merged, a.precision)) : 0);
          break;
        }
      }
    }
    return out;
  }
}
