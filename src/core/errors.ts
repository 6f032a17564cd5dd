/**
 * The single catalogue of Foryou's errors. Every error the platform raises on purpose is a `ForyouError`
 * with one of these codes; `docs/errors.md` documents each one and a test holds the two together.
 * `status` is for the HTTP layer (the only place that maps codes to responses) and `exitCode` for the CLI.
 */
export const ERROR_CATALOGUE = {
  FY_CONFIG_INVALID: {
    status: 500,
    exitCode: 78,
    summary: 'A configuration value is invalid, so Foryou refuses to start.',
    hint: 'Fix the named key in the config file or the named FORYOU_* environment variable (see docs/config.md).',
  },
  FY_CONFIG_FILE_UNREADABLE: {
    status: 500,
    exitCode: 78,
    summary: 'The config file could not be read or is not valid JSON.',
    hint: 'Check the path given by --config or FORYOU_CONFIG, and that the file is a JSON object.',
  },
  FY_INVALID_ARGUMENT: {
    status: 400,
    exitCode: 64,
    summary: 'A command-line option or API parameter has a value outside what it accepts.',
    hint: 'Run the command with --help to see the accepted values.',
  },
  FY_VALIDATION_FAILED: {
    status: 400,
    exitCode: 65,
    summary: 'A record (user, creator, item or event) does not match its schema.',
    hint: 'The message names the field and the rule it broke; see docs/data-model.md for every field.',
  },
  FY_DATASET_NOT_FOUND: {
    status: 404,
    exitCode: 66,
    summary: 'A dataset folder or one of its expected files does not exist.',
    hint: 'Pass --path pointing at the unpacked dataset folder or file; the message names what was missing.',
  },
  FY_DATASET_MALFORMED: {
    status: 422,
    exitCode: 65,
    summary: 'A dataset file does not have the layout its loader expects.',
    hint: 'The message gives the file, the line and what was expected there; check the layout option.',
  },
  FY_OUTPUT_EXISTS: {
    status: 409,
    exitCode: 73,
    summary: 'The output folder already holds data and would be overwritten.',
    hint: 'Choose an empty folder, or pass --force to replace its contents.',
  },
  FY_IO_FAILED: {
    status: 500,
    exitCode: 74,
    summary: 'A file or storage operation failed.',
    hint: 'The cause names the path and the system error; check permissions and free disk space.',
  },
  FY_LOG_OFFSET_OUT_OF_RANGE: {
    status: 416,
    exitCode: 65,
    summary: 'A read asked for an offset the log no longer holds (removed by retention) or never will.',
    hint: 'Read from the topic start given by `foryou log stats`, or replay from a time instead of an offset.',
  },
  FY_LOG_CORRUPT: {
    status: 500,
    exitCode: 74,
    summary: 'A sealed log segment failed its checksum: data on disk changed after it was written.',
    hint: 'The message names the segment and position; restore it from a replica or backup, or truncate the topic there.',
  },
  FY_LOG_LOCKED: {
    status: 503,
    exitCode: 75,
    summary: 'Another process holds the embedded event log open for writing.',
    hint: 'Stop the other writer (its pid is in the message), or remove a stale lock file if that process is gone.',
  },
  FY_LOG_UNAVAILABLE: {
    status: 503,
    exitCode: 69,
    summary: 'The event log backend (NATS JetStream) cannot be reached or refused the operation.',
    hint: 'Check that the server at the configured log URL is running with JetStream enabled.',
  },
  FY_LAKE_LOCKED: {
    status: 503,
    exitCode: 75,
    summary: 'Another process is writing to the lake (a lake writer or a compaction).',
    hint: 'Stop the other process (its pid is in the message); a running `foryou lake write --follow` compacts on its own.',
  },
  FY_LAKE_CORRUPT: {
    status: 500,
    exitCode: 74,
    summary: 'The lake manifest cannot be read, or names data the lake folder does not hold.',
    hint: 'The message names the file; restore the lake folder from a backup, or delete it and rebuild it from the log.',
  },
  FY_FEATURE_UNKNOWN: {
    status: 404,
    exitCode: 65,
    summary: 'A feature view, feature or feature service name is not defined.',
    hint: 'Run `foryou features list` to see the defined views and services; the message lists them too.',
  },
  FY_FEATURE_INCOMPATIBLE: {
    status: 409,
    exitCode: 65,
    summary: 'A feature view changed without a version bump, or its version went backwards.',
    hint: "Increase the view's version: stored rows and their packed layout belong to one version.",
  },
  FY_ARTIFACT_NOT_FOUND: {
    status: 404,
    exitCode: 66,
    summary: 'No artifact (model or index) with that name or version exists in the registry.',
    hint: 'Run `foryou models list` to see the artifacts and their versions.',
  },
  FY_JOB_FAILED: {
    status: 500,
    exitCode: 70,
    summary: 'An offline job failed after its retries; the jobs that depend on it did not run.',
    hint: 'The message names the job and its error; fix the cause and run `foryou jobs run` again (finished jobs are not redone).',
  },
  FY_PIPELINE_FAILED: {
    status: 503,
    exitCode: 69,
    summary: 'A serving pipeline component whose failure policy is `fail` failed or ran out of time.',
    hint: 'The message names the component; its trace (`?debug=1`) shows what happened. Components that may fail should degrade.',
  },
  FY_INTERNAL: {
    status: 500,
    exitCode: 70,
    summary: 'An invariant inside Foryou was broken; this is a bug.',
    hint: 'Please report it with the command you ran and the message.',
  },
  FY_BODY_MALFORMED: {
    status: 400,
    exitCode: 65,
    summary: 'A request body is not UTF-8, not JSON or NDJSON, not an array of records, or empty.',
    hint: 'Send a non-empty JSON array (application/json) or one JSON object per line (application/x-ndjson); see docs/ingest.md.',
  },
  FY_PAYLOAD_TOO_LARGE: {
    status: 413,
    exitCode: 65,
    summary: 'A request body is over the byte limit, or a batch holds more records than allowed.',
    hint: 'Split the batch; the limits are ingest.maxBodyBytes and ingest.maxBatchEvents (docs/config.md).',
  },
  FY_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    exitCode: 65,
    summary: 'A request body has a content type the endpoint does not read.',
    hint: 'Set Content-Type to one of the types the message lists (application/json or application/x-ndjson for ingest).',
  },
  FY_BATCH_PARTLY_REJECTED: {
    status: 422,
    exitCode: 65,
    summary: 'Some records of a batch failed validation; the valid ones were accepted and stored.',
    hint: 'Fix the records listed with their index and reason, and re-send only those (re-sending the others is harmless: they are duplicates).',
  },
  FY_ROUTE_NOT_FOUND: {
    status: 404,
    exitCode: 69,
    summary: 'No endpoint answers this method and path.',
    hint: 'Check the method and path against docs/ingest.md (POST /v1/events, /v1/items, /v1/users; GET /healthz).',
  },
  FY_SERVER_UNREACHABLE: {
    status: 503,
    exitCode: 69,
    summary: 'A Foryou server could not be reached, or kept failing after retries.',
    hint: 'Check that `foryou serve` is running at the URL given (--url) and that its log is healthy.',
  },
  FY_STORE_UNAVAILABLE: {
    status: 503,
    exitCode: 69,
    summary:
      'The online key-value store (Redis, or a closed store) cannot be reached or refused the operation.',
    hint: 'Check that the server at store.url (FORYOU_STORE_URL) is running and reachable; the cause has the driver error.',
  },
} as const satisfies Record<string, { status: number; exitCode: number; summary: string; hint: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface ForyouErrorOptions {
  cause?: unknown;
  /** Structured facts about the failure (the field, the line, the offending value), for logs and APIs. */
  details?: Record<string, unknown>;
}

export class ForyouError extends Error {
  override readonly name = 'ForyouError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: ForyouErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** What the user can do about it, from the catalogue. */
  get hint(): string {
    return ERROR_CATALOGUE[this.code].hint;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CATALOGUE[this.code].exitCode;
  }

  toJSON(): { code: ErrorCode; message: string; hint: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, hint: this.hint, details: this.details };
  }
}

export function isForyouError(value: unknown, code?: ErrorCode): value is ForyouError {
  return value instanceof ForyouError && (code === undefined || value.code === code);
}
