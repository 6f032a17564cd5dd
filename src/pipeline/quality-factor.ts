/**
 * Adaptive candidate width: a number in [min, 1] that scales how many candidates sources fetch. When the
 * recent latency runs above the target it shrinks (multiplicatively), when it runs below it recovers
 * (additively), so a loaded service trades a little recall for staying inside its deadline instead of
 * timing out.
 */
export interface QualityFactorOptions {
  /** Latency the pipeline aims at (e.g. 60% of its deadline). */
  targetMs: number;
  min?: number;
  /** Requests observed per adjustment. */
  window?: number;
  decrease?: number;
  increase?: number;
}

export class QualityFactor {
  private current = 1;
  private readonly samples: number[] = [];
  private readonly min: number;
  private readonly window: number;

  constructor(private readonly options: QualityFactorOptions) {
    this.min = options.min ?? 0.2;
    this.window = options.window ?? 20;
  }

  get value(): number {
    return this.current;
  }

  /** Records one request's latency; every `window` requests the factor moves by the window's p90. */
  observe(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length < this.window) return;
    const sorted = this.samples.splice(0).sort((a, b) => a - b);
    const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
    if (p90 > this.options.targetMs)
      this.current = Math.max(this.min, this.current * (this.options.decrease ?? 0.8));
    else this.current = Math.min(1, this.current + (this.options.increase ?? 0.05));
  }
}
