import { WORLD_TABLES, WorldFolderWriter, type WorldFormat, type WorldManifest } from '../io/world-folder.js';
import { simulateHistory } from './history.js';
import type { WorldParamsInput } from './params.js';
import { SummaryCollector, type WorldSummary } from './summary.js';
import { World } from './world.js';

export type GeneratePhase = 'world' | 'catalogue' | 'history' | 'parquet';

export interface GenerateProgress {
  phase: GeneratePhase;
  done: number;
  total: number;
  events: number;
}

export interface GenerateOptions {
  formats?: WorldFormat[];
  force?: boolean;
  onProgress?: (progress: GenerateProgress) => void;
}

export interface GenerateResult {
  manifest: WorldManifest;
  summary: WorldSummary;
}

/**
 * Builds a world from `params` and writes it with its history to `outDir` (see io/world-folder): users,
 * creators, videos, then every event step by step, then Parquet. Memory stays bounded by the world's size,
 * not the history's length.
 */
export async function generateWorld(
  outDir: string,
  params: WorldParamsInput,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const report = options.onProgress ?? (() => {});
  report({ phase: 'world', done: 0, total: 1, events: 0 });
  const world = new World(params);
  const writer = await WorldFolderWriter.create(outDir, {
    ...(options.formats ? { formats: options.formats } : {}),
    ...(options.force ? { force: options.force } : {}),
  });
  report({ phase: 'world', done: 1, total: 1, events: 0 });
  try {
    return await writeHistory(world, writer, report);
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function writeHistory(
  world: World,
  writer: WorldFolderWriter,
  report: (progress: GenerateProgress) => void,
): Promise<GenerateResult> {
  const catalogue = world.userCount + world.creatorCount + world.itemCount;
  let written = 0;
  const tick = async () => {
    if (++written % 50_000 === 0) {
      await writer.flushIfFull();
      report({ phase: 'catalogue', done: written, total: catalogue, events: 0 });
    }
  };
  for (let u = 0; u < world.userCount; u++) {
    writer.write('users', world.userRecord(u));
    await tick();
  }
  for (let c = 0; c < world.creatorCount; c++) {
    writer.write('creators', world.creatorRecord(c));
    await tick();
  }
  for (let i = 0; i < world.itemCount; i++) {
    writer.write('items', world.itemRecord(i));
    await tick();
  }
  report({ phase: 'catalogue', done: catalogue, total: catalogue, events: 0 });

  const summary = new SummaryCollector(world);
  for (const { step, steps, events } of simulateHistory(world, { onSession: (s) => summary.addSession(s) })) {
    for (const event of events) {
      writer.write('events', event);
      summary.addEvent(event);
    }
    await writer.flushIfFull();
    report({ phase: 'history', done: step + 1, total: steps, events: writer.count('events') });
  }

  let converted = 0;
  const manifest = await writer.finish('sim', { ...world.params }, () => {
    report({
      phase: 'parquet',
      done: converted++,
      total: WORLD_TABLES.length,
      events: writer.count('events'),
    });
  });
  report({
    phase: 'parquet',
    done: WORLD_TABLES.length,
    total: WORLD_TABLES.length,
    events: writer.count('events'),
  });
  return { manifest, summary: summary.finish() };
}
