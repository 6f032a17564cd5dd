import type { ItemId } from '../core/ids.js';
import { PlayCountEventSchema } from '../core/schema/event.js';
import { ItemSchema } from '../core/schema/item.js';
import { parseRecord } from '../core/schema/validate.js';
import type { WorldManifest } from '../io/world-folder.js';
import { atLine } from './dataset-errors.js';
import type { Interaction } from './interaction.js';
import {
  LASTFM_LAYOUT,
  LASTFM_TIMESTAMP_MS,
  type LastfmSource,
  readLastfmItems,
  readPlays,
  resolveLastfm,
} from './lastfm-files.js';
import type { ImportOptions } from './world-import.js';
import { writeWorld } from './world-import.js';

/** The play_count event of one user-artist row: `lfm-p<line>`, count = weight, at the fixed dataset time. */
export function playCountEvent(source: LastfmSource, p: Interaction) {
  return atLine({ path: source.userArtistsPath, line: p.line }, () =>
    parseRecord(
      PlayCountEventSchema,
      {
        event_id: `lfm-p${p.line}`,
        type: 'play_count',
        user_id: p.user,
        item_id: p.item,
        ts: p.ts,
        count: p.value,
      },
      'event',
    ),
  );
}

/**
 * Imports a Last.fm HetRec 2011 folder into a world folder at `outDir` (source "lastfm", params
 * `{ path, layout: "hetrec-2011" }`) and returns its manifest. Users are `lfm-u<id>` signed up at
 * `LASTFM_TIMESTAMP_MS`; items are `lfm-a<id>`: every artist of artists.dat plus any it lacks.
 */
export async function importLastfm(
  path: string,
  outDir: string,
  options: ImportOptions = {},
): Promise<WorldManifest> {
  const source = await resolveLastfm(path);
  return writeWorld(
    {
      source: 'lastfm',
      params: { path, layout: LASTFM_LAYOUT },
      catalogue: source.artistsPath ? readLastfmItems(source.artistsPath) : null,
      interactions: readPlays(source),
      toEvent: (p) => playCountEvent(source, p),
      signupTs: () => LASTFM_TIMESTAMP_MS,
      missingItem: (id: ItemId) => parseRecord(ItemSchema, { item_id: id, created_ts: 0 }, 'item'),
    },
    outDir,
    options,
  );
}
