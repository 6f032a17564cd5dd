import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ForyouError } from '../core/errors.js';

/** The typed arrays a model file can hold. */
export type StateArray = Float32Array | Float64Array | Int32Array;

const DTYPES = {
  f32: Float32Array,
  f64: Float64Array,
  i32: Int32Array,
} as const;
type DType = keyof typeof DTYPES;

/**
 * Everything a trained model needs to score again: its kind (which class loads it), its registry name, its
 * settings, the ids of the users and items its indices stand for, and its learned arrays.
 */
export interface ModelState {
  kind: string;
  name: string;
  params: Record<string, unknown>;
  userIds: readonly string[];
  itemIds: readonly string[];
  arrays: Record<string, StateArray>;
}

interface Header {
  format: 'foryou-model/1';
  kind: string;
  name: string;
  params: Record<string, unknown>;
  arrays: { name: string; dtype: DType; length: number; offset: number }[];
}

export const MODEL_HEADER = 'model.json';
export const MODEL_ARRAYS = 'model.bin';
export const MODEL_IDS = 'ids.json';

function dtypeOf(a: StateArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  return 'i32';
}

/**
 * Writes a model as three files in `dir` (which must exist): `model.json` (kind, settings, where each array
 * starts), `model.bin` (the arrays back to back, each 8-byte aligned, little-endian) and `ids.json`.
 */
export async function writeModelFile(dir: string, state: ModelState): Promise<void> {
  const arrays: Header['arrays'] = [];
  let offset = 0;
  for (const [name, a] of Object.entries(state.arrays)) {
    arrays.push({ name, dtype: dtypeOf(a), length: a.length, offset });
    offset += Math.ceil(a.byteLength / 8) * 8;
  }
  const bin = Buffer.alloc(offset);
  for (const entry of arrays) {
    const a = state.arrays[entry.name]!;
    bin.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), entry.offset);
  }
  const header: Header = {
    format: 'foryou-model/1',
    kind: state.kind,
    name: state.name,
    params: state.params,
    arrays,
  };
  await writeFile(join(dir, MODEL_ARRAYS), bin);
  await writeFile(join(dir, MODEL_IDS), JSON.stringify({ users: state.userIds, items: state.itemIds }));
  await writeFile(join(dir, MODEL_HEADER), `${JSON.stringify(header, null, 2)}\n`);
}

/** Reads what `writeModelFile` wrote; a missing or inconsistent file fails naming it. */
export async function readModelFile(dir: string): Promise<ModelState> {
  const path = join(dir, MODEL_HEADER);
  let header: Header;
  let ids: { users: string[]; items: string[] };
  let bin: Buffer;
  try {
    header = JSON.parse(await readFile(path, 'utf8')) as Header;
    ids = JSON.parse(await readFile(join(dir, MODEL_IDS), 'utf8')) as { users: string[]; items: string[] };
    bin = await readFile(join(dir, MODEL_ARRAYS));
  } catch (error) {
    throw new ForyouError(
      'FY_ARTIFACT_NOT_FOUND',
      `no readable model in ${dir}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (header.format !== 'foryou-model/1' || !Array.isArray(header.arrays))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `${path} is not a Foryou model file (format ${header.format})`,
    );
  // One aligned copy of the whole file; every array is a view on it.
  const buffer = new ArrayBuffer(bin.byteLength);
  new Uint8Array(buffer).set(bin);
  const arrays: Record<string, StateArray> = {};
  for (const entry of header.arrays) {
    const Type = DTYPES[entry.dtype];
    const end = entry.offset + entry.length * Type.BYTES_PER_ELEMENT;
    if (!Type || entry.offset % 8 !== 0 || end > buffer.byteLength)
      throw new ForyouError(
        'FY_INVALID_ARGUMENT',
        `${path}: array ${entry.name} does not fit ${MODEL_ARRAYS}`,
      );
    arrays[entry.name] = new Type(buffer, entry.offset, entry.length);
  }
  return {
    kind: header.kind,
    name: header.name,
    params: header.params,
    userIds: ids.users,
    itemIds: ids.items,
    arrays,
  };
}

/** The array `name` of a state, of the expected type and length; anything else fails naming it. */
export function stateArray<T extends StateArray>(
  state: ModelState,
  name: string,
  type: { new (length: number): T; prototype: T },
  length?: number,
): T {
  const a = state.arrays[name];
  if (!(a instanceof type) || (length !== undefined && a.length !== length))
    throw new ForyouError(
      'FY_INVALID_ARGUMENT',
      `model ${state.name} (${state.kind}): array ${name} is missing or has the wrong type or length` +
        (length === undefined ? '' : ` (expected ${length})`),
    );
  return a;
}
