import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventSchema } from '../core/schema/event.js';
import { fastEventJson } from './event-fast-path.js';

/** The fast path must accept exactly what the schema accepts, with the bytes JSON.stringify gives. */
function expectSameAsSchema(value: unknown): void {
  const parsed = EventSchema.safeParse(value);
  const fast = fastEventJson(value);
  if (parsed.success) expect(fast).toBe(JSON.stringify(parsed.data));
  else expect(fast).toBeNull();
}

const ID_CHARS = 'abzAZ09._:@-'.split('');
const validId = fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 1, maxLength: 128 });
/** Ids on both sides of the rule: empty, too long, spaces, other scripts, non-strings. */
const edgyId = fc.oneof(
  validId,
  fc.constant(''),
  fc.string({ unit: fc.constantFrom(...ID_CHARS), minLength: 129, maxLength: 130 }),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('a b', 'ü', 'a\n', 'a"b', 7, null, ['a'], { a: 1 }),
);

/** Integers in [min, max] plus the values just outside, fractions, -0 and unsafe integers. */
function edgyInt(min: number, max: number) {
  return fc.oneof(
    fc.integer({ min, max: Math.min(max, 2 ** 31 - 1) }),
    fc.constantFrom(min, max, min - 1, max + 1, min + 0.5, -0, 2 ** 53, Number.MAX_SAFE_INTEGER),
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, '5', null, true),
  );
}

const edgyNumber = fc.oneof(
  fc.double({ min: -1, max: 11, noNaN: true }),
  fc.constantFrom(0, 10, -0, 10.000001, -1e-9, Number.NEGATIVE_INFINITY, Number.NaN, '3'),
);
const edgyText = (max: number) =>
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 10 }),
    fc.constantFrom('x'.repeat(max), 'x'.repeat(max + 1), ' ', '  a  ', '\t\n', '"\\', '\u2028'),
    fc.constantFrom(5, null),
  );

/** Field generators; each rule stated here independently of the implementation under test. */
const FIELDS: Record<string, fc.Arbitrary<unknown>> = {
  event_id: edgyId,
  user_id: edgyId,
  item_id: edgyId,
  creator_id: edgyId,
  request_id: edgyId,
  ts: edgyInt(0, 4_102_444_800_000),
  watch_ms: edgyInt(0, 86_400_000),
  duration_ms: edgyInt(1, 3_600_000),
  position: edgyInt(0, 100_000),
  count: edgyInt(1, 1_000_000),
  value: edgyNumber,
  text: edgyText(2000),
  query: edgyText(500),
};

const TYPES: Record<string, string[]> = {
  impression: ['item_id', 'request_id', 'position'],
  play: ['item_id', 'watch_ms', 'duration_ms', 'request_id'],
  like: ['item_id', 'request_id'],
  share: ['item_id', 'request_id'],
  comment: ['item_id', 'text', 'request_id'],
  follow: ['creator_id', 'item_id', 'request_id'],
  skip: ['item_id', 'watch_ms', 'request_id'],
  not_interested: ['item_id', 'request_id'],
  search: ['query', 'request_id'],
  rating: ['item_id', 'value'],
  play_count: ['item_id', 'count'],
};

/** Fields a valid event may leave out. */
const OPTIONAL = new Set([
  ...Object.keys(TYPES)
    .filter((t) => t !== 'impression')
    .map((t) => `${t}.request_id`),
  'comment.text',
  'follow.item_id',
]);

/** Valid values of each field. */
function validField(name: string): fc.Arbitrary<unknown> {
  if (name.endsWith('_id')) return validId;
  if (name === 'value') return fc.double({ min: 0, max: 10, noNaN: true });
  if (name === 'text' || name === 'query')
    return fc.string({ minLength: 1, maxLength: 50 }).filter((s) => s.trim().length > 0);
  if (name === 'ts') return fc.integer({ min: 0, max: 4_102_444_800_000 });
  return fc.integer({ min: name === 'duration_ms' || name === 'count' ? 1 : 0, max: 100_000 });
}

/** A valid event of a random type, its optional fields sometimes left out. */
const validEvent = fc.constantFrom(...Object.keys(TYPES)).chain((type) => {
  const names = ['event_id', 'user_id', 'ts', ...(TYPES[type] as string[])];
  const model: Record<string, fc.Arbitrary<unknown>> = { type: fc.constant(type) };
  for (const n of names) model[n] = validField(n);
  const requiredKeys = ['type', ...names.filter((n) => !OPTIONAL.has(`${type}.${n}`))];
  return fc.record(model, { requiredKeys });
});

type Mutation =
  | { kind: 'set'; pick: number; values: Record<string, unknown> }
  | { kind: 'drop'; pick: number }
  | { kind: 'extra'; key: string }
  | { kind: 'type'; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  // A field of the event (or, past its last field, of another type) set to a value around its limits.
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), values: fc.record(FIELDS) }),
  },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'drop' as const, pick })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('__proto__', 'constructor', 'watch_ms', 'extra', 'toString')
      .map((key) => ({ kind: 'extra' as const, key })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('poke', 'Play', '', 3, null, ...Object.keys(TYPES))
      .map((value) => ({ kind: 'type' as const, value })),
  },
);

/**
 * A valid event with zero to two mutations (a field set to a value around its limits, a field dropped, an
 * unknown key added, the type changed), its keys in random order, sent through JSON text as the server
 * receives it (so __proto__ is an own key and 1e400 an infinity).
 */
const edgyEvent = fc
  .record({
    event: validEvent,
    mutations: fc.array(mutation, { maxLength: 2 }),
    order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
  })
  .map(({ event, mutations, order }) => {
    let entries = Object.entries(event) as [string, unknown][];
    for (const m of mutations) {
      if (m.kind === 'set') {
        // Mostly one of the event's own fields; now and then any field, which the type may not allow.
        const own = entries.map(([k]) => k).filter((k) => Object.hasOwn(FIELDS, k));
        const all = Object.keys(FIELDS);
        const field = (m.pick % 5 === 0 ? all[m.pick % all.length] : own[m.pick % own.length]) as string;
        entries = [...entries.filter(([k]) => k !== field), [field, m.values[field]]];
      } else if (m.kind === 'drop') entries = entries.filter((_, k) => k !== m.pick % entries.length);
      else if (m.kind === 'extra') entries = [...entries, [m.key, 1]];
      else entries = [...entries.filter(([k]) => k !== 'type'), ['type', m.value]];
    }
    const shuffled = entries
      .map((e, k) => [order[k % order.length]! + k / 100, e] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, e]) => e);
    return JSON.parse(
      `{${shuffled.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(',')}}`,
    ) as unknown;
  });

/** JSON text of a value, writing non-finite numbers as the overflowing literals a client could send. */
function jsonText(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    return Number.isNaN(value) ? 'null' : value > 0 ? '1e400' : '-1e400';
  if (Object.is(value, -0)) return '-0';
  return JSON.stringify(value);
}

describe('fastEventJson against EventSchema', () => {
  it('accepts and rejects exactly what the schema does, with identical canonical JSON', () => {
    fc.assert(
      fc.property(edgyEvent, (event) => expectSameAsSchema(event)),
      { numRuns: 5000 },
    );
  });

  it('accepts every valid event of every type (no silent fallbacks on the common path)', () => {
    fc.assert(
      fc.property(validEvent, (event) => {
        expect(EventSchema.safeParse(event).success).toBe(true);
        expect(fastEventJson(event)).not.toBeNull();
        expectSameAsSchema(event);
      }),
      { numRuns: 2000 },
    );
  });

  it("agrees with the schema at every field's limits, type by type", () => {
    const limits: Record<string, unknown[]> = {
      id: ['a', 'a'.repeat(128), 'a'.repeat(129), '', 'a b', 'é', 1],
      ts: [0, -1, 4_102_444_800_000, 4_102_444_800_001, 1.5, -0, '1'],
      watch_ms: [0, -1, 86_400_000, 86_400_001, 0.5],
      duration_ms: [1, 0, 3_600_000, 3_600_001, 1.5],
      position: [0, -1, 100_000, 100_001, 0.5],
      count: [1, 0, Number.MAX_SAFE_INTEGER, 2 ** 53, 1.5],
      value: [0, -0, 10, 10.5, -0.1, 4.25, Number.POSITIVE_INFINITY, Number.NaN],
      text: ['', 'x'.repeat(2000), 'x'.repeat(2001), 'é😀"\\\n', 3],
      query: ['a', ' a ', ' ', '', 'q'.repeat(500), 'q'.repeat(501), ` ${'q'.repeat(500)} `, '\u2028x'],
    };
    for (const [type, names] of Object.entries(TYPES)) {
      const base: Record<string, unknown> = { event_id: 'e', user_id: 'u', ts: 1, type };
      for (const n of names) base[n] = n.endsWith('_id') ? 'x' : n === 'text' || n === 'query' ? 'hi' : 1;
      expectSameAsSchema(base);
      for (const n of ['event_id', 'user_id', 'ts', ...names]) {
        for (const value of limits[n.endsWith('_id') ? 'id' : n] ?? [])
          expectSameAsSchema({ ...base, [n]: value });
        const { [n]: _dropped, ...without } = base;
        expectSameAsSchema(without);
      }
    }
  });

  it('agrees with the schema on values that are not events at all', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => expectSameAsSchema(value)),
      { numRuns: 2000 },
    );
    for (const value of [
      null,
      [],
      {},
      'play',
      { type: 'play' },
      { type: { toString: 'play' } },
      Object.create(null),
    ])
      expectSameAsSchema(value);
  });

  it('follows inherited enumerable keys the way the schema does', () => {
    const proto = { extra: 1 };
    const event = Object.assign(Object.create(proto), {
      event_id: 'e',
      user_id: 'u',
      ts: 1,
      type: 'like',
      item_id: 'v',
    });
    expectSameAsSchema(event);
  });
});
