import {
  type AggregationDef,
  canonicalJson,
  type FeatureViewDef,
  tilesIn,
  WINDOWS,
  type WindowName,
} from './definition.js';
import { type Compiled, compileJs, type Expr, fieldsOf, type Scalar, type SourceRow } from './expr.js';
import { hllAddHash, hllEstimateAt, hllHash } from './hll.js';
import { type FeatureRow, type RowPlan, rowPlan } from './row.js';

/**
 * The streaming state of one feature view for one entity key, and the arithmetic on it. Each window keeps a
 * ring of tiles (slot = tile mod tiles-per-window); each aggregation keeps a few accumulators per slot, so
 * memory per key is bounded by the definition, whatever the traffic. `evaluate` combines the slots of the
 * window that ends at the newest tile. The offline SQL (sql.ts) computes the same definition; keep them
 * in step.
 */

interface GroupPlan {
  window: WindowName;
  tileMs: number;
  tiles: number;
  /** Offset of this group's ring from the start of the key's rings: `tiles` records of `recordWidth`. */
  ringBase: number;
  /** Compact keys: offset of this group's few tile records in the key's numbers. */
  compactBase: number;
  /**
   * One tile record: the tile id plus one (0: empty), the accumulators of the running kinds (count, sum,
   * mean), then those of the others (max, decayed_sum). A row touches one record per window, contiguous.
   */
  recordWidth: number;
  /** Offset of the running window totals: `runWidth` numbers, in the order of the record's running part. */
  runBase: number;
  runWidth: number;
}

export interface AggregationPlan {
  def: AggregationDef;
  group: number;
  /** Index into the layout's distinct filters, -1 when the aggregation sees every row. */
  filter: number;
  /** Index into the layout's distinct value expressions, -1 when it has none. */
  value: number;
  /** Offset of this aggregation's accumulators in its group's tile record; `width` values. */
  recordOffset: number;
  width: number;
  /**
   * count, sum, mean: offset of its running window totals (`width` values), kept so reads are O(1);
   * distinct_count: of its "merged registers are stale" flag and cached estimate (NaN: recompute). -1 else.
   */
  runBase: number;
  /** last_n: index into the key's lists; distinct_count: offset into its registers; decayed_sum: weights. */
  extraBase: number;
  precision: number;
}

/** Accumulators per tile for each kind. */
const WIDTH: Record<AggregationDef['kind'], number> = {
  count: 1,
  sum: 2, // sum, non-null rows
  mean: 2, // sum, non-null rows
  max: 1,
  decayed_sum: 1, // sum of value * 2^((t - tileStart) / halfLife)
  last_n: 0,
  distinct_count: 0,
};

const COUNT = 0;
const SUM = 1;
const MEAN = 2;
const MAX = 3;
const DECAYED_SUM = 4;
const LAST_N = 5;
const DISTINCT_COUNT = 6;
const KIND_CODE: Record<AggregationDef['kind'], number> = {
  count: COUNT,
  sum: SUM,
  mean: MEAN,
  max: MAX,
  decayed_sum: DECAYED_SUM,
  last_n: LAST_N,
  distinct_count: DISTINCT_COUNT,
};

const isRunning = (kind: AggregationDef['kind']) => kind === 'count' || kind === 'sum' || kind === 'mean';

/** Target size of one pooled chunk: big enough to amortise, small enough to allocate without a pause. */
const CHUNK_BYTES = 2 << 20;

/**
 * A key's numbers start with its newest event time, dirty flag and (compact keys) the slot of its full
 * ring plus one (0 while it has none), then one window head per group.
 */
const EVENT_TS = 0;
const DIRTY = 1;
const RING = 2;
const HEADS = 3;

/** Tiles per window a compact key holds before it moves to the full ring. */
const COMPACT_TILES = 4;

/** Event types remembered per layout (a row's plan is looked up by its type). */
const MAX_TYPE_PLANS = 64;

/**
 * What a row of one event type does to a view, worked out once per type: the aggregations every such row
 * updates (no filter, or a filter the type alone decides), the filters that still need the row, and the
 * value expressions either may read.
 */
interface TypePlan {
  fixed: Int32Array;
  dynamic: Int32Array;
  values: Int32Array;
}

/** A key's last_n list: a ring of its newest values (and their tiles), `start` the newest. */
interface KeyList {
  values: Scalar[];
  tiles: number[];
  start: number;
  size: number;
}

/**
 * A key's state is a slot number: its numbers live at `slot`'s place in large pooled Float64Array chunks
 * (event time, dirty flag, window heads, running totals, then each window's ring of tile records), its
 * HyperLogLog registers in pooled byte chunks, its last_n lists in a side table. With hundreds of thousands
 * of keys, objects and backing stores per key made garbage collection the main cost of streaming; slots
 * make none. An empty state is all zeros but its event time, so a fresh chunk needs no initialising.
 *
 * With `compactKeys`, the rings are not in the key's numbers: a key starts with room for a few tile records
 * per window there (tile records in the order their tiles first came, never given back: a compact key is
 * the full ring with its never-written slots left out), and moves to a full ring from a second pool when a
 * row needs a slot it has no room for. Pair entities have many keys that see one or two events; each then
 * costs a small fraction of a full state. Memory per key stays bounded by the definition.
 */
export type KeyState = number;

export interface ViewLayoutOptions {
  /** Keys start compact (see KeyState); ignored for views with distinct_count. */
  compactKeys?: boolean;
}

export class ViewLayout {
  readonly groups: GroupPlan[] = [];
  readonly aggregations: AggregationPlan[] = [];
  /** Distinct filters and value expressions: each is evaluated once per row, however many features share it. */
  private readonly filters: Compiled[] = [];
  private readonly values: Compiled[] = [];
  /** Per filter: whether it reads only the row's type, and for an AND, the conjunction of its type-only terms. */
  private readonly typeOnly: boolean[] = [];
  private readonly typeGate: (Compiled | null)[] = [];
  /** Aggregations without a filter, and those of each distinct filter. */
  private readonly unfiltered: number[] = [];
  private readonly byFilter: Int32Array[] = [];
  private readonly typePlans = new Map<unknown, TypePlan>();
  /** decayed_sum: 2^-(d * tileMs / halfLife) for a tile d tiles older than the newest, per aggregation. */
  private readonly decayWeights: Float64Array[] = [];
  // Aggregations flattened into arrays (the hot loops read these instead of the plan objects).
  private readonly kindOf: Uint8Array;
  private readonly groupOf: Int32Array;
  private readonly offsetOf: Int32Array;
  private readonly runOf: Int32Array;
  private readonly valueIndexOf: Int32Array;
  private readonly extraOf: Int32Array;
  private readonly precisionOf: Int32Array;
  private readonly halfLifeOf: Float64Array;
  private readonly keepOf: Int32Array;
  // Groups flattened likewise.
  private readonly groupCount: number;
  private readonly tileMsOf: Float64Array;
  private readonly tilesOf: Int32Array;
  private readonly ringOf: Int32Array;
  private readonly compactOf: Int32Array;
  /** Compact keys: tile records per group (the capacity, or all of a smaller window's tiles). */
  private readonly capacityOf: Int32Array;
  private readonly recordWidthOf: Int32Array;
  private readonly runBaseOf: Int32Array;
  private readonly runWidthOf: Int32Array;
  /** Per group: record offsets of max accumulators (reset to -Infinity), distinct_count aggregations. */
  private readonly maxOffsetsOf: Int32Array[] = [];
  private readonly distinctOf: Int32Array[] = [];
  // Per-row scratch, reused so applying a row allocates nothing.
  private plan: TypePlan = {
    fixed: new Int32Array(0),
    dynamic: new Int32Array(0),
    values: new Int32Array(0),
  };
  private readonly passed: Int32Array;
  private passedCount = 0;
  private readonly valueOf: Scalar[];
  /** Tile and slot of `tilesTs` per group (every key a row fans out to shares them). */
  private tilesTs = Number.NaN;
  private readonly tileOf: Float64Array;
  private readonly slotOf: Int32Array;
  // Per key being applied: whether each group's tile came too late, and the offset of its tile record.
  private readonly late: Uint8Array;
  private readonly recordOf: Int32Array;
  /** Where the tile records of the key being read are: array, offset of group 0's first, count per group. */
  private records: Float64Array = new Float64Array(0);
  private recordsAt = 0;
  private compactRecords = false;
  private readonly order: Int32Array = new Int32Array(COMPACT_TILES);
  // Pools: the keys' numbers, their registers, their lists, and (compact keys) full rings.
  private readonly chunks: Float64Array[] = [];
  private readonly regChunks: Uint8Array[] = [];
  private readonly lists: (KeyList[] | undefined)[] = [];
  private allocated = 0;
  private readonly free: KeyState[] = [];
  private readonly stride: number;
  /** States per chunk (a power of two), so a slot's chunk is `slot >>> chunkShift`. */
  private readonly chunkShift: number;
  private readonly chunkMask: number;
  private readonly regSize: number;
  /** Tile records per window of a compact key; 0 when the rings are in the key's own numbers. */
  private readonly capacity: number;
  /** Offset of the rings: in the key's numbers (`capacity` 0), or in a full ring slot. */
  private readonly ringsAt: number;
  private readonly ringStride: number;
  private readonly ringChunks: Float64Array[] = [];
  private readonly ringShift: number;
  private readonly ringMask: number;
  private ringsAllocated = 0;
  private readonly freeRings: number[] = [];
  private readonly rowPlan: RowPlan;

  constructor(
    readonly view: FeatureViewDef,
    options: ViewLayoutOptions = {},
  ) {
    const groupIndex = new Map<WindowName, number>();
    const filterIndex = new Map<string, number>();
    const valueIndex = new Map<string, number>();
    const intern = (expr: Expr, index: Map<string, number>, list: Compiled[]) => {
      const key = canonicalJson(expr);
      let at = index.get(key);
      if (at === undefined) {
        at = list.length;
        index.set(key, at);
        list.push(compileJs(expr));
        if (list === this.filters) this.classifyFilter(expr);
      }
      return at;
    };
    let regs = 0;
    let lists = 0;
    for (const def of view.features) {
      if (def.kind === 'ratio') continue;
      let group = groupIndex.get(def.window);
      if (group === undefined) {
        group = this.groups.length;
        groupIndex.set(def.window, group);
        this.groups.push({
          window: def.window,
          tileMs: WINDOWS[def.window].tileMs,
          tiles: tilesIn(def.window),
          ringBase: 0,
          compactBase: 0,
          recordWidth: 1,
          runBase: 0,
          runWidth: 0,
        });
      }
      const tiles = this.groups[group]!.tiles;
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
      this.aggregations.push({
        def,
        group,
        filter: def.filter ? intern(def.filter, filterIndex, this.filters) : -1,
        value: 'value' in def && def.value ? intern(def.value, valueIndex, this.values) : -1,
        recordOffset: 0,
        width: WIDTH[def.kind],
        runBase: -1,
        extraBase,
        precision,
      });
    }
    // Tile records: the tile id, the running kinds' accumulators, then the others'.
    for (const a of this.aggregations)
      if (isRunning(a.def.kind)) {
        const group = this.groups[a.group]!;
        a.recordOffset = group.recordWidth;
        group.recordWidth += a.width;
        group.runWidth += a.width;
      }
    for (const a of this.aggregations)
      if (!isRunning(a.def.kind) && a.width > 0) {
        const group = this.groups[a.group]!;
        a.recordOffset = group.recordWidth;
        group.recordWidth += a.width;
      }
    // A key's numbers: header, running totals per group, distinct_count flags, then its compact tile
    // records or its rings.
    let at = HEADS + this.groups.length;
    for (const group of this.groups) {
      group.runBase = at;
      at += group.runWidth;
    }
    for (const a of this.aggregations) {
      if (isRunning(a.def.kind)) a.runBase = this.groups[a.group]!.runBase + a.recordOffset - 1;
      if (a.def.kind === 'distinct_count') {
        a.runBase = at;
        at += 2;
      }
    }
    let rings = 0;
    for (const group of this.groups) {
      group.ringBase = rings;
      rings += group.tiles * group.recordWidth;
    }
    this.capacity = options.compactKeys && regs === 0 ? COMPACT_TILES : 0;
    this.ringsAt = at;
    if (this.capacity > 0)
      for (const group of this.groups) {
        group.compactBase = at;
        at += Math.min(this.capacity, group.tiles) * group.recordWidth;
      }
    else at += rings;
    this.stride = at;
    this.ringStride = rings;
    this.chunkShift = Math.max(4, Math.floor(Math.log2(CHUNK_BYTES / (8 * this.stride))));
    this.chunkMask = (1 << this.chunkShift) - 1;
    this.ringShift = Math.max(4, Math.floor(Math.log2(CHUNK_BYTES / (8 * rings))));
    this.ringMask = (1 << this.ringShift) - 1;
    this.regSize = regs;

    const n = this.aggregations.length;
    this.kindOf = new Uint8Array(n);
    this.groupOf = new Int32Array(n);
    this.offsetOf = new Int32Array(n);
    this.runOf = new Int32Array(n);
    this.valueIndexOf = new Int32Array(n);
    this.extraOf = new Int32Array(n);
    this.precisionOf = new Int32Array(n);
    this.halfLifeOf = new Float64Array(n);
    this.keepOf = new Int32Array(n);
    const byFilter: number[][] = this.filters.map(() => []);
    this.aggregations.forEach((a, i) => {
      this.kindOf[i] = KIND_CODE[a.def.kind];
      this.groupOf[i] = a.group;
      this.offsetOf[i] = a.recordOffset;
      this.runOf[i] = a.runBase;
      this.valueIndexOf[i] = a.value;
      this.extraOf[i] = a.extraBase;
      this.precisionOf[i] = a.precision;
      if (a.def.kind === 'decayed_sum') this.halfLifeOf[i] = a.def.halfLifeMs;
      if (a.def.kind === 'last_n') this.keepOf[i] = a.def.n;
      if (a.filter < 0) this.unfiltered.push(i);
      else byFilter[a.filter]!.push(i);
    });
    for (const list of byFilter) this.byFilter.push(Int32Array.from(list));
    const g = this.groups.length;
    this.groupCount = g;
    this.tileMsOf = Float64Array.from(this.groups, (x) => x.tileMs);
    this.tilesOf = Int32Array.from(this.groups, (x) => x.tiles);
    this.ringOf = Int32Array.from(this.groups, (x) => x.ringBase);
    this.compactOf = Int32Array.from(this.groups, (x) => x.compactBase);
    this.capacityOf = Int32Array.from(this.groups, (x) => Math.min(this.capacity, x.tiles));
    this.recordWidthOf = Int32Array.from(this.groups, (x) => x.recordWidth);
    this.runBaseOf = Int32Array.from(this.groups, (x) => x.runBase);
    this.runWidthOf = Int32Array.from(this.groups, (x) => x.runWidth);
    for (let k = 0; k < g; k++) {
      const of = this.aggregations.filter((a) => a.group === k);
      this.maxOffsetsOf.push(
        Int32Array.from(of.filter((a) => a.def.kind === 'max').map((a) => a.recordOffset)),
      );
      this.distinctOf.push(
        Int32Array.from(
          this.aggregations.flatMap((a, i) => (a.group === k && a.def.kind === 'distinct_count' ? [i] : [])),
        ),
      );
    }
    this.passed = new Int32Array(this.filters.length);
    this.valueOf = new Array(this.values.length).fill(null);
    this.tileOf = new Float64Array(g);
    this.slotOf = new Int32Array(g);
    this.late = new Uint8Array(g);
    this.recordOf = new Int32Array(g);
    this.rowPlan = rowPlan(view);
  }

  /**
   * Notes whether a filter reads only the event type (then a row's type decides it), or is an AND some of
   * whose terms do (when one of those is false for a type, so is the filter).
   */
  private classifyFilter(expr: Expr): void {
    const typeOnly = (e: Expr) => [...fieldsOf(e)].every((f) => f === 'type');
    if (typeOnly(expr)) {
      this.typeOnly.push(true);
      this.typeGate.push(null);
      return;
    }
    this.typeOnly.push(false);
    const terms = expr.op === 'and' ? expr.args.filter(typeOnly) : [];
    this.typeGate.push(terms.length > 0 ? compileJs({ op: 'and', args: terms }) : null);
  }

  private planFor(type: unknown): TypePlan {
    let plan = this.typePlans.get(type);
    if (plan !== undefined) return plan;
    const probe = { type } as SourceRow;
    const fixed = [...this.unfiltered];
    const dynamic: number[] = [];
    for (let f = 0; f < this.filters.length; f++) {
      if (this.typeOnly[f]) {
        if (this.filters[f]!(probe) === true) fixed.push(...this.byFilter[f]!);
      } else if (this.typeGate[f]?.(probe) !== false) dynamic.push(f);
    }
    const values = new Set<number>();
    for (const i of [...fixed, ...dynamic.flatMap((f) => [...this.byFilter[f]!])])
      if (this.valueIndexOf[i]! >= 0) values.add(this.valueIndexOf[i]!);
    plan = {
      fixed: Int32Array.from(fixed),
      dynamic: Int32Array.from(dynamic),
      values: Int32Array.from([...values].sort((a, b) => a - b)),
    };
    if (this.typePlans.size >= MAX_TYPE_PLANS) this.typePlans.clear();
    this.typePlans.set(type, plan);
    return plan;
  }

  /** Allocates a state (reusing a released one when there is one), initialised empty. */
  newState(): KeyState {
    const reused = this.free.pop();
    const slot = reused ?? this.allocated++;
    const chunk = slot >>> this.chunkShift;
    if (chunk === this.chunks.length) {
      this.chunks.push(new Float64Array((this.chunkMask + 1) * this.stride));
      if (this.regSize > 0) this.regChunks.push(new Uint8Array((this.chunkMask + 1) * this.regSize));
    }
    const b = (slot & this.chunkMask) * this.stride;
    const data = this.chunks[chunk]!;
    // A fresh slot's memory is still zero; a reused one is cleared.
    if (reused !== undefined) {
      data.fill(0, b, b + this.stride);
      if (this.regSize > 0) {
        const rb = (slot & this.chunkMask) * this.regSize;
        this.regChunks[chunk]!.fill(0, rb, rb + this.regSize);
      }
      this.lists[slot] = undefined;
    }
    data[b + EVENT_TS] = Number.NEGATIVE_INFINITY;
    return slot;
  }

  /** Bytes of pooled state memory held (grows by whole chunks, however many events a key sees). */
  chunkBytes(): number {
    let sum = 0;
    for (const c of this.chunks) sum += c.byteLength;
    for (const c of this.regChunks) sum += c.byteLength;
    for (const c of this.ringChunks) sum += c.byteLength;
    return sum;
  }

  /** Gives a state back for reuse (its key was evicted). */
  release(slot: KeyState): void {
    if (this.capacity > 0) {
      const ring = this.chunks[slot >>> this.chunkShift]![(slot & this.chunkMask) * this.stride + RING]!;
      if (ring > 0) this.freeRings.push(ring - 1);
    }
    this.free.push(slot);
  }

  /** Event time of the newest event applied to the state. */
  eventTs(slot: KeyState): number {
    return this.chunks[slot >>> this.chunkShift]![(slot & this.chunkMask) * this.stride + EVENT_TS]!;
  }

  /** Marks the state as listed for the next row write; false when it already was. */
  markDirty(slot: KeyState): boolean {
    const chunk = this.chunks[slot >>> this.chunkShift]!;
    const at = (slot & this.chunkMask) * this.stride + DIRTY;
    if (chunk[at] === 1) return false;
    chunk[at] = 1;
    return true;
  }

  clearDirty(slot: KeyState): void {
    this.chunks[slot >>> this.chunkShift]![(slot & this.chunkMask) * this.stride + DIRTY] = 0;
  }

  /**
   * Whether `row` concerns this view: true when some aggregation's filter passes (or one has none). A view's
   * rows change only on the events that concern it; the SQL engine keeps the same rows (sql.ts). Also
   * evaluates the row's filters and values once for the `apply` calls that follow, one per entity key.
   */
  relevant(row: SourceRow): boolean {
    const plan = this.planFor(row.type);
    this.plan = plan;
    let any = plan.fixed.length > 0;
    let passed = 0;
    const dynamic = plan.dynamic;
    for (let j = 0; j < dynamic.length; j++) {
      const f = dynamic[j]!;
      if (this.filters[f]!(row) === true) {
        this.passed[passed++] = f;
        any = true;
      }
    }
    this.passedCount = passed;
    if (any) {
      const values = plan.values;
      for (let j = 0; j < values.length; j++) this.valueOf[values[j]!] = this.values[values[j]!]!(row);
    }
    return any;
  }

  private tilesFor(ts: number): void {
    this.tilesTs = ts;
    for (let g = 0; g < this.groupCount; g++) {
      const tile = Math.floor(ts / this.tileMsOf[g]!);
      this.tileOf[g] = tile;
      this.slotOf[g] = tile % this.tilesOf[g]!;
    }
  }

  /**
   * Points `records`/`recordsAt` at the key's tile records: its full rings (group g's slot k at
   * `recordsAt + ringOf[g] + k * width`) or, for a compact key, its own numbers (`compactRecords`; group g's
   * j-th record at `compactOf[g] + j * width` from the key's start, which is `recordsAt`).
   */
  private locate(d: Float64Array, b: number): void {
    if (this.capacity === 0) {
      this.records = d;
      this.recordsAt = b + this.ringsAt;
      this.compactRecords = false;
      return;
    }
    const ring = d[b + RING]!;
    if (ring === 0) {
      this.records = d;
      this.recordsAt = b;
      this.compactRecords = true;
      return;
    }
    this.records = this.ringChunks[(ring - 1) >>> this.ringShift]!;
    this.recordsAt = ((ring - 1) & this.ringMask) * this.ringStride;
    this.compactRecords = false;
  }

  /**
   * For a compact key, finds each group's record for the row's slot: the one holding a tile of that slot,
   * else the next unused one. False when some group has neither (the key needs its full ring).
   */
  private placeCompact(d: Float64Array, b: number): boolean {
    for (let g = 0; g < this.groupCount; g++) {
      const n = this.tilesOf[g]!;
      const k = this.slotOf[g]!;
      const width = this.recordWidthOf[g]!;
      const cap = this.capacityOf[g]!;
      let record = b + this.compactOf[g]!;
      let j = 0;
      for (; j < cap; j++, record += width) {
        const id = d[record]!;
        if (id === 0 || (id - 1) % n === k) break;
      }
      if (j === cap) return false;
      this.recordOf[g] = record;
    }
    return true;
  }

  /** Moves a compact key to a full ring: each tile record goes to its slot; the other slots are empty. */
  private promote(d: Float64Array, b: number): void {
    const reused = this.freeRings.pop();
    const ring = reused ?? this.ringsAllocated++;
    const chunk = ring >>> this.ringShift;
    if (chunk === this.ringChunks.length)
      this.ringChunks.push(new Float64Array((this.ringMask + 1) * this.ringStride));
    const r = this.ringChunks[chunk]!;
    const rb = (ring & this.ringMask) * this.ringStride;
    if (reused !== undefined) r.fill(0, rb, rb + this.ringStride);
    for (let g = 0; g < this.groupCount; g++) {
      const n = this.tilesOf[g]!;
      const width = this.recordWidthOf[g]!;
      const cap = this.capacityOf[g]!;
      for (let j = 0; j < cap; j++) {
        const from = b + this.compactOf[g]! + j * width;
        const id = d[from]!;
        if (id === 0) break;
        const to = rb + this.ringOf[g]! + ((id - 1) % n) * width;
        for (let w = 0; w < width; w++) r[to + w] = d[from + w]!;
      }
    }
    d[b + RING] = ring + 1;
  }

  /** Applies the row last passed to `relevant(row)` (which evaluated its values) at event time `ts`. */
  apply(state: KeyState, ts: number): void {
    const d = this.chunks[state >>> this.chunkShift]!;
    const b = (state & this.chunkMask) * this.stride;
    if (ts !== this.tilesTs) this.tilesFor(ts);
    if (ts > d[b + EVENT_TS]!) d[b + EVENT_TS] = ts;
    let compact = false;
    if (this.capacity > 0 && d[b + RING] === 0) {
      if (this.placeCompact(d, b)) compact = true;
      else this.promote(d, b);
    }
    this.locate(d, b);
    const r = this.records;
    const rb = this.recordsAt;
    for (let g = 0; g < this.groupCount; g++) {
      const tile = this.tileOf[g]!;
      const record = compact
        ? this.recordOf[g]!
        : rb + this.ringOf[g]! + this.slotOf[g]! * this.recordWidthOf[g]!;
      const held = r[record]! - 1;
      if (held > tile) {
        this.late[g] = 1; // the tile has left the ring: a row this late no longer counts
        continue;
      }
      this.late[g] = 0;
      this.recordOf[g] = record;
      const head = d[b + HEADS + g]! - 1;
      if (tile > head) {
        if (head >= 0) {
          if (compact) this.expireCompact(d, b, g, head, tile);
          else this.expire(d, b, r, rb, g, head, tile);
        }
        d[b + HEADS + g] = tile + 1;
      }
      if (held < tile) {
        r[record] = tile + 1;
        this.resetRecord(r, record, g, state);
      }
    }
    const plan = this.plan;
    this.update(d, b, r, state, ts, plan.fixed);
    for (let j = 0; j < this.passedCount; j++)
      this.update(d, b, r, state, ts, this.byFilter[this.passed[j]!]!);
  }

  private update(
    d: Float64Array,
    b: number,
    r: Float64Array,
    state: KeyState,
    ts: number,
    aggregations: Int32Array,
  ): void {
    for (let j = 0; j < aggregations.length; j++) {
      const i = aggregations[j]!;
      const g = this.groupOf[i]!;
      if (this.late[g] === 1) continue;
      const at = this.recordOf[g]! + this.offsetOf[i]!;
      switch (this.kindOf[i]) {
        case COUNT:
          r[at]! += 1;
          d[b + this.runOf[i]!]! += 1;
          break;
        case SUM:
        case MEAN: {
          const v = this.valueOf[this.valueIndexOf[i]!];
          if (typeof v === 'number') {
            const run = b + this.runOf[i]!;
            r[at]! += v;
            r[at + 1]! += 1;
            d[run]! += v;
            d[run + 1]! += 1;
          }
          break;
        }
        case MAX: {
          const v = this.valueOf[this.valueIndexOf[i]!];
          if (typeof v === 'number' && v > r[at]!) r[at] = v;
          break;
        }
        case DECAYED_SUM: {
          const value = this.valueIndexOf[i]!;
          const x = value >= 0 ? this.valueOf[value] : 1;
          if (typeof x === 'number')
            r[at]! += x * 2 ** ((ts - this.tileOf[g]! * this.tileMsOf[g]!) / this.halfLifeOf[i]!);
          break;
        }
        case LAST_N: {
          const v = this.valueOf[this.valueIndexOf[i]!]!;
          if (v === null) break;
          const list = (this.lists[state] ?? this.makeLists(state))[this.extraOf[i]!]!;
          const keep = this.keepOf[i]!;
          const at = list.start === 0 ? keep - 1 : list.start - 1;
          list.values[at] = v;
          list.tiles[at] = this.tileOf[g]!;
          list.start = at;
          if (list.size < keep) list.size++;
          break;
        }
        case DISTINCT_COUNT: {
          const v = this.valueOf[this.valueIndexOf[i]!]!;
          if (v === null) break;
          const h = hllHash(String(v));
          const p = this.precisionOf[i]!;
          const regs = this.regChunks[state >>> this.chunkShift]!;
          const base = (state & this.chunkMask) * this.regSize + this.extraOf[i]!;
          hllAddHash(regs, base + (this.slotOf[g]! << p), p, h);
          if (hllAddHash(regs, base + (this.tilesOf[g]! << p), p, h)) d[b + this.runOf[i]! + 1] = Number.NaN;
          break;
        }
      }
    }
  }

  /**
   * The window of `g` moves from ending at tile `head` to ending at `tile`: tiles that leave it are taken out
   * of the running totals (each once: only while its slot still holds it), oldest first.
   */
  private expire(
    d: Float64Array,
    b: number,
    r: Float64Array,
    rb: number,
    g: number,
    head: number,
    tile: number,
  ): void {
    const distinct = this.distinctOf[g]!;
    for (let j = 0; j < distinct.length; j++) {
      const run = b + this.runOf[distinct[j]!]!;
      d[run] = 1;
      d[run + 1] = Number.NaN;
    }
    const width = this.runWidthOf[g]!;
    if (width === 0) return;
    const n = this.tilesOf[g]!;
    const run = b + this.runBaseOf[g]!;
    if (tile - head >= n) {
      d.fill(0, run, run + width);
      return;
    }
    const ring = rb + this.ringOf[g]!;
    const recordWidth = this.recordWidthOf[g]!;
    for (let t = Math.max(0, head - n + 1); t <= tile - n; t++) {
      const record = ring + (t % n) * recordWidth;
      if (r[record] !== t + 1) continue;
      for (let w = 0; w < width; w++) d[run + w]! -= r[record + 1 + w]!;
    }
  }

  /** `expire` for a compact key: its records whose tiles leave the window, in tile order. */
  private expireCompact(d: Float64Array, b: number, g: number, head: number, tile: number): void {
    const width = this.runWidthOf[g]!;
    if (width === 0) return;
    const n = this.tilesOf[g]!;
    const run = b + this.runBaseOf[g]!;
    if (tile - head >= n) {
      d.fill(0, run, run + width);
      return;
    }
    const count = this.compactOrder(d, b, g, Math.max(0, head - n + 1), tile - n);
    for (let j = 0; j < count; j++) {
      const record = this.order[j]!;
      for (let w = 0; w < width; w++) d[run + w]! -= d[record + 1 + w]!;
    }
  }

  /**
   * Fills `order` with the compact records of group `g` whose tiles are in [from, to], by tile (equally, by
   * slot: the tiles of a window have distinct slots), and returns how many there are.
   */
  private compactOrder(d: Float64Array, b: number, g: number, from: number, to: number): number {
    const width = this.recordWidthOf[g]!;
    const cap = this.capacityOf[g]!;
    const start = b + this.compactOf[g]!;
    let count = 0;
    for (let j = 0; j < cap; j++) {
      const record = start + j * width;
      const t = d[record]! - 1;
      if (t < 0) break;
      if (t < from || t > to) continue;
      // Insertion by tile (a handful of records).
      let at = count++;
      while (at > 0 && d[this.order[at - 1]!]! - 1 > t) {
        this.order[at] = this.order[at - 1]!;
        at--;
      }
      this.order[at] = record;
    }
    return count;
  }

  private resetRecord(r: Float64Array, record: number, g: number, state: KeyState): void {
    const end = record + this.recordWidthOf[g]!;
    for (let at = record + 1; at < end; at++) r[at] = 0;
    const maxOffsets = this.maxOffsetsOf[g]!;
    for (let j = 0; j < maxOffsets.length; j++) r[record + maxOffsets[j]!] = Number.NEGATIVE_INFINITY;
    const distinct = this.distinctOf[g]!;
    if (distinct.length === 0) return;
    const regs = this.regChunks[state >>> this.chunkShift]!;
    const k = this.slotOf[g]!;
    for (let j = 0; j < distinct.length; j++) {
      const i = distinct[j]!;
      const p = this.precisionOf[i]!;
      const base = (state & this.chunkMask) * this.regSize + this.extraOf[i]!;
      regs.fill(0, base + (k << p), base + ((k + 1) << p));
    }
  }

  /**
   * The value of every aggregation of the view, in definition order (ratios excluded), as of `ts`: numbers
   * (null when SQL would give NULL) and, for last_n, lists newest first.
   */
  evaluate(state: KeyState, ts: number): (Scalar | Scalar[])[] {
    const out: (Scalar | Scalar[])[] = [];
    for (let i = 0; i < this.aggregations.length; i++)
      out.push(this.kindOf[i] === LAST_N ? this.listValue(state, i) : this.numericValue(state, i, ts));
    return out;
  }

  /** The state's feature row as of its newest event: `assembleRow(view, evaluate(state, eventTs), eventTs)`. */
  row(state: KeyState): FeatureRow {
    const ts = this.eventTs(state);
    const plan = this.rowPlan;
    const numeric = plan.numeric;
    const values: (number | null)[] = new Array(numeric.length);
    const lists: Scalar[][] = [];
    for (let c = 0; c < numeric.length; c++) {
      const p = numeric[c]!;
      if (p.aggregation >= 0) values[c] = this.numericValue(state, p.aggregation, ts);
      else {
        const a = values[p.numerator]!;
        const b = values[p.denominator]!;
        values[c] = a !== null && b !== null && b !== 0 ? a / b : null;
      }
    }
    for (const at of plan.lists) lists.push(this.listValue(state, at));
    return { eventTs: ts, values, lists };
  }

  private numericValue(state: KeyState, i: number, ts: number): number | null {
    const d = this.chunks[state >>> this.chunkShift]!;
    const b = (state & this.chunkMask) * this.stride;
    const g = this.groupOf[i]!;
    const kind = this.kindOf[i]!;
    switch (kind) {
      case COUNT:
        return d[b + this.runOf[i]!]!;
      case SUM:
      case MEAN: {
        const s = d[b + this.runOf[i]!]!;
        const n = d[b + this.runOf[i]! + 1]!;
        return n === 0 ? null : kind === SUM ? s : s / n;
      }
      case LAST_N:
        return null;
    }
    // The kinds that read the window's tiles: those of slots holding a tile inside the window.
    this.locate(d, b);
    const r = this.records;
    const n = this.tilesOf[g]!;
    const width = this.recordWidthOf[g]!;
    const head = d[b + HEADS + g]! - 1;
    const oldest = head - n;
    const offset = this.offsetOf[i]!;
    let first: number;
    let count: number;
    if (this.compactRecords) {
      first = this.recordsAt + this.compactOf[g]!;
      count = this.capacityOf[g]!;
    } else {
      first = this.recordsAt + this.ringOf[g]!;
      count = n;
    }
    switch (kind) {
      case MAX: {
        let m = Number.NEGATIVE_INFINITY;
        for (let k = 0; k < count; k++) {
          const record = first + k * width;
          const tile = r[record]! - 1;
          if (tile >= 0 && tile > oldest && r[record + offset]! > m) m = r[record + offset]!;
        }
        return m === Number.NEGATIVE_INFINITY ? null : m;
      }
      case DECAYED_SUM: {
        // Each tile's weight is 2^-((ts - tileStart) / h): one power for the newest tile, then a
        // per-definition table for the distance in tiles, instead of a power per tile. Tiles are summed in
        // slot order.
        const scale = 2 ** (-(ts - head * this.tileMsOf[g]!) / this.halfLifeOf[i]!);
        const weights = this.decayWeights[this.extraOf[i]!]!;
        let s = 0;
        if (this.compactRecords) {
          const live = this.compactOrder(d, b, g, oldest + 1, head);
          // Live tiles are within one window, so tile order is slot order once it wraps: start at slot 0.
          let start = 0;
          while (start < live && (d[this.order[start]!]! - 1) % n > (d[this.order[live - 1]!]! - 1) % n)
            start++;
          for (let j = 0; j < live; j++) {
            const record = this.order[(start + j) % live]!;
            s += d[record + offset]! * weights[head - (d[record]! - 1)]!;
          }
        } else
          for (let k = 0; k < count; k++) {
            const record = first + k * width;
            const tile = r[record]! - 1;
            if (!(tile >= 0 && tile > oldest)) continue;
            s += r[record + offset]! * weights[head - tile]!;
          }
        return s * scale;
      }
      case DISTINCT_COUNT: {
        const p = this.precisionOf[i]!;
        const m = 1 << p;
        const regs = this.regChunks[state >>> this.chunkShift]!;
        const base = (state & this.chunkMask) * this.regSize + this.extraOf[i]!;
        const mergedAt = base + (n << p);
        const run = b + this.runOf[i]!;
        if (d[run] === 1) {
          // Tiles left the window since the merge: rebuild it from the live tiles.
          regs.fill(0, mergedAt, mergedAt + m);
          for (let k = 0; k < n; k++) {
            const tile = r[first + k * width]! - 1;
            if (!(tile >= 0 && tile > oldest)) continue;
            const from = base + (k << p);
            for (let x = 0; x < m; x++)
              if (regs[from + x]! > regs[mergedAt + x]!) regs[mergedAt + x] = regs[from + x]!;
          }
          d[run] = 0;
        }
        if (Number.isNaN(d[run + 1]!)) {
          let any = false;
          for (let x = mergedAt; x < mergedAt + m; x++)
            if (regs[x]! > 0) {
              any = true;
              break;
            }
          d[run + 1] = any ? Math.round(hllEstimateAt(regs, mergedAt, p)) : 0;
        }
        return d[run + 1]!;
      }
      default:
        return null;
    }
  }

  private makeLists(state: KeyState): KeyList[] {
    const lists: KeyList[] = [];
    for (const a of this.aggregations)
      if (a.def.kind === 'last_n')
        lists.push({
          values: new Array(a.def.n).fill(null),
          tiles: new Array(a.def.n).fill(0),
          start: 0,
          size: 0,
        });
    this.lists[state] = lists;
    return lists;
  }

  private listValue(state: KeyState, i: number): Scalar[] {
    const values: Scalar[] = [];
    const list = this.lists[state]?.[this.extraOf[i]!];
    if (list === undefined) return values;
    const g = this.groupOf[i]!;
    const d = this.chunks[state >>> this.chunkShift]!;
    const oldest = d[(state & this.chunkMask) * this.stride + HEADS + g]! - 1 - this.tilesOf[g]!;
    const keep = this.keepOf[i]!;
    for (let k = 0, at = list.start; k < list.size; k++, at = at + 1 === keep ? 0 : at + 1)
      if (list.tiles[at]! > oldest) values.push(list.values[at]!);
    return values;
  }
}
