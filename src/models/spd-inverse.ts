import { ForyouError } from '../core/errors.js';
import { factorDiagonalBlock, runSpdTask, type SpdTask, type SpdWorkspace } from './spd-kernels.js';
import { threadCount, WorkerPool } from './worker-pool.js';

/** Default block size: 128 keeps two 128 x 256 panels of doubles in a 1 MiB L2 cache. */
export const SPD_BLOCK = 128;

/**
 * A symmetric positive-definite matrix being built for `invertSpd`: `size` x `size` doubles (n padded up to
 * a multiple of the block size) in a SharedArrayBuffer, so worker threads work on it in place. Fill the lower
 * triangle (`add`, or `data` directly at `i * size + j` for j <= i); the upper triangle is not read.
 */
export class SpdMatrix {
  readonly size: number;
  readonly data: Float64Array;

  constructor(
    readonly n: number,
    readonly block = SPD_BLOCK,
  ) {
    if (!Number.isInteger(block) || block < 4 || block % 4 !== 0)
      throw new ForyouError('FY_INVALID_ARGUMENT', `block size must be a multiple of 4, got ${block}`);
    this.size = Math.max(block, Math.ceil(n / block) * block);
    this.data = new Float64Array(new SharedArrayBuffer(this.size * this.size * 8));
    // The padding is an identity block: the inverse of diag(A, I) is diag(A⁻¹, I).
    for (let i = n; i < this.size; i++) this.data[i * this.size + i] = 1;
  }

  /** Bytes `new SpdMatrix(n, block)` allocates. */
  static bytesFor(n: number, block = SPD_BLOCK): number {
    const size = Math.max(block, Math.ceil(n / block) * block);
    return size * size * 8;
  }

  /** Adds `value` at (i, j) of the lower triangle (i >= j). */
  add(i: number, j: number, value: number): void {
    this.data[i * this.size + j]! += value;
  }
}

export interface SpdInverseOptions {
  /** Worker threads (default one per core); 1 runs the same blocked kernels on the calling thread. */
  threads?: number;
  onProgress?: (message: string) => void;
}

/**
 * Writes the inverse of `a` (n x n, row-major) into `out`, which must be backed by a SharedArrayBuffer when
 * threads > 1. `a` is consumed: it holds L and Lᵀ afterwards. Blocked Cholesky, then one pair of blocked
 * triangular solves per block column (see `spd-kernels.ts`); the O(n³) parts are split across threads.
 */
export async function invertSpd(
  a: SpdMatrix,
  out: Float32Array | Float64Array,
  options: SpdInverseOptions = {},
): Promise<void> {
  if (out.length !== a.n * a.n)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `the output holds ${out.length} values, expected ${a.n * a.n}`,
    );
  const threads = Math.min(threadCount(options.threads), a.size / a.block);
  if (threads > 1 && !(out.buffer instanceof SharedArrayBuffer))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      'with threads > 1 the output must be on a SharedArrayBuffer',
    );
  const ws: SpdWorkspace = {
    n: a.n,
    size: a.size,
    block: a.block,
    m: a.data,
    out,
    counter: new Int32Array(new SharedArrayBuffer(4)),
  };
  const pool =
    threads > 1 ? await WorkerPool.start<SpdTask>(import.meta.url, 'spd-worker', threads, ws) : null;
  const scratch = pool ? null : new Float64Array(ws.block * ws.size);
  const run = async (task: SpdTask) => {
    Atomics.store(ws.counter, 0, 0);
    if (pool) await pool.run(task);
    else runSpdTask(ws, task, scratch!);
  };
  try {
    const blocks = ws.size / ws.block;
    const progressEvery = Math.max(1, Math.floor(blocks / 10));
    for (let k = 0; k < blocks; k++) {
      factorDiagonalBlock(ws.m, ws.size, k * ws.block, ws.block);
      if (k + 1 < blocks) {
        await run({ op: 'panel', k });
        await run({ op: 'trailing', k });
      }
      if ((k + 1) % progressEvery === 0) options.onProgress?.(`cholesky ${k + 1}/${blocks} blocks`);
    }
    await run({ op: 'mirror' });
    options.onProgress?.('solving for the inverse');
    await run({ op: 'solve' });
  } finally {
    await pool?.close();
  }
}
