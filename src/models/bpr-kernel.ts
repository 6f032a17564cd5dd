import { AliasTable, Rng } from '../core/rng.js';

/**
 * The SGD kernel of BPR (Rendle et al. 2009), shared by the calling thread and the Hogwild workers of
 * `bpr.ts`. A step takes a user u, one of the user's items i and an item j the user does not have, and
 * moves the factors up the gradient of ln σ(x_uij) - regularisation, where x_uij = b_i - b_j + p_u·(q_i - q_j).
 */
export interface BprShared {
  factors: number;
  learningRate: number;
  /** L2 regularisation of the user and item factors. */
  regularization: number;
  /** L2 regularisation of the item biases. */
  biasRegularization: number;
  /** Exponent of item popularity in negative sampling: 0 uniform, 1 proportional to popularity. */
  negativeExponent: number;
  users: number;
  items: number;
  userPtr: Int32Array;
  userItems: Int32Array;
  /** The user of every interaction (CSR order), so an interaction can be drawn uniformly. */
  userOf: Int32Array;
  itemCounts: Int32Array;
  /** users x factors, items x factors, items: Float32 on SharedArrayBuffers (Hogwild writes in place). */
  p: Float32Array;
  q: Float32Array;
  bias: Float32Array;
}

export interface BprTask {
  /** Seed of this thread's stream for this run of samples. */
  seed: string;
  samples: number;
}

/** Draws (u, i, j) triples: an interaction uniformly, then a negative the user does not have. */
export class BprSampler {
  private readonly rng: Rng;
  private readonly alias: AliasTable | null;

  constructor(
    private readonly shared: BprShared,
    seed: string,
  ) {
    this.rng = new Rng(seed);
    const e = shared.negativeExponent;
    this.alias = e === 0 ? null : new AliasTable(Array.from(shared.itemCounts, (c) => (c > 0 ? c ** e : 0)));
  }

  /** Writes u, i, j into `out`; returns false when no negative was found in a few tries (skip the step). */
  next(out: Int32Array): boolean {
    const s = this.shared;
    const k = this.rng.int(s.userItems.length);
    const u = s.userOf[k]!;
    const start = s.userPtr[u]!;
    const end = s.userPtr[u + 1]!;
    for (let attempt = 0; attempt < 16; attempt++) {
      const j = this.alias ? this.alias.sample(this.rng) : this.rng.int(s.items);
      if (!contains(s.userItems, start, end, j)) {
        out[0] = u;
        out[1] = s.userItems[k]!;
        out[2] = j;
        return true;
      }
    }
    return false;
  }
}

/** Runs `task.samples` SGD steps with this thread's own stream of triples. */
export function runBprTask(shared: BprShared, task: BprTask): void {
  const sampler = new BprSampler(shared, task.seed);
  const triple = new Int32Array(3);
  for (let t = 0; t < task.samples; t++) {
    if (!sampler.next(triple)) continue;
    bprStep(shared, triple[0]!, triple[1]!, triple[2]!);
  }
}

/** One SGD step on (u, i, j), in place. */
export function bprStep(s: BprShared, u: number, i: number, j: number): void {
  const { p, q, bias, factors: f, learningRate: lr, regularization: reg } = s;
  const po = u * f;
  const io = i * f;
  const jo = j * f;
  let x = bias[i]! - bias[j]!;
  for (let k = 0; k < f; k++) x += p[po + k]! * (q[io + k]! - q[jo + k]!);
  // d ln σ(x) / dx = σ(-x)
  const g = 1 / (1 + Math.exp(x));
  for (let k = 0; k < f; k++) {
    const pu = p[po + k]!;
    const qi = q[io + k]!;
    const qj = q[jo + k]!;
    p[po + k] = pu + lr * (g * (qi - qj) - reg * pu);
    q[io + k] = qi + lr * (g * pu - reg * qi);
    q[jo + k] = qj + lr * (-g * pu - reg * qj);
  }
  bias[i] = bias[i]! + lr * (g - s.biasRegularization * bias[i]!);
  bias[j] = bias[j]! + lr * (-g - s.biasRegularization * bias[j]!);
}

/**
 * Reference step on plain nested arrays, written from the update equations one quantity at a time; the
 * typed-array kernel is tested against it on the same triples.
 */
export function bprStepReference(
  model: { p: number[][]; q: number[][]; bias: number[] },
  hyper: { learningRate: number; regularization: number; biasRegularization: number },
  u: number,
  i: number,
  j: number,
): void {
  const pu = [...model.p[u]!];
  const qi = [...model.q[i]!];
  const qj = [...model.q[j]!];
  const x = model.bias[i]! - model.bias[j]! + pu.reduce((sum, v, k) => sum + v * (qi[k]! - qj[k]!), 0);
  const sigmoidOfMinusX = 1 / (1 + Math.exp(x));
  const { learningRate: lr, regularization: reg, biasRegularization: regB } = hyper;
  model.p[u] = pu.map((v, k) => v + lr * (sigmoidOfMinusX * (qi[k]! - qj[k]!) - reg * v));
  model.q[i] = qi.map((v, k) => v + lr * (sigmoidOfMinusX * pu[k]! - reg * v));
  model.q[j] = qj.map((v, k) => v + lr * (-sigmoidOfMinusX * pu[k]! - reg * v));
  model.bias[i] = model.bias[i]! + lr * (sigmoidOfMinusX - regB * model.bias[i]!);
  model.bias[j] = model.bias[j]! + lr * (-sigmoidOfMinusX - regB * model.bias[j]!);
}

function contains(items: Int32Array, start: number, end: number, j: number): boolean {
  let lo = start;
  let hi = end - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = items[mid]!;
    if (v === j) return true;
    if (v < j) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}
