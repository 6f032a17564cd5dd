import { dirname, join } from 'node:path';
import { asItemId, asUserId, type ItemId, type UserId } from '../core/ids.js';
import { type Item, ItemSchema } from '../core/schema/item.js';
import { parseRecord } from '../core/schema/validate.js';
import { atLine, isFile, malformed, requirePath } from './dataset-errors.js';
import {
  describeLayout,
  expectFieldCount,
  type FieldLayout,
  parseDatasetId,
  parseWholeNumber,
  shown,
} from './fields.js';
import type { Interaction } from './interaction.js';
import { readTextLines, type TextLine } from './text-lines.js';

/**
 * HetRec 2011 has no listening times. Every Last.fm event and sign-up gets one fixed time: the release of
 * the dataset, 2011-05-01T00:00:00Z (its readme says "Version 1.0 (May 2011)" and gives no day).
 */
export const LASTFM_TIMESTAMP_MS = Date.UTC(2011, 4, 1);
export const LASTFM_LAYOUT = 'hetrec-2011';

const PLAYS: FieldLayout = { separator: 'tab-separated', names: ['userID', 'artistID', 'weight'] };
const ARTISTS: FieldLayout = { separator: 'tab-separated', names: ['id', 'name', 'url', 'pictureURL'] };
const EXPECTED =
  'a Last.fm HetRec 2011 folder holding user_artists.dat (and artists.dat), or user_artists.dat itself';

export interface LastfmSource {
  path: string;
  userArtistsPath: string;
  /** Artist names, or null when the folder has no artists.dat (items then get empty captions). */
  artistsPath: string | null;
}

export const lastfmUserId = (id: string): UserId => asUserId(`lfm-u${id}`);
export const lastfmItemId = (id: string): ItemId => asItemId(`lfm-a${id}`);

/** Settles the files of a Last.fm dataset: `path` is its folder, or its `user_artists.dat`. */
export async function resolveLastfm(path: string): Promise<LastfmSource> {
  if (await isFile(path)) {
    const artists = join(dirname(path), 'artists.dat');
    return { path, userArtistsPath: path, artistsPath: (await isFile(artists)) ? artists : null };
  }
  await requirePath(path, 'folder', EXPECTED);
  const userArtistsPath = join(path, 'user_artists.dat');
  await requirePath(
    userArtistsPath,
    'file',
    'the Last.fm play counts user_artists.dat (userID artistID weight)',
  );
  const artists = join(path, 'artists.dat');
  return { path, userArtistsPath, artistsPath: (await isFile(artists)) ? artists : null };
}

/** True for the header line (it is optional: some copies drop it). */
function isHeader(at: TextLine, layout: FieldLayout): boolean {
  if (/^\s*\d/.test(at.text)) return false;
  if (at.text.trim().toLowerCase() !== layout.names.join('\t').toLowerCase())
    throw malformed(
      at,
      `the header ${layout.names.join('\\t')} or ${describeLayout(layout)}`,
      shown(at.text),
    );
  return true;
}

/** Streams the play counts of a resolved Last.fm source: one interaction per user-artist row. */
export async function* readPlays(source: LastfmSource): AsyncGenerator<Interaction> {
  let first = true;
  for await (const at of readTextLines(source.userArtistsPath, 'latin1')) {
    const header = first && isHeader(at, PLAYS);
    first = false;
    if (header) continue;
    const fields = at.text.split('\t');
    expectFieldCount(at, fields, PLAYS);
    const [user, artist, weight] = fields as [string, string, string];
    yield {
      user: lastfmUserId(parseDatasetId(at, 'userID', user)),
      item: lastfmItemId(parseDatasetId(at, 'artistID', artist)),
      value: parseWholeNumber(at, 'weight (play count)', weight),
      ts: LASTFM_TIMESTAMP_MS,
      line: at.line,
    };
  }
}

/**
 * The low-level Last.fm reader: every user-artist row of a folder (or of `user_artists.dat`) as an
 * interaction `{ user, item, value = play count, ts = LASTFM_TIMESTAMP_MS }`, in file order.
 */
export async function* readLastfmInteractions(path: string): AsyncGenerator<Interaction> {
  yield* readPlays(await resolveLastfm(path));
}

/**
 * Streams `artists.dat` as validated core items: `lfm-a<id>`, caption = artist name, created_ts 0 (unknown).
 * The url and pictureURL columns are not used, so a line may leave them out.
 */
export async function* readLastfmItems(artistsPath: string): AsyncGenerator<Item> {
  let first = true;
  for await (const at of readTextLines(artistsPath, 'auto')) {
    const header = first && isHeader(at, ARTISTS);
    first = false;
    if (header) continue;
    const fields = at.text.split('\t');
    if (fields.length < 2 || fields.length > ARTISTS.names.length)
      throw malformed(at, describeLayout(ARTISTS), String(fields.length));
    const [id, name] = fields as [string, string];
    const item_id = lastfmItemId(parseDatasetId(at, 'id', id));
    yield atLine(at, () => parseRecord(ItemSchema, { item_id, caption: name.trim(), created_ts: 0 }, 'item'));
  }
}
