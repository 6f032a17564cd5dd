export { createHttpApp, type HttpAppOptions } from './app.js';
export { type ErrorBody, type ErrorReply, echo, errorReplyOf } from './error-reply.js';
export { acceptRawBodies, type RawBody } from './raw-body.js';
export { REQUEST_ID_HEADER, requestIdGenerator } from './request-id.js';
