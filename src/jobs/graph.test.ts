import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/index.js';
import { type Job, type JobEvent, JobGraph } from './graph.js';
import { JobStateFile } from './state-file.js';

function job(
  id: string,
  deps: string[],
  world: { inputs: Record<string, string>; runs: string[]; failures: Record<string, number> },
): Job {
  let version = 0;
  return {
    id,
    description: id,
    deps,
    fingerprint: async () => world.inputs[id] ?? 'v1',
    run: async (ctx) => {
      ctx.progress(1, 2);
      if ((world.failures[id] ?? 0) > 0) {
        world.failures[id]!--;
        throw new Error(`${id} broke`);
      }
      world.runs.push(id);
      return `${id}@${++version}`;
    },
  };
}

function setup() {
  const world = {
    inputs: {} as Record<string, string>,
    runs: [] as string[],
    failures: {} as Record<string, number>,
  };
  const graph = new JobGraph([
    job('lake', [], world),
    job('features', ['lake'], world),
    job('train', ['features'], world),
    job('eval', ['train'], world),
    job('other', [], world),
  ]);
  return { world, graph, store: new JobStateFile(join(tempDir(), 'jobs.json')) };
}

describe('JobGraph', () => {
  it('runs what a target needs in dependency order, then nothing while up to date', async () => {
    const { world, graph, store } = setup();
    expect((await graph.run(['eval'], store)).ran).toEqual(['lake', 'features', 'train', 'eval']);
    expect(world.runs).toEqual(['lake', 'features', 'train', 'eval']);
    const again = await graph.run(['eval'], store);
    expect(again.ran).toEqual([]);
    expect(again.skipped).toEqual(['lake', 'features', 'train', 'eval']);
  });

  it('reruns a job whose inputs changed and everything downstream of it', async () => {
    const { world, graph, store } = setup();
    await graph.run('all', store);
    world.inputs.features = 'v2';
    const events: JobEvent[] = [];
    const summary = await graph.run('all', store, { onEvent: (e) => events.push(e) });
    expect(summary.ran).toEqual(['features', 'train', 'eval']);
    expect(events.find((e) => e.kind === 'start' && e.job === 'features')).toMatchObject({
      reason: 'inputs changed (v1 -> v2)',
    });
    expect(events.find((e) => e.kind === 'start' && e.job === 'train')).toMatchObject({
      reason: 'features produced features@2 since',
    });
  });

  it('retries a failing job with backoff and succeeds', async () => {
    const { world, graph, store } = setup();
    world.failures.train = 2;
    const events: JobEvent[] = [];
    const summary = await graph.run(['eval'], store, { backoffMs: 1, onEvent: (e) => events.push(e) });
    expect(summary.failed).toEqual([]);
    expect(events.filter((e) => e.kind === 'retry').map((e) => (e as { waitMs: number }).waitMs)).toEqual([
      1, 2,
    ]);
  });

  it('reports a job that keeps failing with its error and blocks its dependents', async () => {
    const { world, graph, store } = setup();
    world.failures.features = 99;
    const summary = await graph.run('all', store, { backoffMs: 1, attempts: 2 });
    expect(summary.failed).toEqual([{ job: 'features', error: 'features broke' }]);
    expect(summary.blocked).toEqual(['train', 'eval']);
    expect(summary.ran).toEqual(['lake', 'other']);
    expect((await store.load()).failure.features).toMatchObject({ error: 'features broke', attempts: 2 });
  });

  it('refuses cycles and unknown dependencies with the path', () => {
    const world = { inputs: {}, runs: [], failures: {} };
    const cyclic = new JobGraph([job('a', ['b'], world), job('b', ['a'], world)]);
    expect(() => cyclic.order(['a'])).toThrow('the job graph has a cycle: a -> b -> a');
    expect(() => new JobGraph([job('a', ['nope'], world)]).order(['a'])).toThrow(
      'job "a" depends on unknown job "nope"',
    );
  });
});
