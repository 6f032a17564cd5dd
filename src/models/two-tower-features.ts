import { ForyouError } from '../core/errors.js';
import { hash32 } from '../core/rng.js';

/**
 * What the item tower reads about a video: its content only, never its history, so an item gets an
 * embedding the moment it is uploaded. Every field is optional (imported catalogues have no creator or
 * language; MovieLens has no content at all).
 */
export interface ItemContent {
  caption?: string;
  hashtags?: readonly string[];
  creatorId?: string;
  language?: string;
}

/** How much each field's mean embedding counts in the item tower's sum. */
export interface FieldWeights {
  caption: number;
  hashtags: number;
  creator: number;
  language: number;
}

export const DEFAULT_FIELD_WEIGHTS: FieldWeights = { caption: 1, hashtags: 1, creator: 1, language: 0.5 };

/**
 * The item tower's sparse input for a set of items, in compressed rows: the features of item i are at
 * [ptr[i], ptr[i + 1]), each a row of the hashed content table and its weight (the field's weight divided
 * by the number of features the field has, so a field contributes the mean of its tokens' embeddings).
 */
export interface ItemFeatures {
  ptr: Int32Array;
  rows: Int32Array;
  weights: Float32Array;
}

/** Han, Hiragana and Katakana: scripts written without spaces, cut into character bigrams. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
const WORD_RUN = /[\p{L}\p{N}]+/gu;

/**
 * Caption tokens: lower-cased runs of letters and digits for spaced scripts; for Chinese and Japanese
 * (no spaces between words) the character bigrams of each run, or the character itself when a run is one
 * character long. Emoji and punctuation are dropped. Mixed runs ("vlog日常") are split at script changes.
 */
export function captionTokens(text: string): string[] {
  const out: string[] = [];
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD_RUN)) {
    if (!UNSPACED.test(match[0])) {
      out.push(match[0]);
      continue;
    }
    const chars = Array.from(match[0]);
    let start = 0;
    while (start < chars.length) {
      const unspaced = UNSPACED.test(chars[start]!);
      let end = start + 1;
      while (end < chars.length && UNSPACED.test(chars[end]!) === unspaced) end++;
      if (!unspaced) out.push(chars.slice(start, end).join(''));
      else if (end - start === 1) out.push(chars[start]!);
      else for (let k = start; k + 1 < end; k++) out.push(chars[k]! + chars[k + 1]!);
      start = end;
    }
  }
  return out;
}

/** The hashed features of one item: field-prefixed tokens, each with its weight. */
export function contentFeatures(
  content: ItemContent,
  weights: FieldWeights = DEFAULT_FIELD_WEIGHTS,
): { tokens: string[]; weights: number[] } {
  const tokens: string[] = [];
  const out: number[] = [];
  const field = (prefix: string, values: readonly string[], weight: number) => {
    const distinct = [...new Set(values)];
    if (distinct.length === 0 || weight === 0) return;
    for (const v of distinct) {
      tokens.push(`${prefix}${v}`);
      out.push(weight / distinct.length);
    }
  };
  field('w:', captionTokens(content.caption ?? ''), weights.caption);
  field(
    'h:',
    (content.hashtags ?? []).map((h) => h.normalize('NFKC').toLowerCase().replace(/^#/, '')),
    weights.hashtags,
  );
  if (content.creatorId) field('c:', [content.creatorId], weights.creator);
  if (content.language) field('l:', [content.language], weights.language);
  return { tokens, weights: out };
}

/** The row of the content table a token hashes to. */
export function bucketOf(token: string, buckets: number): number {
  return hash32(token) % buckets;
}

/**
 * The sparse input of every item in `contents`, plus, for items flagged in `idRow` (>= 0), the item's own
 * id row (`buckets + idRow[i]`) with weight 1: the id embedding that only items with history have.
 */
export function buildItemFeatures(
  contents: readonly (ItemContent | undefined)[],
  buckets: number,
  fieldWeights: FieldWeights = DEFAULT_FIELD_WEIGHTS,
  idRow?: Int32Array,
): ItemFeatures {
  if (!Number.isInteger(buckets) || buckets < 1)
    throw new ForyouError('FY_INVALID_ARGUMENT', `hash buckets must be a whole number >= 1, got ${buckets}`);
  const n = contents.length;
  const ptr = new Int32Array(n + 1);
  const rows: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = contents[i];
    if (c) {
      const f = contentFeatures(c, fieldWeights);
      for (let k = 0; k < f.tokens.length; k++) {
        rows.push(bucketOf(f.tokens[k]!, buckets));
        weights.push(f.weights[k]!);
      }
    }
    const id = idRow?.[i] ?? -1;
    if (id >= 0) {
      rows.push(buckets + id);
      weights.push(1);
    }
    ptr[i + 1] = rows.length;
  }
  return { ptr, rows: Int32Array.from(rows), weights: Float32Array.from(weights) };
}
