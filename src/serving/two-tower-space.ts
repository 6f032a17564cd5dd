import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import type { Item } from '../core/schema/index.js';
import type { ArtifactRegistry } from '../models/artifact-registry.js';
import { TwoTowerModel } from '../models/two-tower.js';
import { itemContentOf } from '../models/two-tower-data.js';
import type { ItemContent } from '../models/two-tower-features.js';
import { type AnnBuildOptions, type AnnHits, AnnIndex } from '../retrieval/ann-index.js';
import type { ServingBundle } from './bundle.js';
import { pollRegistry } from './bundle-holder.js';
import type { EmbeddingSpace } from './embeddings.js';
import type { ExtraSpace } from './feed-pipeline.js';
import type { FeedQuery } from './feed-query.js';
import { ANN_OVER_FETCH } from './sources.js';

/** Artifact name of two-tower item indices in the registry. */
export const TWO_TOWER_INDEX_ARTIFACT = 'two-tower-index';
/** Id of the embedding space, so its source is `ann-two-tower`. */
export const TWO_TOWER_SPACE = 'two-tower';

const FORMAT = 'foryou-two-tower-index';
const FORMAT_VERSION = 1;
const META_FILE = 'index.json';
const IDS_FILE = 'item-ids.json';
const MODEL_FILE = 'model.fytt';
const ANN_FILE = 'items.usearch';
const VECTORS_FILE = 'vectors.f32';

/** Items embedded per call of the item tower while building (bounds the sparse feature lists). */
const EMBED_CHUNK = 65_536;
/** Catalogues up to this size are aligned with a bundle on the spot; larger ones in the background. */
const SYNC_ALIGN_LIMIT = 100_000;
/** Ids aligned per event-loop turn in the background. */
const ALIGN_CHUNK = 50_000;
/** How long a replaced index stays open, for a request that might still hold its space. */
const RETIRE_MS = 10_000;
/** Default cap on one search's k (the ANN source asks for its width times the over-fetch). */
export const TWO_TOWER_MAX_K = 300;

/** What the item tower embeds: every catalogue item's id and content, aligned. */
export interface TwoTowerCatalogue {
  itemIds: readonly string[];
  contents: readonly (ItemContent | undefined)[];
}

/** A catalogue from item records, reading them as the model was trained (`itemContentOf`). */
export function catalogueOf(items: readonly Item[]): TwoTowerCatalogue {
  return { itemIds: items.map((it) => it.item_id as string), contents: items.map(itemContentOf) };
}

/** Item vectors by row: in memory after a build, read from the file (page cache, shared) after a load. */
interface VectorRows {
  /** Copies row `row` (dim floats) into `out` at `at`. */
  read(row: number, out: Float32Array, at: number): void;
  close(): void;
}

function memoryRows(vectors: Float32Array, dim: number): VectorRows {
  return {
    read: (row, out, at) => out.set(vectors.subarray(row * dim, (row + 1) * dim), at),
    close: () => {},
  };
}

function fileRows(path: string, dim: number): VectorRows {
  let fd: number | null = openSync(path, 'r');
  const bytes = dim * 4;
  return {
    read(row, out, at) {
      if (fd === null) throw new ForyouError('FY_IO_FAILED', `the two-tower vectors ${path} are closed`);
      const n = readSync(fd, out, { offset: at * 4, length: bytes, position: row * bytes });
      if (n !== bytes)
        throw new ForyouError(
          'FY_IO_FAILED',
          `the two-tower vectors ${path} have no row ${row} (read ${n} bytes)`,
        );
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

/** Item rows of the index against one bundle's dense item indices (-1: the other side lacks the item). */
interface Alignment {
  toBundle: Int32Array;
  toTower: Int32Array;
}

export interface TwoTowerSpaceOptions {
  /** Largest k one search asks the ANN index for (default `TWO_TOWER_MAX_K`). */
  maxK?: number;
}

const NO_HITS: AnnHits = { keys: new Int32Array(0), scores: new Float32Array(0) };

/** A space with nothing in it: its source contributes no candidates. */
export const EMPTY_TWO_TOWER_SPACE: EmbeddingSpace = {
  id: TWO_TOWER_SPACE,
  userVector: () => null,
  search: () => NO_HITS,
};

/**
 * The two-tower model's serving index: every catalogue item embedded by the item tower from its content
 * (plus its id embedding when it had training positives), an ANN index over those vectors, the vectors
 * themselves (the user tower averages the user's recent items) and the item ids in index order. Items
 * uploaded after training get vectors from their content alone, which is the point of the content tower.
 *
 * Saved as one folder (the model file, `items.usearch`, `vectors.f32`, `item-ids.json`, `index.json`);
 * loading memory-maps the ANN index and reads vector rows from the file on demand, so serving processes
 * share both through the page cache.
 */
export class TwoTowerIndex {
  private readonly alignments = new WeakMap<ServingBundle, Alignment>();
  private readonly aligning = new WeakMap<ServingBundle, Promise<Alignment>>();

  private constructor(
    readonly model: TwoTowerModel,
    readonly ann: AnnIndex,
    readonly itemIds: readonly string[],
    private readonly rows: VectorRows,
    /** Only after a build (null after a load: rows are read from the file). */
    private readonly vectors: Float32Array | null,
    readonly info: Record<string, unknown>,
  ) {}

  get dim(): number {
    return this.model.dim;
  }

  get items(): number {
    return this.itemIds.length;
  }

  /** Embeds `catalogue` with the item tower and indexes it. `info` is kept in `index.json` (provenance). */
  static build(
    model: TwoTowerModel,
    catalogue: TwoTowerCatalogue,
    options: { ann?: AnnBuildOptions; info?: Record<string, unknown> } = {},
  ): TwoTowerIndex {
    const { itemIds, contents } = catalogue;
    if (itemIds.length !== contents.length)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `the two-tower catalogue has ${itemIds.length} item ids but ${contents.length} contents`,
      );
    if (new Set(itemIds).size !== itemIds.length)
      throw new ForyouError('FY_INVALID_ARGUMENT', 'the two-tower catalogue lists an item id more than once');
    const d = model.dim;
    const vectors = new Float32Array(itemIds.length * d);
    for (let from = 0; from < itemIds.length; from += EMBED_CHUNK) {
      const to = Math.min(itemIds.length, from + EMBED_CHUNK);
      vectors.set(model.embedItems(contents.slice(from, to), itemIds.slice(from, to)), from * d);
    }
    const ann = AnnIndex.build(vectors, d, options.ann);
    return new TwoTowerIndex(model, ann, [...itemIds], memoryRows(vectors, d), vectors, {
      ...options.info,
    });
  }

  /** Writes the index folder (`dir` is created). Only an index built in this process can be saved. */
  async save(dir: string): Promise<void> {
    if (!this.vectors)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        'a loaded two-tower index is saved already; copy its folder',
      );
    await mkdir(dir, { recursive: true });
    this.model.save(join(dir, MODEL_FILE));
    this.ann.save(join(dir, ANN_FILE));
    const v = this.vectors;
    await writeFile(join(dir, VECTORS_FILE), new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    await writeFile(join(dir, IDS_FILE), JSON.stringify(this.itemIds));
    await writeFile(
      join(dir, META_FILE),
      `${JSON.stringify(
        { format: FORMAT, version: FORMAT_VERSION, dim: this.dim, items: this.items, info: this.info },
        null,
        2,
      )}\n`,
    );
  }

  /** Opens a saved index; the ANN index is memory-mapped unless `mmap` is false. */
  static async load(
    dir: string,
    options: { mmap?: boolean; expansionSearch?: number } = {},
  ): Promise<TwoTowerIndex> {
    const metaPath = join(dir, META_FILE);
    if (!existsSync(metaPath))
      throw new ForyouError(
        'FY_ARTIFACT_NOT_FOUND',
        `no two-tower index in ${dir} (${META_FILE} is missing)`,
      );
    const bad = (why: string) =>
      new ForyouError('FY_IO_FAILED', `${dir} is not a two-tower index this version reads: ${why}`);
    let meta: { format?: unknown; version?: unknown; dim?: unknown; items?: unknown; info?: unknown };
    let itemIds: unknown;
    try {
      meta = JSON.parse(await readFile(metaPath, 'utf8')) as typeof meta;
      itemIds = JSON.parse(await readFile(join(dir, IDS_FILE), 'utf8'));
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot read the two-tower index ${dir}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    if (meta.format !== FORMAT || meta.version !== FORMAT_VERSION)
      throw bad(
        `format ${String(meta.format)} version ${String(meta.version)}, expected ${FORMAT} ${FORMAT_VERSION}`,
      );
    if (!Array.isArray(itemIds) || itemIds.length !== meta.items)
      throw bad(`${IDS_FILE} should list ${String(meta.items)} item ids`);
    const model = TwoTowerModel.load(join(dir, MODEL_FILE));
    if (model.dim !== meta.dim)
      throw bad(`the model has ${model.dim} dimensions, the index ${String(meta.dim)}`);
    const ann = AnnIndex.open(join(dir, ANN_FILE), model.dim, options);
    if (ann.size !== itemIds.length)
      throw bad(`the ANN index holds ${ann.size} items, the id list ${itemIds.length}`);
    let rows: VectorRows;
    try {
      const bytes = statSync(join(dir, VECTORS_FILE)).size;
      if (bytes !== itemIds.length * model.dim * 4)
        throw new Error(`it has ${bytes} bytes, not ${itemIds.length} x ${model.dim} floats`);
      rows = fileRows(join(dir, VECTORS_FILE), model.dim);
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot open the two-tower vectors in ${dir}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return new TwoTowerIndex(
      model,
      ann,
      itemIds as string[],
      rows,
      null,
      (meta.info ?? {}) as Record<string, unknown>,
    );
  }

  /** Releases the vector file (the mapped ANN index goes with the object). */
  close(): void {
    this.rows.close();
  }

  /** The item tower's vector of index row `row`. */
  itemVector(row: number, out: Float32Array = new Float32Array(this.dim)): Float32Array {
    if (!Number.isInteger(row) || row < 0 || row >= this.items)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `the two-tower index has no row ${row} (it has ${this.items})`,
      );
    this.rows.read(row, out, 0);
    return out;
  }

  /**
   * The index aligned with `bundle`, or null while a large catalogue is being aligned in the background
   * (the space is empty until then). Small catalogues are aligned on the spot.
   */
  alignment(bundle: ServingBundle): Alignment | null {
    const done = this.alignments.get(bundle);
    if (done) return done;
    if (this.items <= SYNC_ALIGN_LIMIT) {
      const a = this.alignRange(bundle, this.emptyAlignment(bundle), 0, this.items);
      this.alignments.set(bundle, a);
      return a;
    }
    void this.prepare(bundle).catch(() => {});
    return null;
  }

  /** Aligns with `bundle` a chunk per event-loop turn, so requests keep being served meanwhile. */
  prepare(bundle: ServingBundle): Promise<Alignment> {
    const done = this.alignments.get(bundle);
    if (done) return Promise.resolve(done);
    let running = this.aligning.get(bundle);
    if (!running) {
      running = (async () => {
        const a = this.emptyAlignment(bundle);
        for (let from = 0; from < this.items; from += ALIGN_CHUNK) {
          this.alignRange(bundle, a, from, Math.min(this.items, from + ALIGN_CHUNK));
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        this.alignments.set(bundle, a);
        this.aligning.delete(bundle);
        return a;
      })();
      this.aligning.set(bundle, running);
    }
    return running;
  }

  private emptyAlignment(bundle: ServingBundle): Alignment {
    return {
      toBundle: new Int32Array(this.items).fill(-1),
      toTower: new Int32Array(bundle.items).fill(-1),
    };
  }

  private alignRange(bundle: ServingBundle, a: Alignment, from: number, to: number): Alignment {
    for (let r = from; r < to; r++) {
      const i = bundle.data.itemIds.indexOf(this.itemIds[r]!);
      if (i < 0) continue;
      a.toBundle[r] = i;
      a.toTower[i] = r;
    }
    return a;
  }

  /**
   * The two-tower space of one request: `userVector` is the user tower over the request's user id and
   * their recent engagements (the given context items, the query's session context items and `recent`,
   * newest first, at most the model's history length); `search` answers bundle item indices of the
   * query's bundle, leaving out items that bundle does not know.
   */
  space(query: FeedQuery, options: TwoTowerSpaceOptions = {}): EmbeddingSpace {
    const a = this.alignment(query.bundle);
    if (!a) return EMPTY_TWO_TOWER_SPACE;
    const maxK = options.maxK ?? TWO_TOWER_MAX_K;
    return {
      id: TWO_TOWER_SPACE,
      userVector: (_user, contextItems) => this.userVector(query, a, contextItems),
      search: (vector, k) => this.searchBundle(vector, Math.min(k, maxK), a),
    };
  }

  private userVector(query: FeedQuery, a: Alignment, contextItems: readonly number[]): Float32Array | null {
    const d = this.dim;
    const limit = this.model.historyLength;
    const rows: number[] = [];
    const taken = new Set<number>();
    const take = (items: readonly number[] | undefined) => {
      if (!items) return;
      for (const i of items) {
        if (rows.length >= limit) return;
        const r = a.toTower[i] ?? -1;
        if (r >= 0 && !taken.has(r)) {
          taken.add(r);
          rows.push(r);
        }
      }
    };
    take(contextItems);
    take(query.contextItems);
    take(query.recent);
    // userEmbedding reads its history oldest first; `rows` is newest first.
    const history = new Float32Array(rows.length * d);
    for (let k = 0; k < rows.length; k++) this.rows.read(rows[k]!, history, (rows.length - 1 - k) * d);
    const vector = this.model.userEmbedding(query.anonymous ? undefined : query.userId, history);
    let norm = 0;
    for (let k = 0; k < d; k++) norm += vector[k]! * vector[k]!;
    return norm > 0 ? vector : null;
  }

  private searchBundle(vector: Float32Array, k: number, a: Alignment): AnnHits {
    if (k <= 0) return NO_HITS;
    const hits = this.ann.search(vector, k);
    const keys = new Int32Array(hits.keys.length);
    const scores = new Float32Array(hits.keys.length);
    let n = 0;
    for (let h = 0; h < hits.keys.length; h++) {
      const i = a.toBundle[hits.keys[h]!] ?? -1;
      if (i < 0) continue;
      keys[n] = i;
      scores[n++] = hits.scores[h]!;
    }
    return { keys: keys.subarray(0, n), scores: scores.subarray(0, n) };
  }
}

/**
 * The promoted two-tower index in service, swapped like `BundleHolder` swaps bundles: the new version is
 * loaded (and aligned with the bundle in service) completely before the reference moves, and a request
 * takes its space once, synchronously, when its ANN source runs. A replaced index is closed a little later
 * rather than at once. With no index promoted the space is empty, and serving is as without it.
 */
export class TwoTowerHolder {
  private index: TwoTowerIndex | null = null;
  private loadedVersion: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private loading: Promise<boolean> | null = null;
  private readonly retiring = new Set<{ index: TwoTowerIndex; timer: NodeJS.Timeout }>();
  swaps = 0;

  /** What the feed pipeline takes as one of its `spaces`: an `ann-two-tower` source. */
  readonly entry: ExtraSpace;

  constructor(
    /** The bundle in service, so a new index is aligned with it before it serves. */
    private readonly bundle: () => ServingBundle,
    options: TwoTowerSpaceOptions = {},
  ) {
    this.entry = {
      id: TWO_TOWER_SPACE,
      of: (query) => this.index?.space(query, options) ?? EMPTY_TWO_TOWER_SPACE,
      // The source's request (width x ANN_OVER_FETCH) stays within the space's cap on k.
      width: Math.floor((options.maxK ?? TWO_TOWER_MAX_K) / ANN_OVER_FETCH),
      // The user tower embeds a session from its context items: anonymous users are served too.
      anonymous: true,
    };
  }

  get current(): TwoTowerIndex | null {
    return this.index;
  }

  get version(): number | null {
    return this.loadedVersion;
  }

  /** Puts `next` in service; the one it replaces is closed after a grace period. */
  swap(next: TwoTowerIndex | null, registryVersion: number | null = null): void {
    const previous = this.index;
    this.index = next;
    this.loadedVersion = registryVersion;
    this.swaps++;
    if (previous && previous !== next) {
      const entry = {
        index: previous,
        timer: setTimeout(() => {
          previous.close();
          this.retiring.delete(entry);
        }, RETIRE_MS),
      };
      entry.timer.unref();
      this.retiring.add(entry);
    }
  }

  /** Loads the promoted version if it differs from the one in service; true when it swapped. */
  reload(registry: ArtifactRegistry, name = TWO_TOWER_INDEX_ARTIFACT): Promise<boolean> {
    this.loading ??= (async () => {
      try {
        const version = await registry.current(name);
        if (version === null || version === this.loadedVersion) {
          // Keep the alignment with a newly swapped-in bundle ready before requests need it.
          if (this.index) await this.index.prepare(this.bundle());
          return false;
        }
        const next = await TwoTowerIndex.load(registry.pathOf(name, version));
        try {
          await next.prepare(this.bundle());
        } catch (error) {
          next.close();
          throw error;
        }
        this.swap(next, version);
        return true;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** Checks the registry every `intervalMs` for a newly promoted (or rolled back) index. */
  watch(
    registry: ArtifactRegistry,
    intervalMs = 2000,
    onError: (error: unknown) => void = () => {},
    name = TWO_TOWER_INDEX_ARTIFACT,
  ): void {
    this.stop();
    this.timer = pollRegistry(intervalMs, () => this.reload(registry, name), onError);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops watching and closes every index it holds. */
  close(): void {
    this.stop();
    for (const entry of this.retiring) {
      clearTimeout(entry.timer);
      entry.index.close();
    }
    this.retiring.clear();
    this.index?.close();
    this.index = null;
    this.loadedVersion = null;
  }
}
