import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ForyouError } from '../core/errors.js';
import { echo } from './error-reply.js';

/** A request body kept as bytes, with the media type it was sent as (lower case, without parameters). */
export interface RawBody {
  mediaType: string;
  bytes: Buffer;
}

function charsetOf(contentType: string): string | null {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType);
  return match ? (match[1] as string).toLowerCase() : null;
}

/**
 * Makes the routes of `instance` (an encapsulated plugin context) receive their bodies as `RawBody`: bytes
 * read once, within the route's body limit, for the handler to parse however suits it. Only `mediaTypes`
 * are read; any other content type, a missing one, or a charset other than UTF-8 is refused with 415
 * FY_UNSUPPORTED_MEDIA_TYPE naming the accepted types. Parsers of the parent context are removed here.
 */
export function acceptRawBodies(instance: FastifyInstance, mediaTypes: readonly string[]): void {
  const accepted = mediaTypes.map((t) => t.toLowerCase());
  const list = accepted.join(' or ');
  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    accepted,
    { parseAs: 'buffer' },
    (
      request: FastifyRequest,
      bytes: Buffer | string,
      done: (error: Error | null, body?: RawBody) => void,
    ) => {
      const header = request.headers['content-type'] ?? '';
      const charset = charsetOf(header);
      if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
        done(
          new ForyouError(
            'FY_UNSUPPORTED_MEDIA_TYPE',
            `charset "${echo(charset)}" is not accepted: send UTF-8 (${list})`,
            { details: { accepted } },
          ),
        );
        return;
      }
      const mediaType = (header.split(';', 1)[0] as string).trim().toLowerCase();
      done(null, { mediaType, bytes: typeof bytes === 'string' ? Buffer.from(bytes) : bytes });
    },
  );
  instance.addContentTypeParser('*', (request, _payload, done) => {
    const header = request.headers['content-type'];
    const what = header
      ? `content type "${echo(header)}" is not accepted`
      : 'the request has no Content-Type';
    done(
      new ForyouError('FY_UNSUPPORTED_MEDIA_TYPE', `${what}: send ${list}`, {
        details: { accepted },
      }),
    );
  });
}
