import { isValidId } from '../core/ids.js';
import {
  CommentEventSchema,
  FollowEventSchema,
  ImpressionEventSchema,
  LikeEventSchema,
  NotInterestedEventSchema,
  PlayCountEventSchema,
  PlayEventSchema,
  RatingEventSchema,
  SearchEventSchema,
  ShareEventSchema,
  SkipEventSchema,
} from '../core/schema/event.js';
import { MAX_TS_MS } from '../core/schema/fields.js';
import { MAX_DURATION_MS } from '../core/schema/item.js';

/**
 * A field's check and serialisation in one: the field's canonical JSON text, or null when the value is
 * not valid (or is a case left to zod).
 */
type FieldRule = (value: unknown) => string | null;

const idRule: FieldRule = (v) => (typeof v === 'string' && isValidId(v) ? `"${v}"` : null);

function intRule(min: number, max: number): FieldRule {
  return (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max ? String(v) : null);
}

const numberRule =
  (min: number, max: number): FieldRule =>
  (v) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? String(v) : null;

const textRule =
  (max: number): FieldRule =>
  (v) =>
    typeof v === 'string' && v.length <= max ? JSON.stringify(v) : null;

/** The schema trims the query before checking its length, and stores it trimmed. */
const queryRule: FieldRule = (v) => {
  if (typeof v !== 'string') return null;
  const trimmed = v.trim();
  return trimmed.length >= 1 && trimmed.length <= 500 ? JSON.stringify(trimmed) : null;
};

const RULES: Readonly<Record<string, FieldRule>> = {
  event_id: idRule,
  user_id: idRule,
  item_id: idRule,
  creator_id: idRule,
  request_id: idRule,
  ts: intRule(0, MAX_TS_MS),
  watch_ms: intRule(0, 86_400_000),
  duration_ms: intRule(1, MAX_DURATION_MS),
  position: intRule(0, 100_000),
  count: intRule(1, Number.MAX_SAFE_INTEGER),
  value: numberRule(0, 10),
  text: textRule(2000),
  query: queryRule,
};

interface TypeSpec {
  /** Fields in the schema's order (the canonical order), `type` included. */
  names: string[];
  /** `,"name":` for each field (`{"name":` for the first, which every event schema requires). */
  keys: string[];
  rules: FieldRule[];
  required: boolean[];
  known: Set<string>;
}

type ShapeLike = Record<string, { safeParse(v: unknown): { success: boolean } }>;

/** The field order and optionality come from the schemas themselves; only the field rules are restated. */
function specOf(schema: { shape: ShapeLike }): TypeSpec {
  const names = Object.keys(schema.shape);
  const required = names.map((n) => !schema.shape[n]!.safeParse(undefined).success);
  if (!required[0]) throw new Error(`the first field of an event schema (${names[0]}) must be required`);
  return {
    names,
    keys: names.map((n, k) => `${k === 0 ? '{' : ','}"${n}":`),
    rules: names.map((n) => (n === 'type' ? () => null : (RULES[n] as FieldRule))),
    required,
    known: new Set(names),
  };
}

const SPECS = new Map<string, TypeSpec>(
  [
    ImpressionEventSchema,
    PlayEventSchema,
    LikeEventSchema,
    ShareEventSchema,
    CommentEventSchema,
    FollowEventSchema,
    SkipEventSchema,
    NotInterestedEventSchema,
    SearchEventSchema,
    RatingEventSchema,
    PlayCountEventSchema,
  ].map((schema) => [schema.shape.type.value, specOf(schema as never)]),
);

/**
 * The canonical JSON of a valid event, checked and written in one pass without building a parsed copy,
 * or null. Null means "not sure": the caller then runs `EventSchema`, which decides and explains. So
 * this path may only ever accept what the schema accepts, with exactly the bytes
 * `JSON.stringify(EventSchema.parse(value))` would give; a property test holds it to that.
 */
export function fastEventJson(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== 'string') return null;
  const spec = SPECS.get(type);
  if (spec === undefined) return null;
  for (const key in record) if (!spec.known.has(key)) return null;
  let out = '';
  const { names, keys, rules, required } = spec;
  for (let k = 0; k < names.length; k++) {
    const name = names[k] as string;
    if (name === 'type') {
      out += `${keys[k]}"${type}"`;
      continue;
    }
    const field = record[name];
    if (field === undefined) {
      if (required[k]) return null;
      continue;
    }
    const text = (rules[k] as FieldRule)(field);
    if (text === null) return null;
    out += keys[k] + text;
  }
  return `${out}}`;
}
