import { ForyouError } from '../core/errors.js';

/**
 * A/B comparison of one metric between two arms, with users as the unit of randomisation. The metric is a
 * ratio of sums over the arm's users, R = Σ y_u / Σ x_u (watch time per session: y = a user's watch time,
 * x = their sessions; a per-user mean has x = 1). Sessions of one user are correlated, so treating each
 * session as independent would understate the variance; the delta method over users does not:
 *
 *   Var(R) ≈ (s_y² - 2 R s_xy + R² s_x²) / (n x̄²)
 *
 * with the sample variances and covariance of the users' (x, y). Intervals and the p-value use the normal
 * approximation, sound for the hundreds-plus users per arm an experiment has; below `MIN_USERS` per arm the
 * comparison is refused rather than reported with a false precision.
 */
export interface ArmSample {
  /** Per user: the numerator (e.g. watch ms). */
  y: ArrayLike<number>;
  /** Per user: the denominator (e.g. sessions); omit for a per-user mean. */
  x?: ArrayLike<number>;
}

export interface ArmSummary {
  users: number;
  /** Σy / Σx. */
  value: number;
  /** Standard error of `value`. */
  se: number;
}

export interface Comparison {
  control: ArmSummary;
  treatment: ArmSummary;
  confidence: number;
  /** treatment - control, with its interval. */
  difference: number;
  differenceCi: [number, number];
  /** treatment / control - 1, with its interval (delta method on the ratio). */
  lift: number;
  liftCi: [number, number];
  /** Two-sided p-value of "no difference". */
  pValue: number;
}

export const MIN_USERS = 30;

export function summarizeArm(arm: ArmSample): ArmSummary {
  const n = arm.y.length;
  if (arm.x && arm.x.length !== n)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `an arm has ${n} numerators but ${arm.x.length} denominators`,
    );
  let sy = 0;
  let sx = 0;
  for (let u = 0; u < n; u++) {
    const y = arm.y[u]!;
    const x = arm.x ? arm.x[u]! : 1;
    if (!Number.isFinite(y) || !Number.isFinite(x) || x < 0)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `user ${u} of an arm has y=${y}, x=${x}; expected finite, x >= 0`,
      );
    sy += y;
    sx += x;
  }
  if (sx <= 0) throw new ForyouError('FY_INVALID_ARGUMENT', 'an arm has no denominator (every x is 0)');
  const mx = sx / n;
  const my = sy / n;
  const r = sy / sx;
  let vxx = 0;
  let vyy = 0;
  let vxy = 0;
  for (let u = 0; u < n; u++) {
    const dx = (arm.x ? arm.x[u]! : 1) - mx;
    const dy = arm.y[u]! - my;
    vxx += dx * dx;
    vyy += dy * dy;
    vxy += dx * dy;
  }
  const d = Math.max(1, n - 1);
  const variance = (vyy / d - 2 * r * (vxy / d) + r * r * (vxx / d)) / (n * mx * mx);
  return { users: n, value: r, se: Math.sqrt(Math.max(0, variance)) };
}

/** Compares two arms; `confidence` is the two-sided level of the intervals (default 0.95). */
export function compareArms(control: ArmSample, treatment: ArmSample, confidence = 0.95): Comparison {
  if (!(confidence > 0 && confidence < 1))
    throw new ForyouError('FY_INVALID_ARGUMENT', `confidence must be between 0 and 1, got ${confidence}`);
  for (const [name, arm] of [
    ['control', control],
    ['treatment', treatment],
  ] as const)
    if (arm.y.length < MIN_USERS)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `the ${name} arm has ${arm.y.length} users; a comparison needs at least ${MIN_USERS} per arm`,
      );
  const c = summarizeArm(control);
  const t = summarizeArm(treatment);
  const z = normalQuantile(0.5 + confidence / 2);
  const difference = t.value - c.value;
  const seDiff = Math.hypot(t.se, c.se);
  const ratio = t.value / c.value;
  const seLift = Math.abs(ratio) * Math.hypot(t.se / t.value, c.se / c.value);
  const lift = ratio - 1;
  const pValue = seDiff > 0 ? 2 * (1 - normalCdf(Math.abs(difference) / seDiff)) : difference === 0 ? 1 : 0;
  return {
    control: c,
    treatment: t,
    confidence,
    difference,
    differenceCi: [difference - z * seDiff, difference + z * seDiff],
    lift,
    liftCi: [lift - z * seLift, lift + z * seLift],
    pValue,
  };
}

/** Standard normal CDF, through erf (|error| < 2e-7 on the CDF). */
export function normalCdf(z: number): number {
  return 0.5 * (1 + erf(z / Math.SQRT2));
}

/** erf by the Abramowitz-Stegun 7.1.26 rational approximation. */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** Inverse of `normalCdf` by bisection (to 1e-10 in z): fine for the few calls a report makes. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new ForyouError('FY_INVALID_ARGUMENT', `a quantile needs 0 < p < 1, got ${p}`);
  let lo = -10;
  let hi = 10;
  while (hi - lo > 1e-10) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
