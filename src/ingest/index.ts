export { BATCH_MEDIA_TYPES, type BatchFormat, type ParsedBatch, parseBatchBody } from './batch-body.js';
export { fastEventJson } from './event-fast-path.js';
export { type IngestOutcome, ingestBatch, type NotAccepted, summariseRejections } from './ingest-batch.js';
export {
  IngestClient,
  type IngestClientOptions,
  type IngestEndpoint,
  type SendResult,
} from './ingest-client.js';
export {
  CATALOG_TOPIC,
  EVENT_KIND,
  EVENTS_TOPIC,
  ITEM_KIND,
  type LogEntry,
  RECORD_KINDS,
  type RecordKind,
  USER_KIND,
} from './record-kinds.js';
export { type IngestRoutesOptions, ingestRoutes, type PartlyRejectedBody } from './routes.js';
