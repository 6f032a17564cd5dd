import { type ErrorCode, ForyouError, isForyouError } from '../core/errors.js';

/** The body of every error answer: the `ForyouError` fields, never a stack. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  hint: string;
  details: Record<string, unknown>;
}

export interface ErrorReply {
  status: number;
  body: ErrorBody;
  /** A failure of the server rather than of the request (5xx): it is logged with its stack. */
  unexpected: boolean;
}

export interface ErrorContext {
  requestId: string;
  /** The route's body limit, to name it when a body is too large. */
  bodyLimitBytes?: number | undefined;
  contentType?: string | undefined;
}

/** Longest piece of client input (a URL, a header) quoted back in a message. */
const MAX_ECHO_CHARS = 120;

/** Client-supplied text shortened for quoting in a message or a log line. */
export function echo(text: string): string {
  const single = text.replace(/\p{Cc}/gu, '?');
  return single.length > MAX_ECHO_CHARS ? `${single.slice(0, MAX_ECHO_CHARS)}…` : single;
}

interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  validation?: unknown;
}

function bodyOf(error: ForyouError): ErrorBody {
  return { code: error.code, message: error.message, hint: error.hint, details: error.details };
}

/** Translates what the framework itself raises (body limits, media types) into catalogue errors. */
function fromFramework(error: FrameworkError, context: ErrorContext): ForyouError | null {
  const code = typeof error.code === 'string' ? error.code : '';
  const status = typeof error.statusCode === 'number' ? error.statusCode : 0;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    const limit = context.bodyLimitBytes;
    return new ForyouError(
      'FY_PAYLOAD_TOO_LARGE',
      limit === undefined
        ? 'request body is too large'
        : `request body is over the limit of ${limit.toLocaleString('en-US')} bytes`,
      { details: limit === undefined ? {} : { limitBytes: limit } },
    );
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
    const type = context.contentType
      ? `content type "${echo(context.contentType)}"`
      : 'a missing content type';
    return new ForyouError('FY_UNSUPPORTED_MEDIA_TYPE', `this endpoint does not read ${type}`);
  }
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY')
    return new ForyouError('FY_BODY_MALFORMED', 'body is empty; send a JSON document');
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (status === 400 && error instanceof SyntaxError))
    return new ForyouError('FY_BODY_MALFORMED', 'body is not valid JSON');
  if (code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return new ForyouError('FY_BODY_MALFORMED', 'the Content-Length header does not match the body');
  if (error.validation !== undefined || (status >= 400 && status < 500)) {
    const message = typeof error.message === 'string' ? echo(error.message) : 'bad request';
    return new ForyouError('FY_INVALID_ARGUMENT', message);
  }
  return null;
}

/**
 * The one mapping from errors to HTTP answers: a `ForyouError` answers with its catalogue status and its
 * fields; a framework error with its catalogue equivalent; anything else is a bug, answered as a 500
 * FY_INTERNAL that names the request id (the stack goes to the server log, never to the client).
 */
export function errorReplyOf(error: unknown, context: ErrorContext): ErrorReply {
  if (isForyouError(error))
    return { status: error.status, body: bodyOf(error), unexpected: error.status >= 500 };
  if (error !== null && typeof error === 'object') {
    const translated = fromFramework(error as FrameworkError, context);
    if (translated) return { status: translated.status, body: bodyOf(translated), unexpected: false };
  }
  const internal = new ForyouError(
    'FY_INTERNAL',
    `internal error while answering request ${context.requestId}; the server log has the details`,
    { details: { requestId: context.requestId } },
  );
  return { status: 500, body: bodyOf(internal), unexpected: true };
}
