import { readFileSync, writeFileSync } from 'node:fs';
import { ForyouError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { InteractionMatrix } from './interactions.js';
import type { FitOptions, Recommender } from './recommender.js';
import {
  buildItemFeatures,
  DEFAULT_FIELD_WEIGHTS,
  type FieldWeights,
  type ItemContent,
  type ItemFeatures,
} from './two-tower-features.js';
import { embedItems, runTwoTowerTask, type TwoTowerShared, type TwoTowerTask } from './two-tower-kernel.js';
import { threadCount, WorkerPool } from './worker-pool.js';

export interface TwoTowerOptions {
  /** Embedding dimensions (default 32). */
  dim?: number;
  /** Rows of the hashed content table that caption tokens, hashtags, creators and languages share (default 2^17). */
  buckets?: number;
  /** Passes over the training positives (default 5). */
  epochs?: number;
  /** Examples per step; each row's negatives are the batch's other items (default 128). */
  batchSize?: number;
  /** Adagrad step size (default 0.05). */
  learningRate?: number;
  /** L2 regularisation of the rows a step touches (default 1e-4). */
  regularization?: number;
  /** Softmax temperature τ (default 1). */
  temperature?: number;
  /** Give items with training positives an id embedding on top of their content (default true). */
  idEmbeddings?: boolean;
  /** Chance that a training step leaves an item's id embedding out, so the content path learns alone (default 0.5). */
  idDropout?: number;
  /**
   * Chance that a training step leaves the user's id embedding out, so the history mean learns to stand
   * for users the model never saw (default 0.25).
   */
  userDropout?: number;
  /** Weight of the mean history embedding in the user tower (default 0.1; 0 = user id embedding only). */
  historyWeight?: number;
  /** Most recent positives of a user that the user tower averages (default 50). */
  historyLength?: number;
  /** Weight of each content field in the item tower. */
  fieldWeights?: FieldWeights;
  /** Standard deviation of the initial embeddings (default 0.05). */
  initScale?: number;
  /**
   * Train Hogwild-style on `threads` workers writing the shared tables without locks (default false: one
   * thread, deterministic under the seed; Hogwild results vary from run to run).
   */
  hogwild?: boolean;
}

export const TWO_TOWER_DEFAULTS = {
  dim: 32,
  buckets: 1 << 17,
  epochs: 5,
  batchSize: 128,
  learningRate: 0.05,
  regularization: 1e-4,
  temperature: 1,
  idEmbeddings: true,
  idDropout: 0.5,
  userDropout: 0.25,
  historyWeight: 0.1,
  historyLength: 50,
  fieldWeights: DEFAULT_FIELD_WEIGHTS,
  initScale: 0.05,
  hogwild: false,
} as const satisfies Required<TwoTowerOptions>;

/**
 * What the model trains on: positives (any stored value counts as one positive per user and item; the
 * newest time orders a user's history) and, aligned with `train.itemIds`, each item's content (absent for
 * an id-only data set such as MovieLens).
 */
export interface TwoTowerData {
  train: InteractionMatrix;
  content?: readonly (ItemContent | undefined)[];
}

/** The parts of a trained model that scoring needs and a file stores. */
interface TwoTowerState {
  dim: number;
  buckets: number;
  fieldWeights: FieldWeights;
  historyWeight: number;
  historyLength: number;
  /** Ids of the items with an id embedding. */
  idItemIds: readonly string[];
  /** (buckets + id items) x dim: the hashed content rows, then the id rows, as feature rows index them. */
  table: Float32Array;
  userIds: readonly string[];
  /** users x dim. */
  userTable: Float32Array;
  config: Record<string, unknown>;
}

const MAGIC = 'FYTT';
const FORMAT_VERSION = 1;

/**
 * A two-tower retrieval model. The item tower embeds a video from its content (caption tokens, hashtags,
 * creator, language; see two-tower-features.ts), plus an id embedding when the item had training
 * positives, so a brand-new video gets an embedding before anyone watches it. The user tower is a user id
 * embedding plus the mean item embedding of the user's recent positives, so a user unseen in training
 * gets one from their history alone. Retrieval is the inner product of the two, to be indexed by
 * retrieval/ann-index.ts. Training: two-tower-kernel.ts.
 */
export class TwoTowerModel {
  private readonly idIndex: Map<string, number>;
  private readonly userIndex: Map<string, number>;

  private constructor(private readonly s: TwoTowerState) {
    this.idIndex = new Map(s.idItemIds.map((id, k) => [id, k]));
    this.userIndex = new Map(s.userIds.map((id, k) => [id, k]));
  }

  get dim(): number {
    return this.s.dim;
  }

  get userIds(): readonly string[] {
    return this.s.userIds;
  }

  /** Most recent positives the user tower averages. */
  get historyLength(): number {
    return this.s.historyLength;
  }

  /** Trains a model on `data`. */
  static async train(
    data: TwoTowerData,
    options: TwoTowerOptions = {},
    fit: FitOptions = {},
  ): Promise<TwoTowerModel> {
    const o = resolveOptions(options);
    const { train } = data;
    if (data.content && data.content.length !== train.items)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `two-tower content has ${data.content.length} entries but the training matrix has ${train.items} items`,
      );
    const seed = fit.seed ?? 42;
    const d = o.dim;
    const counts = train.itemCounts();
    // Id rows for the items with positives, after the content buckets.
    const idRow = new Int32Array(train.items).fill(-1);
    const idItemIds: string[] = [];
    if (o.idEmbeddings)
      for (let i = 0; i < train.items; i++)
        if (counts[i]! > 0) {
          idRow[i] = idItemIds.length;
          idItemIds.push(train.itemIds[i]!);
        }
    const contents = data.content ?? new Array<undefined>(train.items);
    const features = buildItemFeatures(contents, o.buckets, o.fieldWeights, idRow);
    const rows = o.buckets + idItemIds.length;

    // Examples: one per (user, item) positive; the user's history window is their newest positives.
    const exUser = new Int32Array(train.nnz);
    const exItem = new Int32Array(train.nnz);
    const exInHistory = new Uint8Array(train.nnz);
    const history = historyWindows(train, o.historyLength);
    for (let u = 0; u < train.users; u++)
      for (let k = train.userPtr[u]!; k < train.userPtr[u + 1]!; k++) {
        exUser[k] = u;
        exItem[k] = train.userItems[k]!;
      }
    for (let u = 0; u < train.users; u++)
      for (let k = history.ptr[u]!; k < history.ptr[u + 1]!; k++) exInHistory[history.at[k]!] = 1;
    const logQ = new Float32Array(train.items);
    for (let i = 0; i < train.items; i++) logQ[i] = counts[i]! > 0 ? Math.log(counts[i]! / train.nnz) : 0;

    const shared: TwoTowerShared = {
      dim: d,
      learningRate: o.learningRate,
      regularization: o.regularization,
      temperature: o.temperature,
      historyWeight: o.historyWeight,
      featPtr: features.ptr,
      featRows: features.rows,
      featWeights: features.weights,
      idRowStart: o.buckets,
      table: sharedFloats(rows * d),
      tableAcc: sharedFloats(rows * d),
      userTable: sharedFloats(train.users * d),
      userAcc: sharedFloats(train.users * d),
      exUser,
      exItem,
      exInHistory,
      logQ,
      order: new Int32Array(new SharedArrayBuffer(train.nnz * 4)),
      itemSnap: sharedFloats(train.items * d),
      histSum: sharedFloats(train.users * d),
      histCount: new Int32Array(train.users),
    };
    for (let u = 0; u < train.users; u++) shared.histCount[u] = history.ptr[u + 1]! - history.ptr[u]!;
    const init = new Rng(seed).fork('two-tower/init');
    for (let k = 0; k < shared.table.length; k++) shared.table[k] = init.normal(0, o.initScale);
    for (let k = 0; k < shared.userTable.length; k++) shared.userTable[k] = init.normal(0, o.initScale);

    if (train.nnz > 0) {
      const threads = o.hogwild ? threadCount(fit.threads) : 1;
      const pool =
        threads > 1
          ? await WorkerPool.start<TwoTowerTask, { loss: number; examples: number }>(
              import.meta.url,
              'two-tower-worker',
              threads,
              shared,
            )
          : null;
      try {
        const shuffle = new Rng(seed).fork('two-tower/order');
        for (let k = 0; k < train.nnz; k++) shared.order[k] = k;
        for (let epoch = 0; epoch < o.epochs; epoch++) {
          snapshotHistory(shared, features, history, train.users);
          for (let k = train.nnz - 1; k > 0; k--) {
            const j = shuffle.int(k + 1);
            const t = shared.order[k]!;
            shared.order[k] = shared.order[j]!;
            shared.order[j] = t;
          }
          // Contiguous, batch-aligned ranges of the order, one per thread.
          const batches = Math.ceil(train.nnz / o.batchSize);
          const tasks = Array.from({ length: threads }, (_, t) => ({
            seed: `${seed}/two-tower/epoch/${epoch}/thread/${t}`,
            batchSize: o.batchSize,
            idDropout: o.idDropout,
            userDropout: o.userDropout,
            from: Math.min(train.nnz, Math.floor((batches * t) / threads) * o.batchSize),
            to: Math.min(train.nnz, Math.floor((batches * (t + 1)) / threads) * o.batchSize),
          }));
          const replies = pool ? await pool.runEach(tasks) : [runTwoTowerTask(shared, tasks[0]!)];
          const loss = replies.reduce((sum, r) => sum + r.loss, 0) / train.nnz;
          fit.onProgress?.(`two-tower: epoch ${epoch + 1}/${o.epochs}, loss ${loss.toFixed(4)}`);
        }
      } finally {
        await pool?.close();
      }
    }
    return new TwoTowerModel({
      dim: d,
      buckets: o.buckets,
      fieldWeights: { ...o.fieldWeights },
      historyWeight: o.historyWeight,
      historyLength: o.historyLength,
      idItemIds,
      table: Float32Array.from(shared.table),
      ...trainedUsers(train, shared.userTable, d),
      config: { ...o, seed },
    });
  }

  /**
   * Item embeddings (n x dim, row-major) of `contents`; `itemIds` (same length), when given, adds the id
   * embedding of the items that had one in training. A brand-new item gets its embedding from content alone.
   */
  embedItems(contents: readonly (ItemContent | undefined)[], itemIds?: readonly string[]): Float32Array {
    if (itemIds && itemIds.length !== contents.length)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `embedItems got ${contents.length} contents but ${itemIds.length} item ids`,
      );
    const { dim: d, buckets } = this.s;
    const idRow = Int32Array.from(contents, (_, i) => (itemIds ? (this.idIndex.get(itemIds[i]!) ?? -1) : -1));
    const f = buildItemFeatures(contents, buckets, this.s.fieldWeights, idRow);
    const out = new Float32Array(contents.length * d);
    embedItems(this.s.table, d, f.ptr, f.rows, f.weights, out);
    return out;
  }

  /** The embedding of one item from its content (and its id embedding when `itemId` had one). */
  embedItem(content: ItemContent, itemId?: string): Float32Array {
    return this.embedItems([content], itemId === undefined ? undefined : [itemId]);
  }

  /**
   * A user's embedding: their id embedding (when the user was in training) plus the history weight times
   * the mean of `history`, the item embeddings (k x dim, row-major) of their recent positives, newest
   * `historyLength` at most. Either part may be missing; with neither the embedding is zero.
   */
  userEmbedding(
    userId: string | undefined,
    history: Float32Array,
    out: Float32Array = new Float32Array(this.s.dim),
  ): Float32Array {
    const d = this.s.dim;
    if (history.length % d !== 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `a history of ${history.length} values is not a list of ${d}-dimensional item embeddings`,
      );
    if (out.length !== d)
      throw new ForyouError('FY_INVALID_ARGUMENT', `out has ${out.length} values, the model ${d} dimensions`);
    out.fill(0);
    const u = userId === undefined ? undefined : this.userIndex.get(userId);
    if (u !== undefined) out.set(this.s.userTable.subarray(u * d, u * d + d));
    const k = Math.min(history.length / d, this.s.historyLength);
    if (k > 0 && this.s.historyWeight !== 0) {
      const start = history.length / d - k;
      const scale = this.s.historyWeight / k;
      for (let r = start; r < start + k; r++)
        for (let c = 0; c < d; c++) out[c]! += scale * history[r * d + c]!;
    }
    return out;
  }

  /** The model file: magic, header length, JSON header, then the Float32 tables (little-endian). */
  toBuffer(): Buffer {
    const s = this.s;
    const split = s.buckets * s.dim;
    const arrays = {
      content: s.table.subarray(0, split),
      ids: s.table.subarray(split),
      users: s.userTable,
    };
    let offset = 0;
    const layout: Record<string, { offset: number; length: number }> = {};
    for (const [name, a] of Object.entries(arrays)) {
      layout[name] = { offset, length: a.length };
      offset += a.length * 4;
    }
    const header = Buffer.from(
      JSON.stringify({
        format: 'foryou-two-tower',
        version: FORMAT_VERSION,
        dim: s.dim,
        buckets: s.buckets,
        fieldWeights: s.fieldWeights,
        historyWeight: s.historyWeight,
        historyLength: s.historyLength,
        idItemIds: s.idItemIds,
        userIds: s.userIds,
        config: s.config,
        arrays: layout,
      }),
    );
    const headerEnd = align4(8 + header.length);
    const out = Buffer.alloc(headerEnd + offset);
    out.write(MAGIC, 0, 'latin1');
    out.writeUInt32LE(header.length, 4);
    header.copy(out, 8);
    for (const [name, a] of Object.entries(arrays)) {
      const bytes = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      bytes.copy(out, headerEnd + layout[name]!.offset);
    }
    return out;
  }

  static fromBuffer(buffer: Buffer, source = 'buffer'): TwoTowerModel {
    const bad = (why: string) =>
      new ForyouError('FY_INVALID_ARGUMENT', `${source} is not a two-tower model file: ${why}`);
    if (buffer.length < 8 || buffer.toString('latin1', 0, 4) !== MAGIC)
      throw bad(`it does not start with ${MAGIC}`);
    const headerLength = buffer.readUInt32LE(4);
    if (8 + headerLength > buffer.length) throw bad('the header runs past the end of the file');
    let h: Record<string, unknown>;
    try {
      h = JSON.parse(buffer.toString('utf8', 8, 8 + headerLength)) as Record<string, unknown>;
    } catch {
      throw bad('the header is not JSON');
    }
    if (h.format !== 'foryou-two-tower' || h.version !== FORMAT_VERSION)
      throw bad(
        `format ${String(h.format)} version ${String(h.version)}, expected foryou-two-tower ${FORMAT_VERSION}`,
      );
    const dim = h.dim as number;
    const buckets = h.buckets as number;
    const idItemIds = h.idItemIds as string[];
    const userIds = h.userIds as string[];
    const layout = h.arrays as Record<string, { offset: number; length: number }>;
    const headerEnd = align4(8 + headerLength);
    const read = (name: string, expected: number): Float32Array => {
      const entry = layout?.[name];
      if (!entry || entry.length !== expected) throw bad(`table ${name} should hold ${expected} values`);
      const start = headerEnd + entry.offset;
      if (start + entry.length * 4 > buffer.length) throw bad(`table ${name} runs past the end of the file`);
      const out = new Float32Array(entry.length);
      Buffer.from(out.buffer).set(buffer.subarray(start, start + entry.length * 4));
      return out;
    };
    if (!Number.isInteger(dim) || dim < 1 || !Number.isInteger(buckets) || buckets < 1)
      throw bad('dim and buckets must be whole numbers >= 1');
    if (!Array.isArray(idItemIds) || !Array.isArray(userIds))
      throw bad('idItemIds and userIds must be lists');
    const table = new Float32Array((buckets + idItemIds.length) * dim);
    table.set(read('content', buckets * dim));
    table.set(read('ids', idItemIds.length * dim), buckets * dim);
    return new TwoTowerModel({
      dim,
      buckets,
      fieldWeights: h.fieldWeights as FieldWeights,
      historyWeight: h.historyWeight as number,
      historyLength: h.historyLength as number,
      idItemIds,
      table,
      userIds,
      userTable: read('users', userIds.length * dim),
      config: (h.config as Record<string, unknown>) ?? {},
    });
  }

  save(path: string): void {
    try {
      writeFileSync(path, this.toBuffer());
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot save the two-tower model to ${path}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  static load(path: string): TwoTowerModel {
    let buffer: Buffer;
    try {
      buffer = readFileSync(path);
    } catch (cause) {
      throw new ForyouError(
        'FY_IO_FAILED',
        `cannot read the two-tower model ${path}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
    return TwoTowerModel.fromBuffer(buffer, path);
  }
}

/**
 * The two-tower model as a `Recommender` over an interaction matrix: content comes from `contentOf` (by
 * item id) when given, otherwise the model runs id-only (MovieLens). Users are embedded from their training
 * history; items without content or training positives score -Infinity.
 */
export class TwoTowerRecommender implements Recommender {
  readonly name: string;
  private model: TwoTowerModel | null = null;
  private items: Float32Array = new Float32Array(0);
  private itemHasInput: Uint8Array = new Uint8Array(0);
  private train: InteractionMatrix | null = null;
  private readonly user: Float32Array;

  constructor(
    private readonly options: TwoTowerOptions = {},
    private readonly contentOf?: (itemId: string) => ItemContent | undefined,
    name = 'two-tower',
  ) {
    this.name = name;
    this.user = new Float32Array(resolveOptions(options).dim);
  }

  async fit(train: InteractionMatrix, options: FitOptions = {}): Promise<void> {
    const content = this.contentOf ? train.itemIds.map((id) => this.contentOf!(id)) : undefined;
    const model = await TwoTowerModel.train(
      { train, ...(content ? { content } : {}) },
      this.options,
      options,
    );
    this.model = model;
    this.train = train;
    this.items = model.embedItems(content ?? new Array<undefined>(train.items), train.itemIds);
    const counts = train.itemCounts();
    this.itemHasInput = Uint8Array.from(counts, (c, i) =>
      (this.options.idEmbeddings ?? true) && c > 0 ? 1 : content?.[i] ? 1 : 0,
    );
  }

  /** The model fitted last (for saving, or embedding new items). */
  get fitted(): TwoTowerModel {
    if (!this.model) throw new ForyouError('FY_INVALID_ARGUMENT', `${this.name}: used before fit`);
    return this.model;
  }

  scoreUser(u: number, out: Float32Array): void {
    const model = this.fitted;
    const train = this.train!;
    const d = model.dim;
    model.userEmbedding(train.userIds[u], historyEmbeddings(train, u, this.items, model), this.user);
    const user = this.user;
    for (let i = 0; i < out.length; i++) {
      if (this.itemHasInput[i] === 0) {
        out[i] = Number.NEGATIVE_INFINITY;
        continue;
      }
      const o = i * d;
      let x = 0;
      for (let c = 0; c < d; c++) x += user[c]! * this.items[o + c]!;
      out[i] = x;
    }
  }
}

/**
 * The item embeddings of user `u`'s newest positives in `train` (oldest first, at most the model's history
 * length), from a catalogue embedding matrix aligned with `train.itemIds`: the `history` argument of
 * `userEmbedding` for a user of a training matrix.
 */
export function historyEmbeddings(
  train: InteractionMatrix,
  u: number,
  itemEmbeddings: Float32Array,
  model: Pick<TwoTowerModel, 'dim' | 'historyLength'>,
): Float32Array {
  const d = model.dim;
  const ks = newestPositives(train, u, model.historyLength);
  const out = new Float32Array(ks.length * d);
  ks.forEach((k, r) => {
    const i = train.userItems[k]!;
    out.set(itemEmbeddings.subarray(i * d, i * d + d), r * d);
  });
  return out;
}

/** Positions (in train's CSR) of user u's newest `length` positives, oldest first. */
function newestPositives(train: InteractionMatrix, u: number, length: number): number[] {
  const ks: number[] = [];
  for (let k = train.userPtr[u]!; k < train.userPtr[u + 1]!; k++) ks.push(k);
  ks.sort((a, b) => train.userTs[a]! - train.userTs[b]! || a - b);
  return ks.slice(Math.max(0, ks.length - length));
}

/** Every user's history window, as CSR positions of their newest positives. */
function historyWindows(train: InteractionMatrix, length: number): { ptr: Int32Array; at: Int32Array } {
  const ptr = new Int32Array(train.users + 1);
  const at: number[] = [];
  for (let u = 0; u < train.users; u++) {
    at.push(...newestPositives(train, u, length));
    ptr[u + 1] = at.length;
  }
  return { ptr, at: Int32Array.from(at) };
}

/** Epoch-start item embeddings, and every user's sum over their history window. */
function snapshotHistory(
  s: TwoTowerShared,
  features: ItemFeatures,
  history: { ptr: Int32Array; at: Int32Array },
  users: number,
): void {
  const d = s.dim;
  embedItems(s.table, d, features.ptr, features.rows, features.weights, s.itemSnap);
  s.histSum.fill(0);
  for (let u = 0; u < users; u++)
    for (let k = history.ptr[u]!; k < history.ptr[u + 1]!; k++) {
      const io = s.exItem[history.at[k]!]! * d;
      for (let c = 0; c < d; c++) s.histSum[u * d + c]! += s.itemSnap[io + c]!;
    }
}

/**
 * The ids and embeddings of the users with training positives; the others' rows were never trained and
 * are left out, so they count as users the model never saw.
 */
function trainedUsers(
  train: InteractionMatrix,
  table: Float32Array,
  d: number,
): { userIds: string[]; userTable: Float32Array } {
  const userIds: string[] = [];
  const rows: number[] = [];
  for (let u = 0; u < train.users; u++)
    if (train.userPtr[u + 1]! > train.userPtr[u]!) {
      userIds.push(train.userIds[u]!);
      rows.push(u);
    }
  const userTable = new Float32Array(rows.length * d);
  rows.forEach((u, r) => {
    userTable.set(table.subarray(u * d, u * d + d), r * d);
  });
  return { userIds, userTable };
}

function sharedFloats(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(n * 4));
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function resolveOptions(options: TwoTowerOptions): Required<TwoTowerOptions> {
  const o = { ...TWO_TOWER_DEFAULTS, ...options };
  const whole = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1)
      throw new ForyouError('FY_INVALID_ARGUMENT', `two-tower ${name} must be a whole number >= 1, got ${v}`);
  };
  whole('dim', o.dim);
  whole('buckets', o.buckets);
  whole('epochs', o.epochs);
  whole('batchSize', o.batchSize);
  whole('historyLength', o.historyLength);
  if (!(o.learningRate > 0) || !(o.temperature > 0))
    throw new ForyouError('FY_INVALID_ARGUMENT', 'two-tower learningRate and temperature must be > 0');
  if (!(o.regularization >= 0) || !(o.historyWeight >= 0) || !(o.initScale >= 0))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      'two-tower regularization, historyWeight and initScale must be >= 0',
    );
  if (!(o.idDropout >= 0 && o.idDropout < 1) || !(o.userDropout >= 0 && o.userDropout <= 1))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `two-tower idDropout must be in [0, 1) and userDropout in [0, 1], got ${o.idDropout} and ${o.userDropout}`,
    );
  return o;
}
