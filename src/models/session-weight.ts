import { ForyouError } from '../core/errors.js';

/**
 * Session weighting of co-occurrences: two items a user interacted with close together in time (the same
 * browsing or rating session) say more about each other than two items years apart. A pair's weight is
 *
 *   w(Δt) = (1 + s · 2^(-|Δt| / halfLife)) / (1 + s)
 *
 * so it is 1 for simultaneous interactions, falls to 1 / (1 + s) for distant ones, and an item's weight
 * with itself stays 1 (the diagonal of a co-occurrence matrix keeps its meaning: the item's count).
 * Without times (all equal) every weight is 1 and the plain co-occurrence is unchanged. s = 0 turns it off.
 */
export interface SessionWeightOptions {
  /** s above: how much more a same-session pair counts than a distant one (0 = plain co-occurrence). */
  sessionWeight?: number;
  /** Half-life of the session bonus, in seconds. */
  sessionHalfLifeSec?: number;
}

export interface SessionWeight {
  /** Plain co-occurrence: every pair weighs 1. */
  readonly off: boolean;
  /** Weight of a pair whose interactions are `deltaMs` apart. */
  weight(deltaMs: number): number;
}

export function sessionWeighting(
  options: SessionWeightOptions,
  defaults: Required<SessionWeightOptions>,
): SessionWeight {
  const s = options.sessionWeight ?? defaults.sessionWeight;
  const halfLifeSec = options.sessionHalfLifeSec ?? defaults.sessionHalfLifeSec;
  if (!(s >= 0) || !Number.isFinite(s))
    throw new ForyouError('FY_INVALID_ARGUMENT', `sessionWeight must be a number >= 0, got ${s}`);
  if (!(halfLifeSec > 0) || !Number.isFinite(halfLifeSec))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `sessionHalfLifeSec must be a number > 0, got ${halfLifeSec}`,
    );
  const base = 1 / (1 + s);
  const bonus = s / (1 + s);
  const rate = -1 / (halfLifeSec * 1000);
  // Past 40 half-lives the bonus is below 1e-12 of the weight: skip the exponential.
  const horizonMs = 40 * halfLifeSec * 1000;
  return {
    off: s === 0,
    weight(deltaMs: number): number {
      const d = deltaMs < 0 ? -deltaMs : deltaMs;
      return d >= horizonMs ? base : base + bonus * 2 ** (d * rate);
    },
  };
}
