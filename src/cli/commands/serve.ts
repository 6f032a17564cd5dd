import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../core/config.js';
import { createHttpApp, type HttpAppOptions } from '../../http/app.js';
import { ingestRoutes } from '../../ingest/routes.js';
import { openEventLog } from '../../log/open.js';
import type { EventLog } from '../../log/port.js';
import { configOf, intOption } from '../program.js';

export interface ServerAppOptions {
  logStream?: HttpAppOptions['logStream'];
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
  return app;
}

export interface RunningServer {
  app: FastifyInstance;
  log: EventLog;
  /** http://host:port with the port actually bound (port 0 picks a free one). */
  url: string;
  /** Stops taking requests, lets those in flight finish (their appends included), then closes the log. */
  close(): Promise<void>;
}

function urlOf(host: string, address: AddressInfo): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${address.port}`;
}

/** Opens the configured log and serves the app on `config.http`; the log is closed if listening fails. */
export async function startServer(config: Config, options: ServerAppOptions = {}): Promise<RunningServer> {
  const log = await openEventLog(config.log);
  let app: FastifyInstance | null = null;
  try {
    app = await buildServerApp(config, log, options);
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (error) {
    await app?.close().catch(() => {});
    await log.close().catch(() => {});
    throw error;
  }
  const running = app;
  const url = urlOf(config.http.host, running.server.address() as AddressInfo);
  let closing: Promise<void> | null = null;
  return {
    app: running,
    log,
    url,
    close: () => {
      closing ??= (async () => {
        try {
          await running.close();
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

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the HTTP API (ingest: POST /v1/events, /v1/items, /v1/users) over the configured event log',
    )
    .option(
      '--port <n>',
      'port to listen on, 0 for any free one (default: config http.port, 8080)',
      intOption(0, 65535),
    )
    .option('--host <address>', 'address to bind (default: config http.host, 127.0.0.1)')
    .action(async (opts: { port?: number; host?: string }, command: Command) => {
      const loaded = configOf(command);
      const config: Config = {
        ...loaded,
        http: { host: opts.host ?? loaded.http.host, port: opts.port ?? loaded.http.port },
      };
      const server = await startServer(config);
      const stop = awaitSignal(['SIGINT', 'SIGTERM']);
      process.stdout.write(
        `foryou serve: listening on ${server.url} (log ${config.log.url}, fsync ${config.log.fsync})\n`,
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
