import {
  type AggregationDef,
  canonicalJson,
  type FeatureViewDef,
  tilesIn,
  WINDOWS,
  type WindowName,
} from './definition.js';
import { type Compiled, compileJs, type Expr, type Scalar, type SourceRow } from './expr.js';
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
  /** Index into the layout's distinct filters, -1 when the aggregation sees every row. */
  filter: number;
  /** Index into the layout's distinct value expressions, -1 when it has none. */
  value: number;
  /** Offset of this aggregation's accumulators in `KeyState.acc`; `width` values per slot. */
  accBase: number;
  width: number;
  /** count, sum, mean: offset of the running window totals (`width` values), kept so reads are O(1). */
  runBase: number;
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

/** States allocated per pooled chunk. */
const POOL_CHUNK_STATES = 4096;

export interface KeyState {
  /**
   * One buffer per key (one allocation): the tile id held by each slot, then the newest tile of each window,
   * then every aggregation's accumulators (offsets in the layout).
   */
  data: Float64Array;
  regs: Uint8Array | null;
  lists: { values: Scalar[]; tiles: number[] }[] | null;
  /** Event time and log offset of the newest event applied. */
  eventTs: number;
  /** Changed since its row was last taken (the streaming aggregator's bookkeeping). */
  dirty: boolean;
}

export class ViewLayout {
  readonly groups: GroupPlan[] = [];
  readonly aggregations: AggregationPlan[] = [];
  /** Distinct filters and value expressions: each is evaluated once per row, however many features share it. */
  private readonly filters: Compiled[] = [];
  private readonly values: Compiled[] = [];
  /** Aggregations without a filter, and those of each distinct filter: a row visits only the ones it passes. */
  private readonly unfiltered: AggregationPlan[] = [];
  /** decayed_sum: 2^-(d * tileMs / halfLife) for a tile d tiles older than the newest, per aggregation. */
  private readonly decayWeights: Float64Array[] = [];
  /** Per window group, its aggregations, and those with running totals. */
  private readonly aggregationsOf: AggregationPlan[][] = [];
  private readonly runningOf: AggregationPlan[][] = [];
  private readonly byFilter: AggregationPlan[][] = [];
  // Per-row scratch, reused so applying a row allocates nothing.
  private readonly passed: Uint8Array;
  private readonly valueOf: Scalar[];
  private readonly late: Uint8Array;
  private readonly slotOf: Int32Array;
  private readonly tileOf: Float64Array;
  private chunk = new Float64Array(0);
  private regChunk: Uint8Array | null = null;
  private chunkUsed = POOL_CHUNK_STATES;
  private readonly free: KeyState[] = [];
  /** A new key's buffer: slots and heads at -1 (empty), max accumulators at -Infinity. */
  private readonly template: Float64Array;
  private readonly headsAt: number;
  private readonly slots: number;
  private readonly accSize: number;
  private readonly regSize: number;
  private readonly listCount: number;

  constructor(readonly view: FeatureViewDef) {
    const groupOf = new Map<WindowName, number>();
    const filterIndex = new Map<string, number>();
    const valueIndex = new Map<string, number>();
    const intern = (expr: Expr, index: Map<string, number>, list: Compiled[]) => {
      const key = canonicalJson(expr);
      let at = index.get(key);
      if (at === undefined) {
        at = list.length;
        index.set(key, at);
        list.push(compileJs(expr));
      }
      return at;
    };
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
      if (def.kind === 'decayed_sum') {
        extraBase = this.decayWeights.length;
        const tileMs = WINDOWS[def.window].tileMs;
        this.decayWeights.push(
          Float64Array.from({ length: tiles }, (_, d) => 2 ** (-(d * tileMs) / def.halfLifeMs)),
        );
      }
      if (def.kind === 'distinct_count') {
        // Registers per tile, then the window's merged registers (kept current, rebuilt after expiry).
        extraBase = regs;
        regs += (tiles + 1) << precision;
      }
      // count/sum/mean keep running window totals; distinct_count keeps a "merged registers are stale" flag.
      const running =
        def.kind === 'count' || def.kind === 'sum' || def.kind === 'mean' || def.kind === 'distinct_count';
      this.aggregations.push({
        def,
        group,
        runBase: running ? acc + width * tiles : -1,
        filter: def.filter ? intern(def.filter, filterIndex, this.filters) : -1,
        value: 'value' in def && def.value ? intern(def.value, valueIndex, this.values) : -1,
        accBase: acc,
        width,
        extraBase,
        precision,
      });
      // distinct_count keeps two: the stale flag and the cached estimate (NaN when it must be recomputed).
      acc += width * tiles + (running ? (def.kind === 'distinct_count' ? 2 : width) : 0);
    }
    for (let f = 0; f < this.filters.length; f++) this.byFilter.push([]);
    for (const a of this.aggregations) {
      if (a.filter < 0) this.unfiltered.push(a);
      else this.byFilter[a.filter]!.push(a);
    }
    // Accumulators follow the tile ids and window heads in each key's buffer.
    const accAt = slots + this.groups.length;
    for (const a of this.aggregations) {
      a.accBase += accAt;
      if (a.runBase >= 0) a.runBase += accAt;
    }
    for (let g = 0; g < this.groups.length; g++) {
      this.aggregationsOf.push(this.aggregations.filter((a) => a.group === g));
      this.runningOf.push(this.aggregations.filter((a) => a.group === g && a.runBase >= 0));
    }
    this.headsAt = slots;
    this.template = new Float64Array(accAt + acc);
    this.template.fill(-1, 0, accAt);
    for (const a of this.aggregations)
      if (a.def.kind === 'max')
        this.template.fill(Number.NEGATIVE_INFINITY, a.accBase, a.accBase + this.groups[a.group]!.tiles);
    for (const a of this.aggregations)
      if (a.def.kind === 'distinct_count') this.template[a.runBase + 1] = Number.NaN;
    this.slots = slots;
    this.accSize = acc;
    this.regSize = regs;
    this.listCount = lists;
    this.passed = new Uint8Array(this.filters.length);
    this.valueOf = new Array(this.values.length).fill(null);
    this.late = new Uint8Array(this.groups.length);
    this.slotOf = new Int32Array(this.groups.length);
    this.tileOf = new Float64Array(this.groups.length);
  }

  /**
   * A fresh state. Its buffers are views into large pooled chunks rather than arrays of their own: with
   * hundreds of thousands of keys, one backing store per key made garbage collection the main cost of
   * streaming. Released states are reused.
   */
  newState(): KeyState {
    const reused = this.free.pop();
    if (reused) {
      reused.data.set(this.template);
      reused.regs?.fill(0);
      if (reused.lists) for (const list of reused.lists) list.values.length = list.tiles.length = 0;
      reused.eventTs = Number.NEGATIVE_INFINITY;
      reused.dirty = false;
      return reused;
    }
    if (this.chunkUsed === POOL_CHUNK_STATES) {
      this.chunk = new Float64Array(POOL_CHUNK_STATES * this.template.length);
      this.regChunk = this.regSize > 0 ? new Uint8Array(POOL_CHUNK_STATES * this.regSize) : null;
      this.chunkUsed = 0;
    }
    const at = this.chunkUsed++;
    const stride = this.template.length;
    const data = this.chunk.subarray(at * stride, (at + 1) * stride);
    data.set(this.template);
    return {
      data,
      regs: this.regChunk ? this.regChunk.subarray(at * this.regSize, (at + 1) * this.regSize) : null,
      lists:
        this.listCount > 0 ? Array.from({ length: this.listCount }, () => ({ values: [], tiles: [] })) : null,
      eventTs: Number.NEGATIVE_INFINITY,
      dirty: false,
    };
  }

  /** Gives a state's buffers back for reuse (the key was evicted). */
  release(state: KeyState): void {
    this.free.push(state);
  }

  /**
   * Whether `row` concerns this view: true when some aggregation's filter passes (or one has none). A view's
   * rows change only on the events that concern it; the SQL engine keeps the same rows (sql.ts). Also
   * evaluates the row's filters and values once for the `apply` calls that follow, one per entity key.
   */
  relevant(row: SourceRow): boolean {
    let any = this.unfiltered.length > 0;
    for (let f = 0; f < this.filters.length; f++) {
      const pass = this.filters[f]!(row) === true;
      this.passed[f] = pass ? 1 : 0;
      if (pass) any = true;
    }
    if (any) for (let v = 0; v < this.values.length; v++) this.valueOf[v] = this.values[v]!(row);
    return any;
  }

  /** Applies one source row at event time `ts` to the key's state; call `relevant(row)` first. */
  apply(state: KeyState, row: SourceRow, ts: number): void {
    if (ts > state.eventTs) state.eventTs = ts;
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      const tile = Math.floor(ts / group.tileMs);
      const k = tile % group.tiles;
      const slot = group.slotBase + k;
      const held = state.data[slot]!;
      this.tileOf[g] = tile;
      this.slotOf[g] = k;
      this.late[g] = 0;
      if (held > tile) {
        this.late[g] = 1; // the tile has left the ring: a row this late no longer counts
        continue;
      }
      const head = state.data[this.headsAt + g]!;
      if (tile > head) {
        this.expire(state, g, head, tile);
        state.data[this.headsAt + g] = tile;
      }
      if (held < tile) {
        state.data[slot] = tile;
        this.resetSlot(state, g, k);
      }
    }
    this.update(state, ts, this.unfiltered);
    for (let f = 0; f < this.filters.length; f++)
      if (this.passed[f] === 1) this.update(state, ts, this.byFilter[f]!);
  }

  private update(state: KeyState, ts: number, aggregations: readonly AggregationPlan[]): void {
    const acc = state.data;
    for (const a of aggregations) {
      const g = a.group;
      if (this.late[g] === 1) continue;
      const k = this.slotOf[g]!;
      const at = a.accBase + k * a.width;
      const v = a.value >= 0 ? this.valueOf[a.value]! : null;
      switch (a.def.kind) {
        case 'count':
          acc[at]! += 1;
          acc[a.runBase]! += 1;
          break;
        case 'sum':
        case 'mean':
          if (typeof v === 'number') {
            acc[at]! += v;
            acc[at + 1]! += 1;
            acc[a.runBase]! += v;
            acc[a.runBase + 1]! += 1;
          }
          break;
        case 'max':
          if (typeof v === 'number' && v > acc[at]!) acc[at] = v;
          break;
        case 'decayed_sum': {
          const x = a.value >= 0 ? v : 1;
          if (typeof x === 'number')
            acc[at]! += x * 2 ** ((ts - this.tileOf[g]! * this.groups[g]!.tileMs) / a.def.halfLifeMs);
          break;
        }
        case 'last_n': {
          if (v === null) break;
          const list = state.lists![a.extraBase]!;
          list.values.unshift(v);
          list.tiles.unshift(this.tileOf[g]!);
          if (list.values.length > a.def.n) {
            list.values.length = a.def.n;
            list.tiles.length = a.def.n;
          }
          break;
        }
        case 'distinct_count':
          if (v !== null) {
            const text = String(v);
            hllAdd(state.regs!, a.extraBase + (k << a.precision), a.precision, text);
            if (hllAdd(state.regs!, a.extraBase + (this.groups[g]!.tiles << a.precision), a.precision, text))
              acc[a.runBase + 1] = Number.NaN;
          }
          break;
      }
    }
  }

  /**
   * The window of `g` moves from ending at tile `head` to ending at `tile`: tiles that leave it are taken out
   * of the running totals (each once: only while its slot still holds it).
   */
  private expire(state: KeyState, g: number, head: number, tile: number): void {
    const running = this.runningOf[g]!;
    if (head < 0 || running.length === 0) return;
    const group = this.groups[g]!;
    const n = group.tiles;
    const d = state.data;
    for (const a of running)
      if (a.def.kind === 'distinct_count') {
        d[a.runBase] = 1;
        d[a.runBase + 1] = Number.NaN;
      }
    if (tile - head >= n) {
      for (const a of running) if (a.def.kind !== 'distinct_count') d.fill(0, a.runBase, a.runBase + a.width);
      return;
    }
    for (let t = Math.max(0, head - n + 1); t <= tile - n; t++) {
      const k = t % n;
      if (d[group.slotBase + k] !== t) continue;
      for (const a of running) {
        const at = a.accBase + k * a.width;
        for (let w = 0; w < a.width; w++) d[a.runBase + w]! -= d[at + w]!;
      }
    }
  }

  private resetSlot(state: KeyState, group: number, k: number): void {
    for (const a of this.aggregationsOf[group]!) {
      const at = a.accBase + k * a.width;
      if (a.def.kind === 'max') state.data[at] = Number.NEGATIVE_INFINITY;
      else state.data.fill(0, at, at + a.width);
      if (a.def.kind === 'distinct_count')
        state.regs!.fill(0, a.extraBase + (k << a.precision), a.extraBase + ((k + 1) << a.precision));
    }
  }

  /** True when slot `k` of `group` holds a tile inside the window that ends at the group's newest tile. */
  private live(state: KeyState, group: GroupPlan, g: number, k: number): boolean {
    const tile = state.data[group.slotBase + k]!;
    return tile >= 0 && tile > state.data[this.headsAt + g]! - group.tiles;
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
      const acc = state.data;
      switch (a.def.kind) {
        case 'count':
          out.push(acc[a.runBase]!);
          break;
        case 'sum':
        case 'mean': {
          const s = acc[a.runBase]!;
          const n = acc[a.runBase + 1]!;
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
          // Each tile's weight is 2^-((ts - tileStart) / h): one power for the newest tile, then a
          // per-definition table for the distance in tiles, instead of a power per tile.
          const head = acc[this.headsAt + g]!;
          const scale = 2 ** (-(ts - head * group.tileMs) / a.def.halfLifeMs);
          const weights = this.decayWeights[a.extraBase]!;
          let s = 0;
          for (let k = 0; k < group.tiles; k++) {
            if (!this.live(state, group, g, k)) continue;
            s += acc[a.accBase + k]! * weights[head - acc[group.slotBase + k]!]!;
          }
          out.push(s * scale);
          break;
        }
        case 'last_n': {
          const list = state.lists![a.extraBase]!;
          const oldest = state.data[this.headsAt + g]! - group.tiles;
          const values: Scalar[] = [];
          for (let k = 0; k < list.values.length; k++)
            if (list.tiles[k]! > oldest) values.push(list.values[k]!);
          out.push(values);
          break;
        }
        case 'distinct_count': {
          const m = 1 << a.precision;
          const regs = state.regs!;
          const mergedAt = a.extraBase + (group.tiles << a.precision);
          if (acc[a.runBase] === 1) {
            // Tiles left the window since the merge: rebuild it from the live tiles.
            regs.fill(0, mergedAt, mergedAt + m);
            for (let k = 0; k < group.tiles; k++) {
              if (!this.live(state, group, g, k)) continue;
              const base = a.extraBase + (k << a.precision);
              for (let r = 0; r < m; r++)
                if (regs[base + r]! > regs[mergedAt + r]!) regs[mergedAt + r] = regs[base + r]!;
            }
            acc[a.runBase] = 0;
          }
          if (Number.isNaN(acc[a.runBase + 1]!)) {
            const merged = regs.subarray(mergedAt, mergedAt + m);
            acc[a.runBase + 1] = merged.some((r) => r > 0) ? Math.round(hllEstimate(merged, a.precision)) : 0;
          }
          out.push(acc[a.runBase + 1]!);
          break;
        }
      }
    }
    return out;
  }
}
