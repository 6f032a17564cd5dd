import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE, ForyouError } from '../core/errors.js';
import { acceptRawBodies, type RawBody } from '../http/raw-body.js';
import type { EventLog } from '../log/port.js';
import { BATCH_MEDIA_TYPES, parseBatchBody } from './batch-body.js';
import { type IngestOutcome, ingestBatch, summariseRejections } from './ingest-batch.js';
import { RECORD_KINDS, type RecordKind } from './record-kinds.js';

export interface IngestRoutesOptions {
  log: EventLog;
  /** Largest body of one request (config ingest.maxBodyBytes). */
  maxBodyBytes: number;
  /** Most records in one request (config ingest.maxBatchEvents). */
  maxBatchRecords: number;
}

/** The body of a 422: the outcome, with the catalogue fields so generic clients can show it as an error. */
export interface PartlyRejectedBody extends IngestOutcome {
  code: 'FY_BATCH_PARTLY_REJECTED';
  message: string;
  hint: string;
}

function partlyRejected(outcome: IngestOutcome, kind: RecordKind): PartlyRejectedBody {
  return {
    code: 'FY_BATCH_PARTLY_REJECTED',
    message: summariseRejections(outcome, kind.plural),
    hint: ERROR_CATALOGUE.FY_BATCH_PARTLY_REJECTED.hint,
    ...outcome,
  };
}

/**
 * The ingest API as a fastify plugin: POST /v1/events, /v1/items and /v1/users, each taking a batch as a
 * JSON array or NDJSON. Every record is validated; valid ones are appended to the log, and the answer
 * comes only once the append is durable. 200 when nothing was rejected, 422 when something was (the
 * valid records are stored all the same). Register it on an app from `createHttpApp`; it is
 * encapsulated, so its body parsing does not leak to other routes.
 */
export async function ingestRoutes(app: FastifyInstance, options: IngestRoutesOptions): Promise<void> {
  acceptRawBodies(app, Object.keys(BATCH_MEDIA_TYPES));
  for (const kind of RECORD_KINDS) {
    app.post(`/v1/${kind.plural}`, { bodyLimit: options.maxBodyBytes }, async (request, reply) => {
      const body = request.body as RawBody | undefined;
      if (body === undefined || body === null)
        throw new ForyouError(
          'FY_BODY_MALFORMED',
          `body is empty; send a JSON array of ${kind.plural} (application/json) or one per line (application/x-ndjson)`,
        );
      const format = BATCH_MEDIA_TYPES[body.mediaType] ?? 'json';
      const batch = parseBatchBody(body.bytes, format, options.maxBatchRecords);
      const outcome = await ingestBatch(options.log, kind, batch);
      if (outcome.rejected > 0) return reply.code(422).send(partlyRejected(outcome, kind));
      return outcome;
    });
  }
}
