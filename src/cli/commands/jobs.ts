import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FakeClock, systemClock } from '../../core/clock.js';
import { ForyouError } from '../../core/errors.js';
import { MODELS } from '../../evaluation/model-registry.js';
import { foryouJobs } from '../../jobs/foryou-jobs.js';
import type { JobEvent } from '../../jobs/graph.js';
import { JobStateFile } from '../../jobs/state-file.js';
import { ArtifactRegistry } from '../../models/artifact-registry.js';
import { configOf, dateOption, intOption } from '../program.js';

function durationMs(value: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(value.trim());
  if (!m)
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `--every takes a duration like 30s, 10m or 1h, got "${value}"`,
    );
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 's' | 'm' | 'h'];
}

function describe(event: JobEvent): string | null {
  switch (event.kind) {
    case 'skip':
      return `  ${event.job}: up to date`;
    case 'start':
      return `  ${event.job}: running (${event.reason})${event.attempt > 1 ? `, attempt ${event.attempt}` : ''}`;
    case 'progress':
      return event.note ? `    ${event.job}: ${event.note}` : null;
    case 'done':
      return `  ${event.job}: done in ${event.seconds.toFixed(1)} s -> ${event.output}`;
    case 'retry':
      return `  ${event.job}: failed (${event.error}); retrying in ${event.waitMs} ms`;
    case 'fail':
      return `  ${event.job}: FAILED: ${event.error}`;
    case 'blocked':
      return `  ${event.job}: not run, ${event.by} failed`;
  }
}

export function registerJobCommands(program: Command): void {
  const jobs = program
    .command('jobs')
    .description('the offline job graph: lake, features, training, evaluation');
  const graphFor = (command: Command, opts: { models: string; asOf?: number; seed?: number }) => {
    const config = configOf(command);
    const models = opts.models
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    for (const m of models)
      if (!(m in MODELS))
        throw new ForyouError(
          'FY_INVALID_ARGUMENT',
          `unknown model "${m}"; known: ${Object.keys(MODELS).join(', ')}`,
        );
    return {
      config,
      graph: foryouJobs(config, {
        models,
        clock: opts.asOf === undefined ? systemClock : new FakeClock(opts.asOf),
        seed: opts.seed ?? config.seed,
      }),
      store: new JobStateFile(join(resolve(config.dataDir), 'jobs', 'state.json')),
    };
  };
  const common = (c: Command) =>
    c
      .option(
        '--models <list>',
        'retrieval models to train (als also feeds the serving bundle)',
        'popularity,trending,item-knn,als',
      )
      .option('--as-of <time>', 'the current time for feature TTLs (default: now)', dateOption)
      .option('--seed <n>', 'seed for training and evaluation (default: config seed)', intOption(0, 2 ** 31));

  common(jobs.command('list').description('every job, its dependencies, and whether it is stale')).action(
    async (opts, command: Command) => {
      const { graph, store } = graphFor(command, opts);
      const state = await store.load();
      for (const job of graph.order(graph.list().map((j) => j.id))) {
        const stale = await graph.staleness(job, state).catch((e: Error) => `cannot tell: ${e.message}`);
        process.stdout.write(
          `${job.id.padEnd(20)} ${stale ? `stale: ${stale}` : 'up to date'}  (after ${job.deps.join(', ') || 'nothing'}) ${job.description}\n`,
        );
      }
    },
  );

  common(
    jobs
      .command('run <job>')
      .description('run a job (or "all") and what it needs, each only if stale')
      .option('--force', 'run even when up to date', false)
      .option('--every <duration>', 'run again at this interval (30s, 10m, 1h) until interrupted'),
  ).action(
    async (
      target: string,
      opts: { force: boolean; every?: string; models: string; asOf?: number; seed?: number },
      command: Command,
    ) => {
      const { graph, store } = graphFor(command, opts);
      const targets = target === 'all' ? 'all' : [target];
      if (targets !== 'all') graph.get(target);
      const interval = opts.every ? durationMs(opts.every) : null;
      for (;;) {
        process.stdout.write(`jobs: ${target} at ${new Date().toISOString()}\n`);
        const summary = await graph.run(targets, store, {
          force: opts.force,
          onEvent: (e) => {
            const line = describe(e);
            if (line) process.stdout.write(`${line}\n`);
          },
        });
        if (summary.failed.length > 0 && interval === null)
          throw new ForyouError(
            'FY_JOB_FAILED',
            `${summary.failed.map((f) => `${f.job}: ${f.error}`).join('; ')}`,
            { details: { ...summary } },
          );
        if (interval === null) return;
        await new Promise((r) => setTimeout(r, interval));
      }
    },
  );
}

export function registerModelCommands(program: Command): void {
  const models = program
    .command('models')
    .description('the artifact registry: trained models, indexes and reports');
  const registryOf = (command: Command) =>
    new ArtifactRegistry(join(resolve(configOf(command).dataDir), 'artifacts'));
  models
    .command('list')
    .description('every artifact, its versions and the promoted one')
    .action(async (_o, command: Command) => {
      const registry = registryOf(command);
      for (const name of await registry.names())
        process.stdout.write(
          `${name.padEnd(16)} versions ${(await registry.versions(name)).join(', ') || '-'}  promoted ${(await registry.current(name)) ?? '-'}\n`,
        );
    });
  models
    .command('show <name> [version]')
    .description('an artifact version: config, metrics, inputs, parent (default: the promoted one)')
    .action(async (name: string, version: string | undefined, _o, command: Command) => {
      const meta = await registryOf(command).show(
        name,
        version === undefined ? undefined : intOption(1)(version),
      );
      process.stdout.write(`${JSON.stringify(meta, null, 2)}\n`);
    });
  models
    .command('promote <name> <version>')
    .description('make a version the one serving loads')
    .action(async (name: string, version: string, _o, command: Command) => {
      await registryOf(command).promote(name, intOption(1)(version));
      process.stdout.write(`${name}: version ${version} promoted\n`);
    });
  models
    .command('rollback <name>')
    .description('go back to the version promoted before the current one')
    .action(async (name: string, _o, command: Command) => {
      process.stdout.write(`${name}: rolled back to version ${await registryOf(command).rollback(name)}\n`);
    });
}
