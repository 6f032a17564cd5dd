import { readFile, rename, writeFile } from 'node:fs/promises';
import { ForyouError } from '../core/errors.js';
import type { PrerankModel } from './prerank.js';
import { type GbdtModel, HEAD_COUNT } from './ranker-gbdt.js';
import type { FusionWeights } from './ranker-scorer.js';
import { RANKING_TASKS } from './ranking-samples.js';

/**
 * A trained ranker as one file, for the artifact registry and serving: the magic `FYRANK01`, a 4-byte
 * little-endian header length, a JSON header (feature names, tasks, fusion weights, shapes, and where
 * each array lies), zero padding to a multiple of 4, then the arrays as little-endian 32-bit values.
 * Loading checks the magic, the version, every shape and every array's bounds.
 */
export interface RankerArtifact {
  userFeatureNames: readonly string[];
  candidateFeatureNames: readonly string[];
  weights: FusionWeights;
  ranker: GbdtModel;
  preranker: PrerankModel;
}

/** Artifact name of the ranker in the registry, and its file inside a version's folder. */
export const RANKER_ARTIFACT = 'ranker';
export const RANKER_FILE = 'ranker.bin';

const MAGIC = 'FYRANK01';
const FORMAT_VERSION = 1;

interface Section {
  name: string;
  type: 'f32' | 'i32';
  offset: number;
  length: number;
}

interface Header {
  format: number;
  kind: 'gbdt-oblivious-multihead';
  tasks: string[];
  heads: number;
  userFeatureNames: string[];
  candidateFeatureNames: string[];
  weights: Record<string, number>;
  ranker: { inputWidth: number; depth: number; trees: number };
  preranker: { candidateWidth: number; bias: number };
  sections: Section[];
}

export function encodeRankerArtifact(artifact: RankerArtifact): Uint8Array {
  const { ranker, preranker } = artifact;
  const arrays: [string, Float32Array | Int32Array][] = [
    ['ranker.feature', ranker.feature],
    ['ranker.threshold', ranker.threshold],
    ['ranker.leaves', ranker.leaves],
    ['ranker.base', ranker.base],
    ['ranker.linear', ranker.linear],
    ['ranker.linearMean', ranker.linearMean],
    ['preranker.mean', preranker.mean],
    ['preranker.invStd', preranker.invStd],
    ['preranker.weights', preranker.weights],
  ];
  const sections: Section[] = [];
  let offset = 0;
  for (const [name, array] of arrays) {
    sections.push({ name, type: array instanceof Int32Array ? 'i32' : 'f32', offset, length: array.length });
    offset += array.length * 4;
  }
  const header: Header = {
    format: FORMAT_VERSION,
    kind: 'gbdt-oblivious-multihead',
    tasks: [...RANKING_TASKS],
    heads: HEAD_COUNT,
    userFeatureNames: [...artifact.userFeatureNames],
    candidateFeatureNames: [...artifact.candidateFeatureNames],
    weights: { ...artifact.weights },
    ranker: { inputWidth: ranker.inputWidth, depth: ranker.depth, trees: ranker.trees },
    preranker: { candidateWidth: preranker.candidateWidth, bias: preranker.bias },
    sections,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = Math.ceil((12 + json.length) / 4) * 4;
  const out = new Uint8Array(start + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  const view = new DataView(out.buffer, start);
  for (const [k, [, array]] of arrays.entries()) {
    const at = sections[k]!.offset;
    for (let i = 0; i < array.length; i++)
      if (array instanceof Int32Array) view.setInt32(at + i * 4, array[i]!, true);
      else view.setFloat32(at + i * 4, array[i]!, true);
  }
  return out;
}

const corrupt = (source: string, what: string) =>
  new ForyouError('FY_VALIDATION_FAILED', `ranker artifact ${source} is not valid: ${what}`);

export function decodeRankerArtifact(bytes: Uint8Array, source = '(bytes)'): RankerArtifact {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw corrupt(source, `it does not start with ${MAGIC}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = view.getUint32(8, true);
  if (12 + jsonLength > bytes.length) throw corrupt(source, 'the header runs past the end of the file');
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength))) as Header;
  } catch (cause) {
    throw corrupt(source, `the header is not JSON (${(cause as Error).message})`);
  }
  if (header.format !== FORMAT_VERSION)
    throw corrupt(source, `format ${header.format}; this build reads format ${FORMAT_VERSION}`);
  if (header.heads !== HEAD_COUNT || header.tasks?.join(',') !== RANKING_TASKS.join(','))
    throw corrupt(
      source,
      `tasks ${header.tasks} with ${header.heads} heads; expected ${RANKING_TASKS.join(', ')}`,
    );
  const start = Math.ceil((12 + jsonLength) / 4) * 4;
  const section = (name: string, length: number): Float32Array | Int32Array => {
    const s = header.sections?.find((x) => x.name === name);
    if (!s) throw corrupt(source, `array ${name} is missing`);
    if (s.length !== length)
      throw corrupt(source, `array ${name} holds ${s.length} values; expected ${length}`);
    if (start + s.offset + s.length * 4 > bytes.length)
      throw corrupt(source, `array ${name} runs past the end`);
    const out = s.type === 'i32' ? new Int32Array(length) : new Float32Array(length);
    const at = start + s.offset;
    for (let i = 0; i < length; i++)
      out[i] = s.type === 'i32' ? view.getInt32(at + i * 4, true) : view.getFloat32(at + i * 4, true);
    return out;
  };
  const { inputWidth, depth, trees } = header.ranker ?? {};
  const users = header.userFeatureNames?.length ?? -1;
  const candidates = header.candidateFeatureNames?.length ?? -1;
  if (!(Number.isInteger(depth) && depth >= 1 && depth <= 10 && Number.isInteger(trees) && trees >= 0))
    throw corrupt(source, `tree shape depth ${depth}, trees ${trees}`);
  if (inputWidth !== users + candidates)
    throw corrupt(
      source,
      `input width ${inputWidth} is not ${users} user + ${candidates} candidate features`,
    );
  const C = header.preranker?.candidateWidth;
  if (C !== candidates) throw corrupt(source, `pre-ranker width ${C}; expected ${candidates}`);
  const feature = section('ranker.feature', trees * depth) as Int32Array;
  for (const f of feature)
    if (!(f >= 0 && f < inputWidth)) throw corrupt(source, `a tree tests feature ${f} of ${inputWidth}`);
  for (const task of RANKING_TASKS)
    if (!Number.isFinite(header.weights?.[task]))
      throw corrupt(source, `fusion weight of ${task} is missing`);
  return {
    userFeatureNames: header.userFeatureNames,
    candidateFeatureNames: header.candidateFeatureNames,
    weights: header.weights as unknown as FusionWeights,
    ranker: {
      inputWidth,
      depth,
      trees,
      feature,
      threshold: section('ranker.threshold', trees * depth) as Float32Array,
      leaves: section('ranker.leaves', trees * (1 << depth) * HEAD_COUNT) as Float32Array,
      base: section('ranker.base', HEAD_COUNT) as Float32Array,
      linear: section('ranker.linear', HEAD_COUNT * inputWidth) as Float32Array,
      linearMean: section('ranker.linearMean', inputWidth) as Float32Array,
    },
    preranker: {
      candidateWidth: candidates,
      bias: header.preranker.bias,
      mean: section('preranker.mean', candidates) as Float32Array,
      invStd: section('preranker.invStd', candidates) as Float32Array,
      weights: section('preranker.weights', candidates) as Float32Array,
    },
  };
}

/** Writes the artifact to `path` (through a temporary file renamed into place). */
export async function saveRankerArtifact(path: string, artifact: RankerArtifact): Promise<void> {
  const tmp = `${path}.tmp`;
  try {
    await writeFile(tmp, encodeRankerArtifact(artifact));
    await rename(tmp, path);
  } catch (cause) {
    throw new ForyouError(
      'FY_IO_FAILED',
      `cannot write ranker artifact ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

export async function loadRankerArtifact(path: string): Promise<RankerArtifact> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new ForyouError(
      'FY_IO_FAILED',
      `cannot read ranker artifact ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return decodeRankerArtifact(bytes, path);
}
