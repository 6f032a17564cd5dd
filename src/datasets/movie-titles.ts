/**
 * Year and genre handling for MovieLens titles. Titles end with the release year in parentheses,
 * "Toy Story (1995)", sometimes a range for series, "Death Note: Desu nôto (2006–2007)", and a few have
 * none at all ("Babylon 5").
 */
const YEAR_AT_END = /\((\d{4})(?:\s*[-–]\s*(?:\d{4})?)?\)\s*$/;

/** The (first) year in parentheses at the end of a title, or null. */
export function yearOfTitle(title: string): number | null {
  const match = YEAR_AT_END.exec(title);
  return match ? Number(match[1]) : null;
}

/**
 * The item's `created_ts`: 1 January of the title's year, UTC. Core timestamps cannot be before the epoch,
 * so a title without a year and a film from before 1970 both get 0 ("unknown / long ago").
 */
export function createdTsOfTitle(title: string): number {
  const year = yearOfTitle(title);
  if (year === null || year < 1970) return 0;
  return Date.UTC(year, 0, 1);
}

/** Genre labels that mean "no genre" rather than a genre. */
const NO_GENRE = new Set(['(no genres listed)', 'unknown']);

/**
 * Turns MovieLens genre labels into hashtags of the core alphabet (letters, digits, "_"): "Sci-Fi" becomes
 * "SciFi", "Children's" becomes "Childrens"; the placeholders "(no genres listed)" and ml-100k's "unknown"
 * give none. Duplicates are dropped, order is kept.
 */
export function genreHashtags(genres: readonly string[]): string[] {
  const out: string[] = [];
  for (const genre of genres) {
    const label = genre.trim();
    if (NO_GENRE.has(label.toLowerCase())) continue;
    const tag = label.replace(/[^\p{L}\p{N}_]+/gu, '');
    if (tag !== '' && !out.includes(tag)) out.push(tag);
  }
  return out.slice(0, 30);
}
