import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { type Clock, FakeClock, systemClock } from '../../core/clock.js';
import type { Config } from '../../core/config.js';
import { ForyouError } from '../../core/errors.js';
import { checkConsistency } from '../../features/consistency.js';
import { WINDOWS } from '../../features/definition.js';
import { compileSql } from '../../features/expr.js';
import { foryouRegistry } from '../../features/foryou-views.js';
import { labelsRelation, writeHistoricalFeatures } from '../../features/historical.js';
import { materializeToOnline } from '../../features/materialize.js';
import { buildOfflineTable, offlineTablePath } from '../../features/offline.js';
import { OnlineFeatureStore } from '../../features/online.js';
import type { FeatureRegistry } from '../../features/registry.js';
import { FeatureStreamer } from '../../features/streamer.js';
import { sqlString } from '../../io/duckdb.js';
import { Lake } from '../../lake/lake.js';
import { openEventLog } from '../../log/open.js';
import { openKeyValueStore } from '../../store/open.js';
import { configOf, dateOption } from '../program.js';
import { startProgress } from '../progress.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The registry, with its definitions recorded so a changed view without a version bump is refused. */
async function registryFor(config: Config): Promise<FeatureRegistry> {
  const registry = foryouRegistry();
  await registry.record(join(resolve(config.dataDir), 'features', 'registry.json'));
  return registry;
}

async function offlineTables(
  lake: Lake,
  registry: FeatureRegistry,
  quiet: boolean,
): Promise<Record<string, string>> {
  const rows: Record<string, string> = {};
  for (const view of registry.allViews()) {
    if (!quiet) process.stderr.write(`computing offline rows of ${view.name} v${view.version}\n`);
    const meta = await buildOfflineTable(lake.connection(), lake.dir, lake.manifest.sequence, view);
    if (!quiet) process.stderr.write(`  ${fmt(meta.rows)} rows\n`);
    rows[view.name] = `read_parquet(${sqlString(offlineTablePath(lake.dir, view))})`;
  }
  return rows;
}

export function registerFeatureCommands(program: Command): void {
  const features = program
    .command('features')
    .description('the feature store: definitions, online and offline values (docs/features.md)');

  features
    .command('list')
    .description('feature views and services, with versions')
    .action(async (_opts, command: Command) => {
      const registry = await registryFor(configOf(command));
      for (const v of registry.allViews())
        process.stdout.write(
          `view ${v.name} v${v.version}  entity ${v.entity}  ${v.features.length} features  ttl ${v.ttlMs / 3_600_000} h\n`,
        );
      for (const s of registry.allServices())
        process.stdout.write(`service ${s.name}  entity ${s.entity}  reads ${s.features.join(', ')}\n`);
    });

  features
    .command('describe <view>')
    .description('every feature of a view: kind, window, filter and value as SQL')
    .action(async (name: string, _opts, command: Command) => {
      const view = (await registryFor(configOf(command))).view(name);
      process.stdout.write(
        `${view.name} v${view.version} (entity ${view.entity}, ttl ${view.ttlMs} ms)\n${view.description ?? ''}\n`,
      );
      for (const f of view.features) {
        if (f.kind === 'ratio') {
          process.stdout.write(`  ${f.name}: ratio ${f.numerator} / ${f.denominator}\n`);
          continue;
        }
        const w = WINDOWS[f.window];
        const value = 'value' in f && f.value ? ` of ${compileSql(f.value)}` : '';
        const filter = f.filter ? ` where ${compileSql(f.filter)}` : '';
        process.stdout.write(
          `  ${f.name}: ${f.kind}${value}${filter} over ${f.window} (tiles of ${w.tileMs / 60_000} min)\n`,
        );
      }
    });

  features
    .command('stream')
    .description('the online path: follow the event log and keep the online store fresh')
    .option('--follow', 'keep following the log (default: stop when caught up)', false)
    .option(
      '--as-of <time>',
      'the current time for TTLs (default: now); useful for simulated worlds',
      dateOption,
    )
    .action(async (opts: { follow: boolean; asOf?: number }, command: Command) => {
      const config = configOf(command);
      const registry = await registryFor(config);
      const log = await openEventLog(config.log, { readOnly: true });
      const store = await openKeyValueStore(config.store.url);
      try {
        const clock: Clock = opts.asOf === undefined ? systemClock : new FakeClock(opts.asOf);
        const streamer = new FeatureStreamer(log, new OnlineFeatureStore(registry, store, clock), registry, {
          clock,
        });
        if (opts.follow) {
          const controller = new AbortController();
          for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
          await streamer.follow(controller.signal);
        }
        const progress = await streamer.runOnce();
        process.stdout.write(
          `features: ${fmt(progress.events)} events applied, ${fmt(progress.rowsWritten)} rows written, at offset ${fmt(progress.offset)}\n`,
        );
      } finally {
        await store.close();
        await log.close();
      }
    });

  features
    .command('materialize')
    .description(
      'compute offline feature rows from the lake and write the newest to the online store, hour by hour (resumable)',
    )
    .option('--offline-only', 'only compute the offline tables', false)
    .option('--from-scratch', 'ignore the checkpoint and backfill every hour again', false)
    .option(
      '--as-of <time>',
      'the current time for TTLs (default: now); useful for simulated worlds',
      dateOption,
    )
    .option('--quiet', 'no progress output', false)
    .action(
      async (
        opts: { offlineOnly: boolean; fromScratch: boolean; asOf?: number; quiet: boolean },
        command: Command,
      ) => {
        const config = configOf(command);
        const registry = await registryFor(config);
        const lake = await Lake.open(config.lake.dir);
        try {
          await offlineTables(lake, registry, opts.quiet);
          if (opts.offlineOnly) return;
          const clock: Clock = opts.asOf === undefined ? systemClock : new FakeClock(opts.asOf);
          const store = await openKeyValueStore(config.store.url);
          try {
            const online = new OnlineFeatureStore(registry, store, clock);
            for (const view of registry.allViews()) {
              const bar = startProgress({
                label: view.name.padEnd(16),
                total: 1,
                unit: 'hours',
                quiet: opts.quiet,
              });
              const result = await materializeToOnline(lake.connection(), lake.dir, view, online, {
                fromScratch: opts.fromScratch,
                onHour: (p) => {
                  bar.update(p.hoursDone);
                },
              });
              bar.stop();
              process.stdout.write(
                `${view.name}: ${fmt(result.hoursDone)} hours, ${fmt(result.rowsWritten)} rows written, ${fmt(result.rowsSkipped)} already newer, ${fmt(result.rowsExpired)} past TTL\n`,
              );
            }
          } finally {
            await store.close();
          }
        } finally {
          lake.close();
        }
      },
    );

  features
    .command('historical')
    .description(
      'point-in-time correct feature rows for label rows (CSV or Parquet with entity keys and a timestamp)',
    )
    .requiredOption('--labels <file>', 'label rows: the service entity key columns and a timestamp column')
    .requiredOption('--service <name>', 'feature service to join (see `foryou features list`)')
    .requiredOption('--out <file>', 'output file, .parquet or .csv')
    .option('--ts-column <name>', 'timestamp column of the labels (TIMESTAMP or epoch ms)', 'ts')
    .action(
      async (opts: { labels: string; service: string; out: string; tsColumn: string }, command: Command) => {
        const config = configOf(command);
        const registry = await registryFor(config);
        const service = registry.resolve(opts.service);
        const lake = await Lake.open(config.lake.dir);
        try {
          const rows = await offlineTables(lake, registry, true);
          const n = await writeHistoricalFeatures(
            lake.connection(),
            labelsRelation(resolve(opts.labels)),
            service,
            resolve(opts.out),
            {
              tsColumn: opts.tsColumn,
              featureRows: rows,
            },
          );
          process.stdout.write(
            `wrote ${fmt(n)} rows with ${service.numericNames.length + service.listNames.length} features to ${opts.out}\n`,
          );
        } finally {
          lake.close();
        }
      },
    );

  features
    .command('check')
    .description('recompute the logged served values offline and report the mismatch rate per feature')
    .action(async (_opts, command: Command) => {
      const config = configOf(command);
      const registry = await registryFor(config);
      const lake = await Lake.open(config.lake.dir);
      const log = await openEventLog(config.log, { readOnly: true });
      try {
        const rows = await offlineTables(lake, registry, true);
        const report = await checkConsistency(lake.connection(), log, registry, rows);
        if (report.servedRows === 0)
          throw new ForyouError(
            'FY_INVALID_ARGUMENT',
            'no served values are logged yet (topic feature_log is empty)',
          );
        process.stdout.write(`checked ${fmt(report.servedRows)} served rows\n`);
        for (const f of report.features.sort((a, b) => b.rate - a.rate))
          process.stdout.write(
            `  ${f.feature.padEnd(48)} ${(100 * f.rate).toFixed(3).padStart(8)}% of ${fmt(f.compared)} (tolerance ${f.tolerance})\n`,
          );
      } finally {
        await log.close();
        lake.close();
      }
    });
}
