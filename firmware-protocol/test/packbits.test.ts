import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, packBits, unpackBits } from '../src/index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('PackBits (README.md §6.2)', () => {
  it('decodes the Apple TN1023 sample stream', () => {
    const packed = hex('FE AA 02 80 00 2A FD AA 03 80 00 2A 22 F7 AA');
    const unpacked = hex('AA AA AA 80 00 2A AA AA AA AA 80 00 2A 22 AA AA AA AA AA AA AA AA AA AA');
    expect(unpackBits(packed, unpacked.length)).toEqual(unpacked);
  });

  it('skips the no-op control byte 128', () => {
    expect(unpackBits(hex('80 01 0A 0B 80 FF 0C'), 4)).toEqual(hex('0A 0B 0C 0C'));
  });

  it('encodes runs as repeat records and the rest as literals', () => {
    expect(packBits(hex('00 00 00 00 01 02 03 FF FF FF'))).toEqual(hex('FD 00 02 01 02 03 FE FF'));
    expect(packBits(new Uint8Array(128))).toEqual(hex('81 00'));
    expect(packBits(new Uint8Array(129))).toEqual(hex('81 00 00 00'));
    expect(packBits(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });

  it('round-trips arbitrary and run-heavy data within the worst-case bound', () => {
    const runs = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 300 })), { maxLength: 20 })
      .map((rs) => Uint8Array.from(rs.flatMap(([b, n]) => Array<number>(n).fill(b))));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1000 }), runs), (data) => {
        const packed = packBits(data);
        expect(packed.length).toBeLessThanOrEqual(data.length + Math.ceil(data.length / 128));
        expect(unpackBits(packed, data.length)).toEqual(data);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['literal past the end', '03 01 02', 10],
    ['repeat without its byte', 'FE', 10],
    ['output over the limit (repeat)', 'F0 00', 10],
    ['output over the limit (literal)', '02 01 02 03', 2],
  ])('%s → IMAGE_DECODE_FAILED', (_name, stream, max) => {
    expect(() => unpackBits(hex(stream), max)).toThrow(ProtocolError);
    try {
      unpackBits(hex(stream), max);
    } catch (e) {
      expect((e as ProtocolError).code).toBe('IMAGE_DECODE_FAILED');
    }
  });

  it('returns what it decoded when the stream is shorter than the limit', () => {
    expect(unpackBits(hex('FE 07'), 10)).toEqual(hex('07 07 07'));
  });
});
