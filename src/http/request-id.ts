import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isValidId } from '../core/ids.js';

/** Header that carries a request id in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * Request ids: the caller's `x-request-id` when it is a well-formed id (so a client or proxy can follow a
 * request through the logs), else one minted here. Minted ids are a random per-process prefix and a
 * counter: unique across restarts without the cost of a UUID per request.
 */
export function requestIdGenerator(): (request: IncomingMessage) => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return (request) => {
    const given = request.headers[REQUEST_ID_HEADER];
    if (typeof given === 'string' && isValidId(given)) return given;
    counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
    return `${prefix}-${counter.toString(36)}`;
  };
}
