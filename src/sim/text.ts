import { Rng } from '../core/rng.js';
import {
  EMOJI,
  GENERIC_HASHTAGS,
  GENERIC_WORDS,
  LANGUAGES,
  type Language,
  TOPICS,
  UNSPACED_LANGUAGES,
} from './vocabulary.js';
import type { World } from './world.js';

/**
 * Text for simulated records. Each item's text comes from its own generator (seeded by world seed and item
 * index), so writing item 500 000 never requires generating the 499 999 before it.
 */
function itemRng(world: World, kind: string, index: number): Rng {
  return new Rng(`${world.params.seed}/${kind}/${index}`);
}

function pickDistinct(rng: Rng, words: readonly string[], count: number): string[] {
  const chosen: string[] = [];
  for (let attempt = 0; chosen.length < count && attempt < count * 4; attempt++) {
    const w = rng.pick(words);
    if (!chosen.includes(w)) chosen.push(w);
  }
  return chosen;
}

function join(language: Language, words: string[]): string {
  return words.join(UNSPACED_LANGUAGES.has(language) ? '' : ' ');
}

function asHashtag(word: string): string {
  return word.replace(/[^\p{L}\p{N}_]/gu, '');
}

export function captionFor(world: World, i: number): string {
  const rng = itemRng(world, 'caption', i);
  const language = LANGUAGES[world.itemLanguage[i]!]!;
  const words = pickDistinct(rng, TOPICS[world.itemTopic[i]!]!.words[language], 1 + rng.int(3));
  const t2 = world.itemTopic2[i]!;
  if (t2 < TOPICS.length && rng.chance(0.7)) words.push(rng.pick(TOPICS[t2]!.words[language]));
  if (rng.chance(0.6)) words.splice(rng.int(words.length + 1), 0, rng.pick(GENERIC_WORDS[language]));
  const emoji = rng.chance(0.5) ? ` ${rng.pick(EMOJI)}` : '';
  return `${join(language, words)}${emoji}`;
}

export function hashtagsFor(world: World, i: number): string[] {
  const rng = itemRng(world, 'hashtags', i);
  const language = LANGUAGES[world.itemLanguage[i]!]!;
  const tags = pickDistinct(rng, TOPICS[world.itemTopic[i]!]!.words[language], 1 + rng.int(3)).map(asHashtag);
  const t2 = world.itemTopic2[i]!;
  if (t2 < TOPICS.length) tags.push(asHashtag(rng.pick(TOPICS[t2]!.words[language])));
  if (rng.chance(0.5)) tags.push(rng.pick(GENERIC_HASHTAGS[language]));
  return [...new Set(tags.filter((t) => t.length > 0))];
}

export function creatorNameFor(world: World, c: number): string {
  const rng = itemRng(world, 'creator', c);
  const language = LANGUAGES[world.creatorLanguage[c]!]!;
  const K = TOPICS.length;
  let top = 0;
  for (let k = 1; k < K; k++)
    if (world.creatorTopics[c * K + k]! > world.creatorTopics[c * K + top]!) top = k;
  const word = rng.pick(TOPICS[top]!.words[language]);
  return UNSPACED_LANGUAGES.has(language)
    ? `${word}${rng.int(1000)}`
    : `${word}_${rng.pick(['by', 'with', 'daily', 'club', 'lab'])}${rng.int(1000)}`;
}

/** A search query a user in `language` types about `topic`: one to three topic words. */
export function queryFor(rng: Rng, language: Language, topic: number): string {
  return join(language, pickDistinct(rng, TOPICS[topic]!.words[language], 1 + rng.int(3)));
}
