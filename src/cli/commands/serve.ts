import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../core/config.js';
import { createHttpApp, type HttpAppOptions } from '../../http/app.js';
import { CATALOG_TOPIC, EVENTS_TOPIC } from '../../ingest/record-kinds.js';
import { ingestRoutes } from '../../ingest/routes.js';
import { openEventLog } from '../../log/open.js';
import type { EventLog } from '../../log/port.js';
import {
  ForwardingEventLog,
  relayAppends,
  workerEnvironment,
  workerExecArgv,
} from '../../serving/cluster.js';
import { type FeedSurface, openFeedSurface } from '../../serving/feed-surface.js';
import { configOf, intOption } from '../program.js';

export interface ServerAppOptions {
  logStream?: HttpAppOptions['logStream'];
  /** The feed endpoints (src/serving), when a serving bundle is promoted. */
  feed?: FeedSurface | null;
}

/**
 * The whole HTTP surface of Foryou, composed in one place: the shared app (src/http) and each surface's
 * plugin. Ingest today; feeds will be registered here too.
 */
export async function buildServerApp(
  config: Config,
  log: EventLog,
  options: ServerAppOptions = {},
): Promise<FastifyInstance> {
  const app = createHttpApp({
    logLevel: config.logLevel,
    ...(options.logStream ? { logStream: options.logStream } : {}),
    health: () => ({ log: log.kind }),
  });
  await app.register(ingestRoutes, {
    log,
    maxBodyBytes: config.ingest.maxBodyBytes,
    maxBatchRecords: config.ingest.maxBatchEvents,
  });
  if (options.feed) await options.feed.register(app);
  return app;
}

export interface RunningServer {
  app: FastifyInstance;
  log: EventLog;
  /** The feed surface, null when no serving bundle is promoted. */
  feed: FeedSurface | null;
  /** http://host:port with the port actually bound (port 0 picks a free one). */
  url: string;
  /** Stops taking requests, lets those in flight finish (their appends included), then closes the log. */
  close(): Promise<void>;
}

function urlOf(host: string, address: AddressInfo): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${address.port}`;
}

export interface StartServerOptions extends Omit<ServerAppOptions, 'feed'> {
  /** The log to use instead of opening `config.log` (a serving worker's forwarding log). */
  log?: EventLog;
  /** Open the feed endpoints when a serving bundle is promoted (default true). */
  feed?: boolean;
}

/**
 * Opens the configured log and the topics the server appends to (ingest, impressions). A file log opens a
 * topic on its first use and then reloads its recent record ids to catch duplicates; on a log with a
 * million records that is seconds of CPU, which must not land on the first requests.
 */
async function openServingLog(config: Config): Promise<EventLog> {
  const log = await openEventLog(config.log);
  try {
    for (const topic of [EVENTS_TOPIC, CATALOG_TOPIC]) await log.bounds(topic);
  } catch (error) {
    await log.close().catch(() => {});
    throw error;
  }
  return log;
}

/**
 * Opens the configured log (or takes the one given) and the feed surface, and serves the app on
 * `config.http`; everything opened is closed again if listening fails.
 */
export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? (await openServingLog(config));
  let app: FastifyInstance | null = null;
  let feed: FeedSurface | null = null;
  try {
    feed = options.feed === false ? null : await openFeedSurface(config, log);
    app = await buildServerApp(config, log, { ...options, feed });
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await app?.close().catch(() => {});
    await feed?.close().catch(() => {});
    await log.close().catch(() => {});
    throw error;
  }
  const running = app;
  const url = urlOf(config.http.host, running.server.address() as AddressInfo);
  let closing: Promise<void> | null = null;
  return {
    app: running,
    log,
    feed,
    url,
    close: () => {
      closing ??= (async () => {
        try {
          await running.close();
          await feed?.close();
        } finally {
          await log.close();
        }
      })();
      return closing;
    },
  };
}

/**
 * Waits for the first of `signals`; while the caller then shuts down, a second signal exits at once.
 * `dispose` removes every listener once shutdown is over.
 */
function awaitSignal(signals: readonly NodeJS.Signals[]): {
  signal: Promise<NodeJS.Signals>;
  dispose(): void;
} {
  const forceExit = () => process.exit(130);
  let onSignal!: (signal: NodeJS.Signals) => void;
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (received) => {
      for (const s of signals) {
        process.off(s, onSignal);
        process.once(s, forceExit);
      }
      resolve(received);
    };
  });
  for (const s of signals) process.on(s, onSignal);
  return {
    signal,
    dispose: () => {
      for (const s of signals) {
        process.off(s, onSignal);
        process.off(s, forceExit);
      }
    },
  };
}

/**
 * A serving worker (node:cluster): serves the same port as its siblings, forwards appends to the primary,
 * tells it when it listens, and closes when the primary says so or goes away.
 */
async function runWorker(config: Config): Promise<void> {
  const log = new ForwardingEventLog(config.log.url.split(':', 1)[0] ?? 'file');
  const server = await startServer(config, { log });
  // Signals go to the whole process group; the primary decides when workers stop.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  const stop = () => {
    void server.close().finally(() => process.exit(0));
  };
  process.on('message', (message: unknown) => {
    if ((message as { foryou?: unknown } | null)?.foryou === 'shutdown') stop();
  });
  process.once('disconnect', stop);
  process.send?.({ foryou: 'listening', url: server.url, feed: server.feed?.holder.current.version ?? null });
}

/** The primary of `--workers N`: owns the log, forks the workers, relays their appends, stops them. */
async function runPrimary(config: Config, workers: number): Promise<void> {
  const log = await openServingLog(config);
  const stop = awaitSignal(['SIGINT', 'SIGTERM']);
  cluster.setupPrimary({ execArgv: workerExecArgv() });
  const forked = Array.from({ length: workers }, () => cluster.fork(workerEnvironment()));
  let url = '';
  let bundle: string | null = null;
  try {
    await Promise.all(
      forked.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            relayAppends(worker, log);
            worker.on('message', (message: { foryou?: string; url?: string; feed?: string | null }) => {
              if (message?.foryou !== 'listening') return;
              url = message.url ?? url;
              bundle = message.feed ?? null;
              resolve();
            });
            worker.once('exit', (code) =>
              reject(new Error(`a serving worker exited with code ${code} while starting`)),
            );
          }),
      ),
    );
  } catch (error) {
    for (const worker of forked) worker.kill();
    await log.close();
    stop.dispose();
    throw error;
  }
  process.stdout.write(
    `foryou serve: listening on ${url} (log ${config.log.url}, fsync ${config.log.fsync}) with ${workers} workers; ` +
      `${bundle ? `feed bundle ${bundle}` : 'no serving bundle promoted, feed endpoints off'}\n`,
  );
  const signal = await stop.signal;
  process.stderr.write(`foryou serve: ${signal}, stopping workers, then closing the log\n`);
  try {
    await Promise.all(
      forked.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            worker.once('exit', () => resolve());
            worker.send({ foryou: 'shutdown' });
          }),
      ),
    );
    await log.close();
  } finally {
    stop.dispose();
  }
  process.stdout.write('foryou serve: stopped\n');
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API: ingest (POST /v1/events, /v1/items, /v1/users) over the configured event log, and ' +
        'the feed (GET /v1/feed, /v1/items/:id/similar, /v1/users/:id/history, /openapi.json) once a serving bundle is promoted',
    )
    .option(
      '--port <n>',
      'port to listen on, 0 for any free one (default: config http.port, 8080)',
      intOption(0, 65535),
    )
    .option('--host <address>', 'address to bind (default: config http.host, 127.0.0.1)')
    .option(
      '--workers <n>',
      'serving processes sharing the port (node:cluster); 1 serves in this process',
      intOption(1, 64),
      1,
    )
    .action(async (opts: { port?: number; host?: string; workers: number }, command: Command) => {
      const loaded = configOf(command);
      const config: Config = {
        ...loaded,
        http: { host: opts.host ?? loaded.http.host, port: opts.port ?? loaded.http.port },
      };
      if (cluster.isWorker) return runWorker(config);
      if (opts.workers > 1) return runPrimary(config, opts.workers);
      const server = await startServer(config);
      const stop = awaitSignal(['SIGINT', 'SIGTERM']);
      process.stdout.write(
        `foryou serve: listening on ${server.url} (log ${config.log.url}, fsync ${config.log.fsync}); ` +
          `${server.feed ? `feed bundle ${server.feed.holder.current.version}` : 'no serving bundle promoted, feed endpoints off'}\n`,
      );
      const signal = await stop.signal;
      process.stderr.write(`foryou serve: ${signal}, finishing requests in flight and closing the log\n`);
      try {
        await server.close();
      } finally {
        stop.dispose();
      }
      process.stdout.write('foryou serve: stopped\n');
    });
}
