import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';
import { IdDictionary } from '../core/id-dictionary.js';
import { type AnnBuildOptions, AnnIndex } from '../retrieval/ann-index.js';

/** Compressed rows: the entries of row r are at [ptr[r], ptr[r + 1]). */
export interface Csr {
  ptr: Int32Array;
  idx: Int32Array;
}

export interface WeightedCsr extends Csr {
  weight: Float32Array;
}

/** Language index meaning "not known". */
export const NO_LANGUAGE = 255;

/**
 * Everything the feed needs that offline jobs produce, as flat arrays indexed by dense item, creator and
 * user numbers (so a million items cost a few hundred megabytes and no per-item objects):
 * catalogue metadata, item and user factors, item-to-item neighbours, trending and fresh lists per
 * language, and per-user follows, blocked creators and recent engagements as of the build.
 */
export interface BundleData {
  /** Shown in responses and logs, e.g. "v3" or a build timestamp. */
  version: string;
  languages: string[];
  /** Ids are held off the JavaScript heap (see `IdDictionary`): a million id strings slow every full GC. */
  creatorIds: IdDictionary;
  hashtags: string[];
  itemIds: IdDictionary;
  itemCreator: Int32Array;
  itemLanguage: Uint8Array;
  itemCreatedMs: Float64Array;
  /** Video length, ms (0 when unknown): a ranker feature. */
  itemDurationMs: Float32Array;
  itemHashtags: Csr;
  /** A prior per item (log of recent plays, say) for ranking items without online features. */
  itemPopularity: Float32Array;
  dimensions: number;
  /** items x dimensions, row-major. */
  itemFactors: Float32Array;
  userIds: IdDictionary;
  userLanguage: Uint8Array;
  /** users x dimensions, row-major. */
  userFactors: Float32Array;
  /** Languages each user reads (language indices). */
  userLanguages: Csr;
  userFollows: Csr;
  /** Creators each user marked not interested. */
  userBlocked: Csr;
  /** Each user's most recent engaged items, newest first. */
  userRecent: Csr;
  neighbours: WeightedCsr;
  /** Per language index, the trending items best first; the last row is the global list. */
  trending: Csr;
  /** Per language index, the newest items newest first; the last row is the global list. */
  fresh: Csr;
}

const TYPED_FIELDS = [
  'itemCreator',
  'itemLanguage',
  'itemCreatedMs',
  'itemDurationMs',
  'itemPopularity',
  'itemFactors',
  'userLanguage',
  'userFactors',
] as const;
const CSR_FIELDS = [
  'itemHashtags',
  'userLanguages',
  'userFollows',
  'userBlocked',
  'userRecent',
  'neighbours',
  'trending',
  'fresh',
] as const;

const ID_FIELDS = ['itemIds', 'userIds', 'creatorIds'] as const;

/**
 * Layout of `bundle.json` and its files: 1 had the ids inline, 2 has them in files of their own. A reader
 * refuses a layout newer than it knows, by name, instead of failing on a missing field.
 */
const BUNDLE_FORMAT = 2;

const ANN_FILE = 'items.usearch';

/** Hashtags on more than this share of the catalogue are not topical (see `ServingBundle.topicalHashtags`). */
export const DEFAULT_COMMON_HASHTAG_SHARE = 0.02;

/** The entries of row `r` of a CSR. */
export function rowOf(csr: Csr, r: number): Int32Array {
  if (r < 0 || r + 1 >= csr.ptr.length) return new Int32Array(0);
  return csr.idx.subarray(csr.ptr[r]!, csr.ptr[r + 1]!);
}

/** A CSR from lists of entries. */
export function csrOf(rows: readonly (readonly number[])[]): Csr {
  const ptr = new Int32Array(rows.length + 1);
  let total = 0;
  for (const [r, row] of rows.entries()) {
    total += row.length;
    ptr[r + 1] = total;
  }
  const idx = new Int32Array(total);
  for (const [r, row] of rows.entries()) idx.set(row, ptr[r]!);
  return { ptr, idx };
}

/**
 * A loaded bundle: the data, id lookups and the ANN index over item factors. Immutable once built; a new
 * version is a new `ServingBundle`, swapped in whole (see `BundleHolder`).
 */
export class ServingBundle {
  readonly languageIndex = new Map<string, number>();

  constructor(
    readonly data: BundleData,
    readonly ann: AnnIndex,
  ) {
    for (const [l, code] of data.languages.entries()) this.languageIndex.set(code, l);
    void this.creatorItems;
    void this.hashtagCounts;
    this.topicalHashtags(DEFAULT_COMMON_HASHTAG_SHARE);
  }

  private creatorItemsCache: Csr | null = null;
  private hashtagCountCache: Int32Array | null = null;
  private readonly topicalCache = new Map<number, Csr>();

  /**
   * Each item's hashtags without the common ones: those on more than `commonShare` of the catalogue
   * (#fyp, #viral) say nothing about a video's subject. Derived once per share and kept, so the diversity
   * selector reads rows instead of filtering per request.
   */
  topicalHashtags(commonShare: number): Csr {
    const cached = this.topicalCache.get(commonShare);
    if (cached) return cached;
    const limit = Math.max(1, commonShare * this.items);
    const counts = this.hashtagCounts;
    const { ptr: inPtr, idx: inIdx } = this.data.itemHashtags;
    const ptr = new Int32Array(inPtr.length);
    let total = 0;
    for (let e = 0; e < inIdx.length; e++) if (counts[inIdx[e]!]! <= limit) total++;
    const idx = new Int32Array(total);
    let at = 0;
    for (let i = 0; i + 1 < inPtr.length; i++) {
      for (let e = inPtr[i]!; e < inPtr[i + 1]!; e++) if (counts[inIdx[e]!]! <= limit) idx[at++] = inIdx[e]!;
      ptr[i + 1] = at;
    }
    const csr = { ptr, idx };
    this.topicalCache.set(commonShare, csr);
    return csr;
  }

  /** Items per hashtag (derived on first use). */
  get hashtagCounts(): Int32Array {
    if (this.hashtagCountCache) return this.hashtagCountCache;
    const counts = new Int32Array(this.data.hashtags.length);
    for (const t of this.data.itemHashtags.idx) counts[t]!++;
    this.hashtagCountCache = counts;
    return counts;
  }

  /** Each creator's items, newest first (derived on first use). */
  get creatorItems(): Csr {
    if (this.creatorItemsCache) return this.creatorItemsCache;
    const { itemCreator, itemCreatedMs, creatorIds } = this.data;
    const creators = creatorIds.size;
    const ptr = new Int32Array(creators + 1);
    for (let i = 0; i < itemCreator.length; i++) if (itemCreator[i]! >= 0) ptr[itemCreator[i]! + 1]!++;
    for (let c = 0; c < creators; c++) ptr[c + 1]! += ptr[c]!;
    const idx = new Int32Array(ptr[creators]!);
    const fill = ptr.slice(0, creators);
    for (let i = 0; i < itemCreator.length; i++) if (itemCreator[i]! >= 0) idx[fill[itemCreator[i]!]!++] = i;
    for (let c = 0; c < creators; c++)
      idx.subarray(ptr[c]!, ptr[c + 1]!).sort((a, b) => itemCreatedMs[b]! - itemCreatedMs[a]! || b - a);
    this.creatorItemsCache = { ptr, idx };
    return this.creatorItemsCache;
  }

  get version(): string {
    return this.data.version;
  }

  get items(): number {
    return this.data.itemIds.size;
  }

  itemVector(i: number): Float32Array {
    const d = this.data.dimensions;
    return this.data.itemFactors.subarray(i * d, (i + 1) * d);
  }

  userVector(u: number): Float32Array {
    const d = this.data.dimensions;
    return this.data.userFactors.subarray(u * d, (u + 1) * d);
  }

  /** Builds the ANN index over the item factors in memory (tests, small catalogues). */
  static build(data: BundleData, options: AnnBuildOptions = {}): ServingBundle {
    checkShape(data);
    return new ServingBundle(data, AnnIndex.build(data.itemFactors, data.dimensions, options));
  }

  /** Writes the bundle to `dir`: `bundle.json`, one binary file per array (ids too), and the ANN index. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const d = this.data;
    const arrays: Record<string, ArrayBufferView> = {};
    for (const f of TYPED_FIELDS) arrays[f] = d[f];
    for (const f of CSR_FIELDS) {
      arrays[`${f}.ptr`] = d[f].ptr;
      arrays[`${f}.idx`] = d[f].idx;
    }
    arrays['neighbours.weight'] = d.neighbours.weight;
    const wide: Record<string, boolean> = {};
    for (const f of ID_FIELDS) {
      const { chars, starts, wide: w } = d[f].toArrays();
      arrays[`${f}.chars`] = new Uint8Array(chars.buffer, chars.byteOffset, chars.byteLength);
      arrays[`${f}.starts`] = starts;
      wide[f] = w;
    }
    const kinds: Record<string, string> = {};
    for (const [name, view] of Object.entries(arrays)) {
      kinds[name] = view.constructor.name;
      await writeFile(
        join(dir, `${name}.bin`),
        new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
      );
    }
    const meta = {
      format: BUNDLE_FORMAT,
      version: d.version,
      dimensions: d.dimensions,
      languages: d.languages,
      hashtags: d.hashtags,
      ids: { wide },
      arrays: kinds,
    };
    await writeFile(join(dir, 'bundle.json'), JSON.stringify(meta));
    this.ann.save(join(dir, ANN_FILE));
  }

  /** Opens a saved bundle; the ANN index is memory-mapped, so processes share one copy. */
  static async load(
    dir: string,
    options: { mmap?: boolean; expansionSearch?: number } = {},
  ): Promise<ServingBundle> {
    const metaPath = join(dir, 'bundle.json');
    if (!existsSync(metaPath))
      throw new ForyouError('FY_ARTIFACT_NOT_FOUND', `no serving bundle in ${dir} (bundle.json is missing)`);
    const meta = JSON.parse(await readFile(metaPath, 'utf8')) as {
      format?: number;
      version: string;
      dimensions: number;
      languages: string[];
      hashtags: string[];
      /** Ids in their own files (`ids.wide` says how their characters are stored)... */
      ids?: { wide: Record<string, boolean> };
      /** ...or, in bundles written before, inline. */
      creatorIds?: string[];
      itemIds?: string[];
      userIds?: string[];
      arrays: Record<string, string>;
    };
    if ((meta.format ?? 1) > BUNDLE_FORMAT)
      throw new ForyouError(
        'FY_IO_FAILED',
        `serving bundle in ${dir} has layout ${meta.format}; this Foryou reads layouts up to ${BUNDLE_FORMAT} (upgrade the server)`,
      );
    const arrays: Record<string, ArrayBufferView> = {};
    for (const [name, kind] of Object.entries(meta.arrays)) {
      const bytes = await readFile(join(dir, `${name}.bin`));
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);
      arrays[name] = typedOf(kind, copy.buffer);
    }
    const csr = (f: string): Csr => ({
      ptr: arrays[`${f}.ptr`] as Int32Array,
      idx: arrays[`${f}.idx`] as Int32Array,
    });
    const ids = (f: (typeof ID_FIELDS)[number]): IdDictionary => {
      const inline = meta[f];
      const chars = arrays[`${f}.chars`];
      const starts = arrays[`${f}.starts`];
      const wide = meta.ids?.wide?.[f];
      if (
        !inline &&
        !(chars instanceof Uint8Array && starts instanceof Int32Array && typeof wide === 'boolean')
      )
        throw new ForyouError(
          'FY_IO_FAILED',
          `serving bundle in ${dir} has no ${f} (${f}.chars.bin, ${f}.starts.bin and ids.wide.${f} in bundle.json)`,
        );
      try {
        return inline
          ? IdDictionary.of(inline)
          : IdDictionary.fromArrays(chars as Uint8Array, starts as Int32Array, wide as boolean);
      } catch (cause) {
        throw new ForyouError(
          'FY_IO_FAILED',
          `serving bundle in ${dir}: its ${f} cannot be read: ${(cause as Error).message}`,
          { cause },
        );
      }
    };
    const itemIds = ids('itemIds');
    const data: BundleData = {
      version: meta.version,
      dimensions: meta.dimensions,
      languages: meta.languages,
      creatorIds: ids('creatorIds'),
      hashtags: meta.hashtags,
      itemIds,
      userIds: ids('userIds'),
      itemCreator: arrays.itemCreator as Int32Array,
      itemLanguage: arrays.itemLanguage as Uint8Array,
      itemCreatedMs: arrays.itemCreatedMs as Float64Array,
      // Bundles saved before durations were kept read as unknown (0).
      itemDurationMs: (arrays.itemDurationMs as Float32Array | undefined) ?? new Float32Array(itemIds.size),
      itemPopularity: arrays.itemPopularity as Float32Array,
      itemFactors: arrays.itemFactors as Float32Array,
      userLanguage: arrays.userLanguage as Uint8Array,
      userFactors: arrays.userFactors as Float32Array,
      itemHashtags: csr('itemHashtags'),
      userLanguages: csr('userLanguages'),
      userFollows: csr('userFollows'),
      userBlocked: csr('userBlocked'),
      userRecent: csr('userRecent'),
      neighbours: { ...csr('neighbours'), weight: arrays['neighbours.weight'] as Float32Array },
      trending: csr('trending'),
      fresh: csr('fresh'),
    };
    checkShape(data);
    const ann = AnnIndex.open(join(dir, ANN_FILE), data.dimensions, options);
    return new ServingBundle(data, ann);
  }
}

function typedOf(kind: string, buffer: ArrayBuffer): ArrayBufferView {
  switch (kind) {
    case 'Int32Array':
      return new Int32Array(buffer);
    case 'Uint8Array':
      return new Uint8Array(buffer);
    case 'Float32Array':
      return new Float32Array(buffer);
    case 'Float64Array':
      return new Float64Array(buffer);
    default:
      throw new ForyouError('FY_IO_FAILED', `serving bundle array of unknown kind ${kind}`);
  }
}

function checkShape(d: BundleData): void {
  const n = d.itemIds.size;
  const u = d.userIds.size;
  const bad = (what: string) => {
    throw new ForyouError('FY_INVALID_ARGUMENT', `serving bundle ${d.version}: ${what}`);
  };
  if (
    d.itemCreator.length !== n ||
    d.itemLanguage.length !== n ||
    d.itemCreatedMs.length !== n ||
    d.itemDurationMs.length !== n
  )
    bad(`item arrays must have ${n} entries`);
  if (d.itemPopularity.length !== n) bad(`itemPopularity must have ${n} entries`);
  if (d.itemFactors.length !== n * d.dimensions) bad(`itemFactors must be ${n} x ${d.dimensions}`);
  if (d.userFactors.length !== u * d.dimensions) bad(`userFactors must be ${u} x ${d.dimensions}`);
  if (d.userLanguage.length !== u) bad(`userLanguage must have ${u} entries`);
  const creators = d.creatorIds.size;
  const languages = d.languages.length;
  // Rows, and what their entries index: an entry out of range would surface only when a request reads it.
  for (const [name, rows, limit] of [
    ['itemHashtags', n, d.hashtags.length],
    ['neighbours', n, n],
    ['userLanguages', u, languages],
    ['userFollows', u, creators],
    ['userBlocked', u, creators],
    ['userRecent', u, n],
    ['trending', languages + 1, n],
    ['fresh', languages + 1, n],
  ] as const) {
    const { ptr, idx } = d[name];
    if (ptr.length !== rows + 1) bad(`${name} must have ${rows} rows`);
    if (ptr[0] !== 0 || ptr[rows] !== idx.length)
      bad(`${name} row bounds do not cover its ${idx.length} entries`);
    for (let r = 0; r < rows; r++) if (ptr[r + 1]! < ptr[r]!) bad(`${name} row ${r} ends before it starts`);
    for (let e = 0; e < idx.length; e++)
      if (!(idx[e]! >= 0 && idx[e]! < limit)) bad(`${name} entry ${e} is ${idx[e]}, outside 0..${limit - 1}`);
  }
  for (let i = 0; i < n; i++) {
    const c = d.itemCreator[i]!;
    if (!(c >= -1 && c < creators)) bad(`itemCreator[${i}] is ${c}, outside -1..${creators - 1}`);
    const l = d.itemLanguage[i]!;
    if (l !== NO_LANGUAGE && l >= languages)
      bad(`itemLanguage[${i}] is ${l}, but there are ${languages} languages`);
  }
  for (let x = 0; x < u; x++) {
    const l = d.userLanguage[x]!;
    if (l !== NO_LANGUAGE && l >= languages)
      bad(`userLanguage[${x}] is ${l}, but there are ${languages} languages`);
  }
}
