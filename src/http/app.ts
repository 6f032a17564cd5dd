import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../core/config.js';
import { ForyouError } from '../core/errors.js';
import { echo, errorReplyOf } from './error-reply.js';
import { REQUEST_ID_HEADER, requestIdGenerator } from './request-id.js';

export interface HttpAppOptions {
  /** Server log level (pino); 'silent' logs nothing. Default 'info'. */
  logLevel?: Config['logLevel'];
  /** Where log lines go, one JSON object per line. Default stderr (stdout is for the command's output). */
  logStream?: { write(line: string): unknown };
  /** Largest request body of routes that do not set their own limit. Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Extra facts reported by GET /healthz (say, the log backend); a throw answers 503. */
  health?: () => Promise<Record<string, unknown>> | Record<string, unknown>;
}

const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The fastify app every HTTP surface of Foryou starts from: request ids (`x-request-id` in and out), one
 * error mapping (`ForyouError` code to status, body `{ code, message, hint, details }`; anything
 * unexpected is a logged 500 FY_INTERNAL without the stack), a catalogue 404, body limits and
 * GET /healthz. Surfaces add their routes as plugins (see src/ingest/routes.ts).
 */
export function createHttpApp(options: HttpAppOptions = {}): FastifyInstance {
  const level = options.logLevel ?? 'info';
  const app = Fastify({
    logger: level === 'silent' ? false : { level, stream: options.logStream ?? process.stderr },
    // One line per request would cost more than a batch of events; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    genReqId: requestIdGenerator(),
    return503OnClosing: true,
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const answer = errorReplyOf(error, {
      requestId: request.id,
      bodyLimitBytes: request.routeOptions?.bodyLimit,
      contentType: request.headers['content-type'],
    });
    if (answer.unexpected) request.log.error({ err: error }, `${request.method} ${echo(request.url)} failed`);
    reply.code(answer.status).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const error = new ForyouError(
      'FY_ROUTE_NOT_FOUND',
      `no endpoint answers ${echo(request.method)} ${echo(request.url.split('?', 1)[0] as string)}`,
    );
    reply.code(error.status).send(error.toJSON());
  });

  app.get('/healthz', async (_request, reply) => {
    try {
      const extra = options.health ? await options.health() : {};
      return { status: 'ok', ...extra };
    } catch (cause) {
      reply.code(503);
      return { status: 'unhealthy', reason: echo(cause instanceof Error ? cause.message : String(cause)) };
    }
  });

  return app;
}
