/**
 * Foryou's job graph end to end on a real log and lake: a small simulated world appended to the embedded
 * log, then `train-two-tower` (content tower from the lake's catalogue) and `build-bundle` (ALS, ANN index,
 * lists) run through `foryouJobs`, and their artifacts load and work. The ranker's job runs in the demo's
 * test (test/integration/demo.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.js';
import { ConfigSchema } from '../../src/core/config.js';
import { foryouJobs, TWO_TOWER_FILE } from '../../src/jobs/foryou-jobs.js';
import { JobStateFile } from '../../src/jobs/state-file.js';
import { ArtifactRegistry } from '../../src/models/artifact-registry.js';
import { TwoTowerModel } from '../../src/models/two-tower.js';
import { itemContentOf } from '../../src/models/two-tower-data.js';
import { ServingBundle } from '../../src/serving/bundle.js';
import { BUNDLE_ARTIFACT } from '../../src/serving/bundle-holder.js';
import { World } from '../../src/sim/world.js';
import { writeWorldToLog } from '../helpers/world-log.js';

const dir = mkdtempSync(join(tmpdir(), 'foryou-jobs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Foryou's job graph", () => {
  it('trains the two-tower model with content and builds a serving bundle from the lake', async () => {
    const world = new World({ users: 400, items: 600, days: 2, seed: 5 });
    await writeWorldToLog(world, join(dir, 'log'));

    const config = ConfigSchema.parse({
      dataDir: dir,
      log: { url: `file://${join(dir, 'log')}` },
      lake: { dir: join(dir, 'lake') },
      // Its own store: the schema's default (.foryou/store under the working folder) outlives the test, and
      // seen histories left there by earlier runs emptied later runs' feeds.
      store: { url: `lmdb://${join(dir, 'store')}` },
    });
    const graph = foryouJobs(config, {
      models: ['als', 'two-tower'],
      clock: new FakeClock(world.endMs),
      seed: 1,
    });
    const summary = await graph.run(
      ['train-two-tower', 'build-bundle'],
      new JobStateFile(join(dir, 'jobs.json')),
      {
        attempts: 1,
      },
    );
    expect(summary.failed).toEqual([]);
    expect(summary.ran).toEqual(
      expect.arrayContaining(['lake-write', 'train-als', 'train-two-tower', 'build-bundle']),
    );

    const artifacts = new ArtifactRegistry(join(dir, 'artifacts'));
    const tower = TwoTowerModel.load(
      join(artifacts.pathOf('two-tower', (await artifacts.current('two-tower'))!), TWO_TOWER_FILE),
    );
    // Any video gets an embedding from its content alone (the id is not passed).
    const content = itemContentOf(world.itemRecord(0));
    const vector = tower.embedItem(content);
    expect(vector).toHaveLength(tower.dim);
    expect(vector.some((x) => x !== 0)).toBe(true);

    const bundle = await ServingBundle.load(
      artifacts.pathOf(BUNDLE_ARTIFACT, (await artifacts.current(BUNDLE_ARTIFACT))!),
    );
    expect(bundle.data.itemIds.size).toBe(world.itemCount);
    expect(bundle.data.itemDurationMs.every((d) => d > 0)).toBe(true);
    const hits = bundle.ann.search(bundle.userVector(0), 10);
    expect(hits.keys.length).toBe(10);

    // Nothing changed: a second run finds every job up to date.
    const again = await graph.run(
      ['train-two-tower', 'build-bundle'],
      new JobStateFile(join(dir, 'jobs.json')),
      {
        attempts: 1,
      },
    );
    expect(again.ran).toEqual([]);
  }, 300_000);
});
