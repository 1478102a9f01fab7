/**
 * The normative test vectors (firmware-protocol/test-vectors.json): every message type encodes to the exact
 * bytes and decodes back; every broken frame fails with its code. Firmware implementations run the same file.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MessageTypeCode, ProtocolErrorCodeSchema, decodeFrame, encodeFrame, type Frame, type Message } from '../src/index.js';

interface VectorFile {
  vectors: { name: string; hex: string; frame: { version: number; seq: number; ackRequested: boolean; message: Record<string, unknown> } }[];
  brokenFrames: { name: string; hex: string; code: string }[];
}
const file = JSON.parse(readFileSync(new URL('../test-vectors.json', import.meta.url), 'utf8')) as VectorFile;

/** Bytes fields are hex strings in JSON. */
const BYTES_FIELDS = new Set(['data', 'partsWanted']);
function toMessage(json: Record<string, unknown>): Message {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) {
    if (BYTES_FIELDS.has(k)) out[k] = new Uint8Array(Buffer.from(v as string, 'hex'));
    else if (k === 'command' && typeof v === 'object' && v !== null) out[k] = toMessage(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out as unknown as Message;
}
const toBytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('test vectors', () => {
  it('cover every message type', () => {
    const types = new Set(file.vectors.map((v) => v.frame.message['type']));
    expect([...types].sort()).toEqual(Object.keys(MessageTypeCode).sort());
  });

  describe.each(file.vectors)('$name', (v) => {
    const frame: Frame = { ...v.frame, message: toMessage(v.frame.message) };
    it('encodes to the vector bytes', () => {
      expect(toHex(encodeFrame(frame))).toBe(v.hex);
    });
    it('decodes to the vector frame', () => {
      const r = decodeFrame(toBytes(v.hex));
      expect(r.ok ? r.frame : r.error).toEqual(frame);
    });
  });
});

describe('broken frames', () => {
  it('cover every framing and message failure', () => {
    const codes = new Set(file.brokenFrames.map((b) => b.code));
    for (const c of [
      'FRAME_TRUNCATED',
      'FRAME_BAD_CRC',
      'FRAME_BAD_MAGIC',
      'FRAME_OVERSIZE',
      'FRAME_BAD_FLAGS',
      'FRAME_TRAILING_BYTES',
      'MSG_UNKNOWN_TYPE',
      'MSG_BAD_VERSION',
      'MSG_BAD_LENGTH',
      'MSG_INVALID_FIELD',
    ]) {
      expect(codes).toContain(c);
    }
    for (const c of codes) expect(ProtocolErrorCodeSchema.safeParse(c).success).toBe(true);
  });

  it.each(file.brokenFrames)('$name → $code', (b) => {
    const r = decodeFrame(toBytes(b.hex));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(b.code);
  });
});
