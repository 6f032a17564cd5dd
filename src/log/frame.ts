import { crc32 } from 'node:zlib';

/**
 * On-disk frame of one record in a segment file (little endian):
 *
 *   u32 bodyLength   bytes after the 8-byte head
 *   u32 crc          CRC-32 of the body
 *   body: f64 timestampMs, u16 idLength, id (UTF-8), payload
 *
 * The length prefix lets a reader skip to the next frame; the CRC tells a torn or corrupted frame from a
 * valid one, which is how recovery finds where an interrupted write stopped.
 */
export const FRAME_HEAD_BYTES = 8;
const BODY_FIXED_BYTES = 10;
/** Largest body accepted; anything claiming more is treated as garbage (a torn length field). */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
export const MAX_ID_BYTES = 1024;

export function frameBytes(idBytes: number, payloadBytes: number): number {
  return FRAME_HEAD_BYTES + BODY_FIXED_BYTES + idBytes + payloadBytes;
}

/** Writes one frame into `target` at `at`; returns the frame length. `target` must have room. */
export function encodeFrame(
  target: Buffer,
  at: number,
  timestampMs: number,
  id: string,
  idBytes: number,
  payload: Uint8Array,
): number {
  const body = at + FRAME_HEAD_BYTES;
  target.writeDoubleLE(timestampMs, body);
  target.writeUInt16LE(idBytes, body + 8);
  target.write(id, body + BODY_FIXED_BYTES, idBytes, 'utf8');
  target.set(payload, body + BODY_FIXED_BYTES + idBytes);
  const bodyLength = BODY_FIXED_BYTES + idBytes + payload.length;
  target.writeUInt32LE(bodyLength, at);
  target.writeUInt32LE(crc32(target.subarray(body, body + bodyLength)), at + 4);
  return FRAME_HEAD_BYTES + bodyLength;
}

export type FrameCheck =
  | { ok: true; length: number }
  /** Not enough bytes for a whole frame: the end of the data, or a torn write. */
  | { ok: false; reason: 'incomplete' | 'bad-length' | 'bad-crc' };

/** Checks the frame at `at` without decoding it. */
export function checkFrame(source: Buffer, at: number, available: number): FrameCheck {
  if (available - at < FRAME_HEAD_BYTES) return { ok: false, reason: 'incomplete' };
  const bodyLength = source.readUInt32LE(at);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_BODY_BYTES)
    return { ok: false, reason: 'bad-length' };
  if (available - at - FRAME_HEAD_BYTES < bodyLength) return { ok: false, reason: 'incomplete' };
  const body = at + FRAME_HEAD_BYTES;
  if (crc32(source.subarray(body, body + bodyLength)) !== source.readUInt32LE(at + 4))
    return { ok: false, reason: 'bad-crc' };
  const idBytes = source.readUInt16LE(body + 8);
  if (idBytes > bodyLength - BODY_FIXED_BYTES) return { ok: false, reason: 'bad-length' };
  return { ok: true, length: FRAME_HEAD_BYTES + bodyLength };
}

export interface DecodedFrame {
  timestampMs: number;
  id: string;
  payload: Uint8Array;
}

/** Decodes a frame already known to be valid; the payload is copied out of `source`. */
export function decodeFrame(source: Buffer, at: number): DecodedFrame {
  const bodyLength = source.readUInt32LE(at);
  const body = at + FRAME_HEAD_BYTES;
  const idBytes = source.readUInt16LE(body + 8);
  const idStart = body + BODY_FIXED_BYTES;
  return {
    timestampMs: source.readDoubleLE(body),
    id: source.toString('utf8', idStart, idStart + idBytes),
    payload: Uint8Array.prototype.slice.call(source, idStart + idBytes, body + bodyLength),
  };
}

/** Reads just the id and timestamp of a valid frame (recovery rebuilds the dedup window from these). */
export function frameIdAndTime(source: Buffer, at: number): { id: string; timestampMs: number } {
  const body = at + FRAME_HEAD_BYTES;
  const idBytes = source.readUInt16LE(body + 8);
  return {
    timestampMs: source.readDoubleLE(body),
    id: source.toString('utf8', body + BODY_FIXED_BYTES, body + BODY_FIXED_BYTES + idBytes),
  };
}
