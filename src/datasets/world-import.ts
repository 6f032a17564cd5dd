import type { ItemId, UserId } from '../core/ids.js';
import type { Event } from '../core/schema/event.js';
import type { Item } from '../core/schema/item.js';
import { UserSchema } from '../core/schema/user.js';
import { parseRecord } from '../core/schema/validate.js';
import {
  WorldFolderWriter,
  type WorldFormat,
  type WorldManifest,
  type WorldTable,
} from '../io/world-folder.js';
import type { Interaction } from './interaction.js';

export interface ImportOptions {
  /** Output formats; both JSON lines and Parquet by default. */
  formats?: WorldFormat[];
  /** Replace what is already in the output folder. */
  force?: boolean;
  /** Called every `progressEvery` events with the number written so far. */
  onProgress?: (events: number) => void;
  progressEvery?: number;
  /** Called before each table is converted to Parquet. */
  onTable?: (table: WorldTable) => void;
}

/** What a loader hands to `writeWorld`: its records and how its interactions become core records. */
export interface WorldImport {
  source: string;
  params: Record<string, unknown>;
  /** Items from the dataset's metadata file, in file order (already validated); null without one. */
  catalogue: AsyncIterable<Item> | null;
  interactions: AsyncIterable<Interaction>;
  /** The validated core event of one interaction. */
  toEvent: (interaction: Interaction) => Event;
  /** The user's sign-up time, given the time of their first event. */
  signupTs: (firstEventTs: number) => number;
  /** The item of an id that interactions reference but the metadata file lacks. */
  missingItem: (id: ItemId) => Item;
}

/**
 * Writes a dataset as a world folder. The metadata file is read completely before the output folder is
 * touched, so a malformed catalogue fails without emptying it. Memory holds the catalogue and one entry per
 * user; events stream straight to disk.
 */
export async function writeWorld(
  plan: WorldImport,
  outDir: string,
  options: ImportOptions = {},
): Promise<WorldManifest> {
  const catalogue = new Map<ItemId, Item>();
  if (plan.catalogue) for await (const item of plan.catalogue) catalogue.set(item.item_id, item);

  const writer = await WorldFolderWriter.create(outDir, {
    ...(options.formats ? { formats: options.formats } : {}),
    force: options.force ?? false,
  });
  try {
    return await writeRecords(plan, writer, catalogue, options);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function writeRecords(
  plan: WorldImport,
  writer: WorldFolderWriter,
  catalogue: Map<ItemId, Item>,
  options: ImportOptions,
): Promise<WorldManifest> {
  const firstTs = new Map<UserId, number>();
  const missing = new Set<ItemId>();
  const every = options.progressEvery ?? 100_000;
  let events = 0;
  for await (const interaction of plan.interactions) {
    writer.write('events', plan.toEvent(interaction));
    const seen = firstTs.get(interaction.user);
    if (seen === undefined || interaction.ts < seen) firstTs.set(interaction.user, interaction.ts);
    if (!catalogue.has(interaction.item)) missing.add(interaction.item);
    if (++events % every === 0) {
      await writer.flushIfFull();
      options.onProgress?.(events);
    }
  }

  let written = 0;
  const flushSometimes = async () => {
    if (++written % 10_000 === 0) await writer.flushIfFull();
  };
  for (const [user, ts] of firstTs) {
    writer.write('users', parseRecord(UserSchema, { user_id: user, signup_ts: plan.signupTs(ts) }, 'user'));
    await flushSometimes();
  }
  for (const item of catalogue.values()) {
    writer.write('items', item);
    await flushSometimes();
  }
  for (const id of missing) {
    writer.write('items', plan.missingItem(id));
    await flushSometimes();
  }
  return writer.finish(plan.source, plan.params, options.onTable);
}
