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

/** Target size of one pooled chunk: big enough to amortise, small enough to allocate without a pause. */
const CHUNK_BYTES = 2 << 20;

/**
 * A key's state is a slot number: its numbers live at `slot`'s place in large pooled Float64Array chunks
 * (tile ids, window heads, accumulators, then its event time and dirty flag), its HyperLogLog registers in
 * pooled byte chunks, its last_n lists in a side table. With hundreds of thousands of keys, objects and
 * backing stores per key made garbage collection the main cost of streaming; slots make none.
 */
export type KeyState = number;

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
  private readonly chunks: Float64Array[] = [];
  private readonly regChunks: Uint8Array[] = [];
  private readonly lists: { values: Scalar[]; tiles: number[] }[][] = [];
  private allocated = 0;
  private readonly free: KeyState[] = [];
  private readonly stride: number;
  private readonly eventTsAt: number;
  /** States per chunk (a power of two), so a slot's chunk is `slot >>> chunkShift`. */
  private readonly chunkShift: number;
  private readonly chunkStates: number;
  private readonly chunkMask: number;
  // The slot being worked on (see bind).
  private d: Float64Array = new Float64Array(0);
  private b = 0;
  private r: Uint8Array = new Uint8Array(0);
  private rb = 0;
  /** A new key's buffer: slots and heads at -1 (empty), max accumulators at -Infinity. */
  private readonly template: Float64Array;
  private readonly headsAt: number;
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
    // After the accumulators: the event time of the newest event, and the dirty flag.
    this.eventTsAt = accAt + acc;
    this.stride = accAt + acc + 2;
    this.chunkShift = Math.max(4, Math.floor(Math.log2(CHUNK_BYTES / (8 * this.stride))));
    this.chunkStates = 1 << this.chunkShift;
    this.chunkMask = this.chunkStates - 1;
    this.template = new Float64Array(this.stride);
    this.template[this.eventTsAt] = Number.NEGATIVE_INFINITY;
    this.template.fill(-1, 0, accAt);
    for (const a of this.aggregations)
      if (a.def.kind === 'max')
        this.template.fill(Number.NEGATIVE_INFINITY, a.accBase, a.accBase + this.groups[a.group]!.tiles);
    for (const a of this.aggregations)
      if (a.def.kind === 'distinct_count') this.template[a.runBase + 1] = Number.NaN;
    this.regSize = regs;
    this.listCount = lists;
    this.passed = new Uint8Array(this.filters.length);
    this.valueOf = new Array(this.values.length).fill(null);
    this.late = new Uint8Array(this.groups.length);
    this.slotOf = new Int32Array(this.groups.length);
    this.tileOf = new Float64Array(this.groups.length);
  }

  /** Allocates a state (reusing a released one when there is one), initialised empty. */
  newState(): KeyState {
    const reused = this.free.pop();
    const slot = reused ?? this.allocated++;
    const chunk = slot >>> this.chunkShift;
    if (chunk === this.chunks.length) {
      this.chunks.push(new Float64Array(this.chunkStates * this.stride));
      if (this.regSize > 0) this.regChunks.push(new Uint8Array(this.chunkStates * this.regSize));
    }
    const b = (slot & this.chunkMask) * this.stride;
    const data = this.chunks[chunk]!;
    const template = this.template;
    // A plain loop: TypedArray.set has a fixed cost that dominates for the small states of pair entities.
    if (template.length <= 256) for (let i = 0; i < template.length; i++) data[b + i] = template[i]!;
    else data.set(template, b);
    if (this.regSize > 0) {
      const rb = (slot & this.chunkMask) * this.regSize;
      this.regChunks[chunk]!.fill(0, rb, rb + this.regSize);
    }
    if (this.listCount > 0) {
      const lists = this.lists[slot];
      if (lists) for (const list of lists) list.values.length = list.tiles.length = 0;
      else this.lists[slot] = Array.from({ length: this.listCount }, () => ({ values: [], tiles: [] }));
    }
    return slot;
  }

  /** Bytes of pooled state memory held (grows by whole chunks, however many events a key sees). */
  chunkBytes(): number {
    return (
      this.chunks.reduce((sum, c) => sum + c.byteLength, 0) +
      this.regChunks.reduce((sum, c) => sum + c.byteLength, 0)
    );
  }

  /** Gives a state back for reuse (its key was evicted). */
  release(slot: KeyState): void {
    this.free.push(slot);
  }

  /** Event time of the newest event applied to the state. */
  eventTs(slot: KeyState): number {
    return this.chunks[slot >>> this.chunkShift]![(slot & this.chunkMask) * this.stride + this.eventTsAt]!;
  }

  /** Marks the state as listed for the next row write; false when it already was. */
  markDirty(slot: KeyState): boolean {
    const chunk = this.chunks[slot >>> this.chunkShift]!;
    const at = (slot & this.chunkMask) * this.stride + this.eventTsAt + 1;
    if (chunk[at] === 1) return false;
    chunk[at] = 1;
    return true;
  }

  clearDirty(slot: KeyState): void {
    this.chunks[slot >>> this.chunkShift]![(slot & this.chunkMask) * this.stride + this.eventTsAt + 1] = 0;
  }

  /** Points d, b (numbers) and r, rb (registers) at a slot. */
  private bind(slot: KeyState): void {
    const chunk = slot >>> this.chunkShift;
    this.d = this.chunks[chunk]!;
    this.b = (slot & this.chunkMask) * this.stride;
    if (this.regSize > 0) {
      this.r = this.regChunks[chunk]!;
      this.rb = (slot & this.chunkMask) * this.regSize;
    }
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

  /** Applies the row last passed to `relevant(row)` (which evaluated its values) at event time `ts`. */
  apply(state: KeyState, ts: number): void {
    this.bind(state);
    const d = this.d;
    const b = this.b;
    if (ts > d[b + this.eventTsAt]!) d[b + this.eventTsAt] = ts;
    for (let g = 0; g < this.groups.length; g++) {
      const group = this.groups[g]!;
      const tile = Math.floor(ts / group.tileMs);
      const k = tile % group.tiles;
      const slot = group.slotBase + k;
      const held = d[b + slot]!;
      this.tileOf[g] = tile;
      this.slotOf[g] = k;
      this.late[g] = 0;
      if (held > tile) {
        this.late[g] = 1; // the tile has left the ring: a row this late no longer counts
        continue;
      }
      const head = d[b + this.headsAt + g]!;
      if (tile > head) {
        this.expire(g, head, tile);
        d[b + this.headsAt + g] = tile;
      }
      if (held < tile) {
        d[b + slot] = tile;
        this.resetSlot(g, k);
      }
    }
    this.update(state, ts, this.unfiltered);
    for (let f = 0; f < this.filters.length; f++)
      if (this.passed[f] === 1) this.update(state, ts, this.byFilter[f]!);
  }

  private update(slot: KeyState, ts: number, aggregations: readonly AggregationPlan[]): void {
    const acc = this.d;
    const b = this.b;
    for (const a of aggregations) {
      const g = a.group;
      if (this.late[g] === 1) continue;
      const k = this.slotOf[g]!;
      const at = b + a.accBase + k * a.width;
      const run = b + a.runBase;
      const v = a.value >= 0 ? this.valueOf[a.value]! : null;
      switch (a.def.kind) {
        case 'count':
          acc[at]! += 1;
          acc[run]! += 1;
          break;
        case 'sum':
        case 'mean':
          if (typeof v === 'number') {
            acc[at]! += v;
            acc[at + 1]! += 1;
            acc[run]! += v;
            acc[run + 1]! += 1;
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
          const list = this.lists[slot]![a.extraBase]!;
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
            hllAdd(this.r, this.rb + a.extraBase + (k << a.precision), a.precision, text);
            if (
              hllAdd(
                this.r,
                this.rb + a.extraBase + (this.groups[g]!.tiles << a.precision),
                a.precision,
                text,
              )
            )
              acc[run + 1] = Number.NaN;
          }
          break;
      }
    }
  }

  /**
   * The window of `g` moves from ending at tile `head` to ending at `tile`: tiles that leave it are taken out
   * of the running totals (each once: only while its slot still holds it).
   */
  private expire(g: number, head: number, tile: number): void {
    const running = this.runningOf[g]!;
    if (head < 0 || running.length === 0) return;
    const group = this.groups[g]!;
    const n = group.tiles;
    const d = this.d;
    const b = this.b;
    for (const a of running)
      if (a.def.kind === 'distinct_count') {
        d[b + a.runBase] = 1;
        d[b + a.runBase + 1] = Number.NaN;
      }
    if (tile - head >= n) {
      for (const a of running)
        if (a.def.kind !== 'distinct_count') d.fill(0, b + a.runBase, b + a.runBase + a.width);
      return;
    }
    for (let t = Math.max(0, head - n + 1); t <= tile - n; t++) {
      const k = t % n;
      if (d[b + group.slotBase + k] !== t) continue;
      for (const a of running) {
        const at = b + a.accBase + k * a.width;
        for (let w = 0; w < a.width; w++) d[b + a.runBase + w]! -= d[at + w]!;
      }
    }
  }

  private resetSlot(group: number, k: number): void {
    for (const a of this.aggregationsOf[group]!) {
      const at = this.b + a.accBase + k * a.width;
      if (a.def.kind === 'max') this.d[at] = Number.NEGATIVE_INFINITY;
      else this.d.fill(0, at, at + a.width);
      if (a.def.kind === 'distinct_count')
        this.r.fill(
          0,
          this.rb + a.extraBase + (k << a.precision),
          this.rb + a.extraBase + ((k + 1) << a.precision),
        );
    }
  }

  /** True when slot `k` of `group` holds a tile inside the window that ends at the group's newest tile. */
  private live(group: GroupPlan, g: number, k: number): boolean {
    const tile = this.d[this.b + group.slotBase + k]!;
    return tile >= 0 && tile > this.d[this.b + this.headsAt + g]! - group.tiles;
  }

  /**
   * The value of every aggregation of the view, in definition order (ratios excluded), as of `ts`: numbers
   * (null when SQL would give NULL) and, for last_n, lists newest first.
   */
  evaluate(state: KeyState, ts: number): (Scalar | Scalar[])[] {
    this.bind(state);
    const out: (Scalar | Scalar[])[] = [];
    const acc = this.d;
    const b = this.b;
    for (const a of this.aggregations) {
      const g = a.group;
      const group = this.groups[g]!;
      switch (a.def.kind) {
        case 'count':
          out.push(acc[b + a.runBase]!);
          break;
        case 'sum':
        case 'mean': {
          const s = acc[b + a.runBase]!;
          const n = acc[b + a.runBase + 1]!;
          out.push(n === 0 ? null : a.def.kind === 'sum' ? s : s / n);
          break;
        }
        case 'max': {
          let m = Number.NEGATIVE_INFINITY;
          for (let k = 0; k < group.tiles; k++)
            if (this.live(group, g, k) && acc[b + a.accBase + k]! > m) m = acc[b + a.accBase + k]!;
          out.push(m === Number.NEGATIVE_INFINITY ? null : m);
          break;
        }
        case 'decayed_sum': {
          // Each tile's weight is 2^-((ts - tileStart) / h): one power for the newest tile, then a
          // per-definition table for the distance in tiles, instead of a power per tile.
          const head = acc[b + this.headsAt + g]!;
          const scale = 2 ** (-(ts - head * group.tileMs) / a.def.halfLifeMs);
          const weights = this.decayWeights[a.extraBase]!;
          let s = 0;
          for (let k = 0; k < group.tiles; k++) {
            if (!this.live(group, g, k)) continue;
            s += acc[b + a.accBase + k]! * weights[head - acc[b + group.slotBase + k]!]!;
          }
          out.push(s * scale);
          break;
        }
        case 'last_n': {
          const list = this.lists[state]![a.extraBase]!;
          const oldest = acc[b + this.headsAt + g]! - group.tiles;
          const values: Scalar[] = [];
          for (let k = 0; k < list.values.length; k++)
            if (list.tiles[k]! > oldest) values.push(list.values[k]!);
          out.push(values);
          break;
        }
        case 'distinct_count': {
          const m = 1 << a.precision;
          const regs = this.r;
          const mergedAt = this.rb + a.extraBase + (group.tiles << a.precision);
          const run = b + a.runBase;
          if (acc[run] === 1) {
            // Tiles left the window since the merge: rebuild it from the live tiles.
            regs.fill(0, mergedAt, mergedAt + m);
            for (let k = 0; k < group.tiles; k++) {
              if (!this.live(group, g, k)) continue;
              const base = this.rb + a.extraBase + (k << a.precision);
              for (let r = 0; r < m; r++)
                if (regs[base + r]! > regs[mergedAt + r]!) regs[mergedAt + r] = regs[base + r]!;
            }
            acc[run] = 0;
          }
          if (Number.isNaN(acc[run + 1]!)) {
            const merged = regs.subarray(mergedAt, mergedAt + m);
            acc[run + 1] = merged.some((r) => r > 0) ? Math.round(hllEstimate(merged, a.precision)) : 0;
          }
          out.push(acc[run + 1]!);
          break;
        }
      }
    }
    return out;
  }
}
