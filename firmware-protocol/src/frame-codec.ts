/**
 * Stage 1 of decoding (README.md §3.1): bytes ⇄ frame. All integers little-endian (§3.2).
 *
 *   off  size  field
 *   0    1     magic 0xE5
 *   1    1     protocol version (§8)
 *   2    1     message type code (§4)
 *   3    1     flags: bit 0 = ACK requested (§7.1); bits 1–7 reserved, MUST be 0
 *   4    2     seq, u16 (§7.2)
 *   6    2     payload length n, u16, n ≤ MAX_PAYLOAD
 *   8    n     payload (message-codec.ts)
 *   8+n  4     CRC-32/ISO-HDLC over bytes 0 .. 8+n−1
 *
 * decodeFrame never throws: every failure is a ProtocolError in the result. Checks run in the order of §3.6 so
 * the same bytes always give the same code on every implementation.
 */
import { crc32Range } from './crc32.js';
import { ProtocolError } from './errors.js';
import { decodePayload, encodePayloadWithin } from './message-codec.js';
import { MessageTypeCode, SUPPORTED_VERSIONS, type Frame } from './messages.js';

export const FRAME_MAGIC = 0xe5;
export const FRAME_HEADER_SIZE = 8;
export const FRAME_CRC_SIZE = 4;
/** Bytes a frame adds around its payload: header + CRC. */
export const FRAME_OVERHEAD = FRAME_HEADER_SIZE + FRAME_CRC_SIZE;
/** §3.1 Largest payload; IMAGE_BLOCK (6 + 4,096 bytes) is the largest message. */
export const MAX_PAYLOAD = 4200;
export const MAX_FRAME_SIZE = FRAME_OVERHEAD + MAX_PAYLOAD;
export const FLAG_ACK_REQUESTED = 0x01;

export type DecodeResult = { ok: true; frame: Frame } | { ok: false; error: ProtocolError };

const isU8 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xff;
const isU16 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;

/**
 * Encodes a frame. Throws ProtocolError MSG_INVALID when a field of the message is outside its wire range (the
 * ranges MessageSchema states; message-codec.ts checks them as it writes) or a header field is out of range. Any u8
 * version is encoded (so that test vectors for MSG_BAD_VERSION can be built); choosing a supported one is the
 * caller's business (§8).
 */
export function encodeFrame(frame: Frame): Uint8Array {
  if (!isU8(frame.version)) throw new ProtocolError('MSG_INVALID', 'frame version must be a u8', { version: frame.version });
  if (!isU16(frame.seq)) throw new ProtocolError('MSG_INVALID', 'frame seq must be a u16', { seq: frame.seq });
  if (typeof frame.ackRequested !== 'boolean') {
    throw new ProtocolError('MSG_INVALID', 'frame ackRequested must be a boolean', { ackRequested: frame.ackRequested });
  }
  const out = encodePayloadWithin(frame.message, FRAME_HEADER_SIZE, FRAME_CRC_SIZE);
  const n = out.length - FRAME_OVERHEAD;
  if (n > MAX_PAYLOAD) {
    throw new ProtocolError('FRAME_OVERSIZE', `payload of ${n} bytes exceeds ${MAX_PAYLOAD}`, { length: n });
  }
  // §3.2 little-endian, written by hand: a DataView per frame costs more than the four header fields (D139).
  out[0] = FRAME_MAGIC;
  out[1] = frame.version;
  out[2] = MessageTypeCode[frame.message.type];
  out[3] = frame.ackRequested ? FLAG_ACK_REQUESTED : 0;
  out[4] = frame.seq & 0xff;
  out[5] = frame.seq >>> 8;
  out[6] = n & 0xff;
  out[7] = n >>> 8;
  const crc = crc32Range(out, 0, FRAME_HEADER_SIZE + n);
  const at = FRAME_HEADER_SIZE + n;
  out[at] = crc & 0xff;
  out[at + 1] = (crc >>> 8) & 0xff;
  out[at + 2] = (crc >>> 16) & 0xff;
  out[at + 3] = crc >>> 24;
  return out;
}

const fail = (error: ProtocolError): DecodeResult => ({ ok: false, error });

/**
 * Decodes exactly one frame (the input must hold the frame and nothing else). Errors found after the CRC check
 * carry the header in `details` ({ version, typeCode, seq, ackRequested }) so that the receiver can NACK with
 * the right seq (§7.1, §13); errors before it do not, because nothing in the header can be trusted yet.
 */
export function decodeFrame(bytes: Uint8Array): DecodeResult {
  try {
    return decodeChecked(bytes);
  } catch (e) {
    // Unreachable by design (every path throws ProtocolError); kept so a bug can never take down a transport.
    if (e instanceof ProtocolError) return fail(e);
    return fail(new ProtocolError('MSG_INVALID', 'internal decoder failure', { internal: String(e) }));
  }
}

function decodeChecked(bytes: Uint8Array): DecodeResult {
  if (bytes.length === 0) return fail(new ProtocolError('FRAME_TRUNCATED', 'empty input', { length: 0 }));
  if (bytes[0] !== FRAME_MAGIC) {
    return fail(new ProtocolError('FRAME_BAD_MAGIC', `first byte 0x${bytes[0]!.toString(16)} is not 0xe5`, { byte: bytes[0] }));
  }
  if (bytes.length < FRAME_OVERHEAD) {
    return fail(new ProtocolError('FRAME_TRUNCATED', `${bytes.length} bytes is shorter than a frame header and CRC`, { length: bytes.length }));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint16(6, true);
  if (n > MAX_PAYLOAD) {
    return fail(new ProtocolError('FRAME_OVERSIZE', `payload length ${n} exceeds ${MAX_PAYLOAD}`, { payloadLength: n }));
  }
  const total = FRAME_OVERHEAD + n;
  if (bytes.length < total) {
    return fail(new ProtocolError('FRAME_TRUNCATED', `frame needs ${total} bytes, got ${bytes.length}`, { length: bytes.length, expected: total }));
  }
  if (bytes.length > total) {
    return fail(new ProtocolError('FRAME_TRAILING_BYTES', `${bytes.length - total} bytes after the CRC`, { length: bytes.length, expected: total }));
  }
  const crc = view.getUint32(FRAME_HEADER_SIZE + n, true);
  const computed = crc32Range(bytes, 0, FRAME_HEADER_SIZE + n);
  if (crc !== computed) return fail(new ProtocolError('FRAME_BAD_CRC', 'CRC mismatch', { received: crc, computed }));

  const version = bytes[1]!;
  const typeCode = bytes[2]!;
  const flags = bytes[3]!;
  const seq = view.getUint16(4, true);
  const ackRequested = (flags & FLAG_ACK_REQUESTED) !== 0;
  const header = { version, typeCode, seq, ackRequested };
  if ((flags & ~FLAG_ACK_REQUESTED) !== 0) {
    return fail(new ProtocolError('FRAME_BAD_FLAGS', `reserved flag bits set: 0x${flags.toString(16)}`, { ...header, flags }));
  }
  if (version < SUPPORTED_VERSIONS.min || version > SUPPORTED_VERSIONS.max) {
    return fail(new ProtocolError('MSG_BAD_VERSION', `protocol version ${version} not supported`, header));
  }
  try {
    const message = decodePayload(typeCode, bytes, FRAME_HEADER_SIZE, FRAME_HEADER_SIZE + n);
    return { ok: true, frame: { version, seq, ackRequested, message } };
  } catch (e) {
    if (e instanceof ProtocolError) {
      return fail(e.withDetails(header));
    }
    throw e;
  }
}
