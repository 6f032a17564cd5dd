/**
 * A small, fast, seeded pseudo-random generator (SFC32, seeded through SplitMix32) with the distributions
 * the simulator and the models need. Same seed, same sequence, on every platform: all arithmetic is
 * 32-bit integer math, and floats are built from it the same way everywhere.
 */
export type Seed = number | string;

/** FNV-1a over the UTF-16 code units, folded to 32 bits. */
export function hash32(text: string, basis = 0x811c9dc5): number {
  let h = basis >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | null = null;
  /** The 32-bit seed this generator was built from; forks derive from it, not from the current state. */
  readonly seed32: number;

  constructor(seed: Seed) {
    this.seed32 = typeof seed === 'number' ? hash32(String(seed)) : hash32(seed);
    const mix = splitmix32(this.seed32);
    this.a = mix() | 0;
    this.b = mix() | 0;
    this.c = mix() | 0;
    this.d = mix() | 0;
    for (let i = 0; i < 12; i++) this.step();
  }

  /**
   * An independent generator for a named purpose. Forks depend only on this generator's seed and the label,
   * so adding draws to one stream never shifts another.
   */
  fork(label: string): Rng {
    return new Rng(`${this.seed32.toString(16)}/${label}`);
  }

  /**
   * One SFC32 step. The state is kept as signed 32-bit integers (`| 0`) so V8 holds it in small-integer
   * registers; unsigned values above 2^31 would be boxed as doubles, which made this 1.7x slower.
   */
  private step(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t;
  }

  nextUint32(): number {
    return this.step() >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return (this.step() >>> 0) / TWO_POW_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new RangeError(`int(n) needs n >= 1, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.float();
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + sd * z;
    }
    let u = 0;
    let v = 0;
    let s = 0;
    do {
      u = 2 * this.float() - 1;
      v = 2 * this.float() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return mean + sd * u * f;
  }

  logNormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  exponential(rate: number): number {
    return -Math.log(1 - this.float()) / rate;
  }

  /** Gamma(shape, 1) by Marsaglia and Tsang, with the shape < 1 boost. */
  gamma(shape: number): number {
    if (shape <= 0) throw new RangeError(`gamma shape must be > 0, got ${shape}`);
    if (shape < 1) return this.gamma(shape + 1) * this.float() ** (1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x = 0;
      let v = 0;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.float();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  beta(alpha: number, beta: number): number {
    const x = this.gamma(alpha);
    const y = this.gamma(beta);
    return x / (x + y);
  }

  /**
   * Kumaraswamy(a, b) on [0, 1]: shaped like Beta(a, b) and drawn by inverting its closed-form CDF, so it
   * costs one uniform draw instead of two gamma draws. The simulator uses it in its innermost loop.
   */
  kumaraswamy(a: number, b: number): number {
    return (1 - (1 - this.float()) ** (1 / b)) ** (1 / a);
  }

  /** Fills `out` with a Dirichlet(alpha) draw (symmetric when alpha is a number). */
  dirichlet(alpha: number | ArrayLike<number>, out: Float32Array | Float64Array): void {
    let sum = 0;
    for (let i = 0; i < out.length; i++) {
      const a = typeof alpha === 'number' ? alpha : (alpha[i] ?? 0);
      const g = a > 0 ? this.gamma(a) : 0;
      out[i] = g;
      sum += g;
    }
    if (sum === 0) {
      out[this.int(out.length)] = 1;
      return;
    }
    for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / sum;
  }

  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda < 30) {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = this.float();
      while (p > limit) {
        k++;
        p *= this.float();
      }
      return k;
    }
    // Normal approximation with continuity correction is plenty for the simulator's large rates.
    return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
  }

  /** Geometric number of failures before the first success, success probability p. */
  geometric(p: number): number {
    if (p >= 1) return 0;
    return Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick() from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Index drawn with probability proportional to `weights[i]` (linear scan; use AliasTable for many draws). */
  weightedIndex(weights: ArrayLike<number>): number {
    let total = 0;
    for (let i = 0; i < weights.length; i++) total += weights[i] ?? 0;
    let r = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }

  /** Shuffles `items` in place (Fisher-Yates; arrays and typed arrays alike) and returns it. */
  shuffle<A extends { length: number; [index: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/** Walker's alias method: O(n) to build, O(1) per weighted draw. */
export class AliasTable {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  readonly size: number;

  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    if (n === 0) throw new RangeError('AliasTable needs at least one weight');
    this.size = n;
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i] ?? 0;
      if (!(w >= 0) || !Number.isFinite(w))
        throw new RangeError(`weight ${i} is ${w}; weights must be finite and >= 0`);
      total += w;
    }
    if (total <= 0) throw new RangeError('AliasTable needs a positive total weight');
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = ((weights[i] ?? 0) * n) / total;
      ((scaled[i] as number) < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.prob[s] = scaled[s] as number;
      this.alias[s] = l;
      scaled[l] = (scaled[l] as number) + (scaled[s] as number) - 1;
      ((scaled[l] as number) < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  sample(rng: Rng): number {
    const u = rng.float() * this.size;
    const i = Math.floor(u);
    return u - i < (this.prob[i] as number) ? i : (this.alias[i] as number);
  }
}
