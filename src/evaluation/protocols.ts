import { ForyouError } from '../core/errors.js';
import type { RawInteraction } from '../models/interactions.js';
import { type RecboleOptions, recboleSplit } from './recbole-protocol.js';
import { type RecommendersOptions, recommendersSplit } from './recommenders-protocol.js';
import { PROTOCOL_NAMES, type ProtocolName, type Split } from './split.js';
import { type TemporalOptions, temporalSplit } from './temporal-protocol.js';

/** A protocol by name, with its options (every option has a documented default). */
export type ProtocolSpec =
  | { name: 'recommenders'; options?: RecommendersOptions }
  | { name: 'recbole'; options?: RecboleOptions }
  | { name: 'temporal'; options?: TemporalOptions };

export function isProtocolName(value: string): value is ProtocolName {
  return (PROTOCOL_NAMES as readonly string[]).includes(value);
}

/** Parses a protocol name, failing with the list of known ones. */
export function protocolName(value: string): ProtocolName {
  if (isProtocolName(value)) return value;
  throw new ForyouError(
    'FY_INVALID_ARGUMENT',
    `unknown protocol "${value}"; expected ${PROTOCOL_NAMES.join(', ')}`,
    { details: { protocol: value, known: PROTOCOL_NAMES } },
  );
}

/** Splits `interactions` by a protocol; the same interactions, protocol and seed give the same split. */
export function applyProtocol(
  protocol: ProtocolName | ProtocolSpec,
  interactions: readonly RawInteraction[],
  seed: number,
): Split {
  const spec: ProtocolSpec = typeof protocol === 'string' ? { name: protocolName(protocol) } : protocol;
  switch (spec.name) {
    case 'recommenders':
      return recommendersSplit(interactions, seed, spec.options);
    case 'recbole':
      return recboleSplit(interactions, seed, spec.options);
    case 'temporal':
      return temporalSplit(interactions, seed, spec.options);
    default:
      return protocolName((spec as { name: string }).name) as never;
  }
}
