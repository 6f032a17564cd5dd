import { ForyouError } from '../core/errors.js';

/**
 * Metrics for rankers that score (user, item) pairs with a probability or a score against a 0/1 label
 * (a later stage of the pipeline: the retrieval harness does not use them yet). Labels are 1 (positive)
 * or 0; `true`/`false` are accepted too.
 */
export type Labels = ArrayLike<number | boolean>;

function sameLength(scores: ArrayLike<number>, labels: Labels): number {
  if (scores.length !== labels.length)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `scores and labels differ in length (${scores.length} and ${labels.length})`,
    );
  return scores.length;
}

const positive = (label: number | boolean): boolean => Number(label) === 1;

/**
 * Area under the ROC curve: the probability that a random positive scores above a random negative, ties
 * counting one half (the Mann-Whitney U statistic with mid-ranks). NaN when either class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: Labels): number {
  const n = sameLength(scores, labels);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    const midRank = (start + 1 + end) / 2; // ranks start+1 .. end share their mean
    for (let j = start; j < end; j++)
      if (positive(labels[order[j]!]!)) {
        positives++;
        rankSum += midRank;
      }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * Each user's own AUC (`users[j]` says whose pair j is), one entry per distinct user in the order users
 * first appear; NaN for a user with one class only.
 */
export function userAucs(
  users: ArrayLike<number | string>,
  scores: ArrayLike<number>,
  labels: Labels,
): Float64Array {
  const n = sameLength(scores, labels);
  if (users.length !== n)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `users and scores differ in length (${users.length} and ${n})`,
    );
  const groups = new Map<number | string, number[]>();
  for (let j = 0; j < n; j++) {
    const list = groups.get(users[j]!);
    if (list) list.push(j);
    else groups.set(users[j]!, [j]);
  }
  return Float64Array.from(groups.values(), (rows) =>
    auc(
      rows.map((j) => scores[j]!),
      rows.map((j) => labels[j]!),
    ),
  );
}

/**
 * Per-user AUC: the AUC of each user's own pairs, averaged over the users who have both a positive and a
 * negative; users with one class only are skipped. NaN when none qualifies.
 */
export function meanUserAuc(
  users: ArrayLike<number | string>,
  scores: ArrayLike<number>,
  labels: Labels,
): number {
  return meanOfNumbers(userAucs(users, scores, labels));
}

/** The mean of the entries that are numbers (per-user AUCs from `userAucs`, say); NaN when none is. */
export function meanOfNumbers(values: ArrayLike<number>): number {
  let total = 0;
  let counted = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isNaN(value)) continue;
    total += value;
    counted++;
  }
  return counted === 0 ? Number.NaN : total / counted;
}

/** A paired difference: its mean, the standard error of that mean, and how many pairs it rests on. */
export interface PairedDifference {
  mean: number;
  standardError: number;
  pairs: number;
}

/**
 * The mean of `a[u] - b[u]` over the entries where both are numbers (two models' per-user AUCs from
 * `userAucs` on the same rows, say), with its standard error: the sample deviation of the differences over
 * the square root of their count. It is the noise of which users, and which of their events, the test rows
 * hold; a difference of two or more standard errors is one the draw is unlikely to explain. NaN fields when
 * fewer than two pairs are left.
 */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>): PairedDifference {
  if (a.length !== b.length)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `paired values differ in length (${a.length} and ${b.length})`,
    );
  let pairs = 0;
  let sum = 0;
  for (let u = 0; u < a.length; u++) {
    const d = a[u]! - b[u]!;
    if (Number.isNaN(d)) continue;
    pairs++;
    sum += d;
  }
  if (pairs < 2) return { mean: Number.NaN, standardError: Number.NaN, pairs };
  const mean = sum / pairs;
  let squares = 0;
  for (let u = 0; u < a.length; u++) {
    const d = a[u]! - b[u]!;
    if (!Number.isNaN(d)) squares += (d - mean) ** 2;
  }
  return { mean, standardError: Math.sqrt(squares / (pairs - 1) / pairs), pairs };
}

function requireProbability(p: number, j: number): void {
  if (!(p >= 0 && p <= 1))
    throw new ForyouError('FY_INVALID_ARGUMENT', `probability ${j} is ${p}; expected a number from 0 to 1`);
}

/**
 * Mean binary cross-entropy in nats: -mean(ln q), where q is the probability given to the observed label
 * (p for a positive, 1 - p for a negative), clipped below at eps (1e-15, as scikit-learn did) so a confident
 * mistake costs about 34.5, not infinity.
 */
export function logLoss(probabilities: ArrayLike<number>, labels: Labels, eps = 1e-15): number {
  const n = sameLength(probabilities, labels);
  if (n === 0) return Number.NaN;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const p = probabilities[j]!;
    requireProbability(p, j);
    sum += Math.log(Math.max(eps, positive(labels[j]!) ? p : 1 - p));
  }
  return -sum / n;
}

/**
 * Expected calibration error over equal-width bins (10 by default: [0, 0.1), ..., [0.9, 1], with 1.0 in the
 * last bin): sum over bins of (share of pairs in the bin) x |mean predicted probability - share of
 * positives|. 0 is perfectly calibrated.
 */
export function expectedCalibrationError(
  probabilities: ArrayLike<number>,
  labels: Labels,
  bins = 10,
): number {
  const n = sameLength(probabilities, labels);
  if (n === 0) return Number.NaN;
  const count = new Float64Array(bins);
  const predicted = new Float64Array(bins);
  const observed = new Float64Array(bins);
  for (let j = 0; j < n; j++) {
    const p = probabilities[j]!;
    requireProbability(p, j);
    const b = Math.min(bins - 1, Math.floor(p * bins));
    count[b]!++;
    predicted[b]! += p;
    if (positive(labels[j]!)) observed[b]!++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++)
    if (count[b]! > 0)
      ece += (count[b]! / n) * Math.abs(predicted[b]! / count[b]! - observed[b]! / count[b]!);
  return ece;
}
