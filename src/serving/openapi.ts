/** The OpenAPI 3 document of the feed API, served at /openapi.json. */

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const countParam = (max: number, fallback: number) => ({
  name: 'count',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
});

const idPattern = '^[A-Za-z0-9._:@-]{1,128}$';

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Foryou feed API',
      version: '1',
      description:
        'The For You feed and its neighbours. Every feed answer says whether it was degraded (a component failed or ran out of time and fell back) and which components degraded; component failures never answer 5xx.',
    },
    paths: {
      '/v1/feed': {
        get: {
          summary: 'One page of the For You feed',
          parameters: [
            {
              name: 'user',
              in: 'query',
              required: false,
              description: 'User id; omit for an anonymous session (then pass context items).',
              schema: { type: 'string', pattern: idPattern },
            },
            {
              name: 'context',
              in: 'query',
              required: false,
              description: 'Comma-separated item ids the session engaged with, newest first (cold start).',
              schema: { type: 'string' },
            },
            countParam(100, 20),
            {
              name: 'cursor',
              in: 'query',
              required: false,
              description: 'next_cursor of the previous page; items served before are not repeated.',
              schema: { type: 'string' },
            },
            {
              name: 'language',
              in: 'query',
              required: false,
              description: 'Only items in this language (ISO 639-1); default: the languages the user reads.',
              schema: { type: 'string', pattern: '^[a-z]{2}$' },
            },
            {
              name: 'debug',
              in: 'query',
              required: false,
              description: '1 to return the pipeline trace (per component: time, counts, removals, scores).',
              schema: { type: 'string', enum: ['0', '1', 'true', 'false'] },
            },
          ],
          responses: {
            '200': {
              description: 'A feed page',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/FeedPage' } } },
            },
            '400': errorResponse('A parameter is invalid; message and details.parameter name it.'),
          },
        },
      },
      '/v1/items/{id}/similar': {
        get: {
          summary: 'Items similar to one item (co-engagement neighbours, then nearest by embedding)',
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: idPattern } },
            countParam(100, 20),
          ],
          responses: {
            '200': {
              description: 'Similar items, best first',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['item_id', 'bundle_version', 'items'],
                    properties: {
                      item_id: { type: 'string' },
                      bundle_version: { type: 'string' },
                      items: { type: 'array', items: { $ref: '#/components/schemas/ScoredItem' } },
                    },
                  },
                },
              },
            },
            '400': errorResponse('The id is malformed or not in the catalogue, or count is out of range.'),
          },
        },
      },
      '/v1/users/{id}/history': {
        get: {
          summary: "A user's history: items served (impressions), engaged and liked, newest first",
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: idPattern } },
            countParam(1000, 50),
          ],
          responses: {
            '200': {
              description: 'The history',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['user_id', 'known', 'served', 'engaged', 'liked'],
                    properties: {
                      user_id: { type: 'string' },
                      known: { type: 'boolean', description: 'The user is in the serving bundle.' },
                      served: { type: 'array', items: { type: 'string' } },
                      engaged: { type: 'array', items: { type: 'string' } },
                      liked: { type: 'array', items: { type: 'string' } },
                    },
                  },
                },
              },
            },
            '400': errorResponse('A parameter is invalid.'),
          },
        },
      },
    },
    components: {
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message', 'hint', 'details'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            hint: { type: 'string' },
            details: { type: 'object' },
          },
        },
        ScoredItem: {
          type: 'object',
          required: ['item_id', 'creator_id', 'score', 'source'],
          properties: {
            item_id: { type: 'string' },
            creator_id: { type: 'string', nullable: true },
            score: { type: 'number' },
            source: { type: 'string' },
          },
        },
        FeedPage: {
          type: 'object',
          required: [
            'request_id',
            'bundle_version',
            'user_id',
            'items',
            'next_cursor',
            'degraded',
            'degraded_components',
            'reasons',
          ],
          properties: {
            request_id: { type: 'string', description: 'Also the request_id of the logged impressions.' },
            bundle_version: { type: 'string' },
            user_id: { type: 'string', description: 'The user, or anon:<session> for anonymous sessions.' },
            items: {
              type: 'array',
              items: {
                allOf: [
                  { $ref: '#/components/schemas/ScoredItem' },
                  {
                    type: 'object',
                    required: ['position'],
                    properties: { position: { type: 'integer', minimum: 0 } },
                  },
                ],
              },
            },
            next_cursor: { type: 'string' },
            degraded: { type: 'boolean' },
            degraded_components: { type: 'array', items: { type: 'string' } },
            reasons: { type: 'array', items: { type: 'string' } },
            trace: { type: 'object', description: 'With debug=1: the pipeline trace.' },
          },
        },
      },
    },
  };
}
