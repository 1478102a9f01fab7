import { describe, expect, it } from 'vitest';
import { ACK_REQUESTED, ACK_TIMEOUT_MS, MAX_RETRIES, MessageTypeCode, ProtocolError, StatusCode, ackTimeoutMs, crc32, decodeFrame, nackFor } from '../src/index.js';

function frame(version: number, type: number, flags: number, payload: number[]): Uint8Array {
  const b = new Uint8Array(12 + payload.length);
  b.set([0xe5, version, type, flags, 0x34, 0x12, payload.length, 0, ...payload]);
  new DataView(b.buffer).setUint32(8 + payload.length, crc32(b.subarray(0, 8 + payload.length)), true);
  return b;
}
const errorOf = (b: Uint8Array) => {
  const r = decodeFrame(b);
  if (r.ok) throw new Error('expected an error');
  return r.error;
};

describe('ACK rules (README.md §4, §7.1)', () => {
  it('every edge→AP message requests an ACK; ACK and radio messages never do', () => {
    for (const [name, code] of Object.entries(MessageTypeCode) as [keyof typeof ACK_REQUESTED, number][]) {
      if (code < 0x20) expect(ACK_REQUESTED[name]).toBe(true);
      if (code >= 0x80 || name === 'ACK') expect(ACK_REQUESTED[name]).toBe(false);
    }
    expect(ACK_REQUESTED.LABEL_CHECKIN && ACK_REQUESTED.TRANSFER_RESULT).toBe(true);
  });

  it('NACKs a CRC-valid undecodable frame with the status of §13', () => {
    expect(nackFor(errorOf(frame(2, 0x20, 1, [0, 0, 0])))).toEqual({ ackSeq: 0x1234, status: StatusCode.UNSUPPORTED_VERSION });
    expect(nackFor(errorOf(frame(1, 0x3f, 1, [])))).toEqual({ ackSeq: 0x1234, status: StatusCode.UNSUPPORTED_FEATURE });
    expect(nackFor(errorOf(frame(1, 0x04, 1, [1, 2])))).toEqual({ ackSeq: 0x1234, status: StatusCode.DECODE_ERROR });
    expect(nackFor(errorOf(frame(1, 0x20, 1, [0, 0, 0x77])))).toEqual({ ackSeq: 0x1234, status: StatusCode.DECODE_ERROR });
    expect(nackFor(errorOf(frame(1, 0x20, 3, [0, 0, 0])))).toEqual({ ackSeq: 0x1234, status: StatusCode.DECODE_ERROR });
  });

  it('sends no NACK when no ACK was requested or the header cannot be trusted', () => {
    expect(nackFor(errorOf(frame(2, 0x20, 0, [0, 0, 0])))).toBeNull();
    const bad = frame(1, 0x20, 1, [0, 0, 0]);
    bad[9]! ^= 1;
    expect(nackFor(errorOf(bad))).toBeNull();
    expect(nackFor(new ProtocolError('FRAME_TRUNCATED', 'x'))).toBeNull();
  });
});

describe('retry policy (README.md §7.3)', () => {
  it('doubles the ACK timeout per attempt with ±20 % jitter', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => ackTimeoutMs(a, () => 0.5))).toEqual([2000, 4000, 8000, 16000, 32000, 64000]);
    expect(ackTimeoutMs(0, () => 0)).toBe(ACK_TIMEOUT_MS * 0.8);
    expect(ackTimeoutMs(1, () => 0.999999)).toBe(Math.round(4000 * 1.2 - 4000 * 0.4 * 0.000001));
    expect(() => ackTimeoutMs(MAX_RETRIES + 1, () => 0)).toThrow(RangeError);
  });
});
