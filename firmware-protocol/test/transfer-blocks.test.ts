import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, PART_SIZE, blockCount, burstParts, bytesOnAir, encodeFrame, partLength, partOf, partsBitmap, partsInBlock, splitBlocks, wantedParts } from '../src/index.js';

describe('blocks and parts (README.md §5, §9.4)', () => {
  it('splits a payload into 4096-byte blocks of 42 parts', () => {
    const payload = Uint8Array.from({ length: 9000 }, (_, i) => i & 0xff);
    const blocks = splitBlocks(payload);
    expect(blocks.map((b) => b.length)).toEqual([4096, 4096, 808]);
    expect(Buffer.concat(blocks)).toEqual(Buffer.from(payload));
    expect(blockCount(9000)).toBe(3);
    expect(splitBlocks(new Uint8Array(0))).toEqual([]);
    expect(partsInBlock(4096)).toBe(42);
    expect(partsInBlock(808)).toBe(9);
    expect(partOf(blocks[2]!, 8)).toEqual(blocks[2]!.subarray(792));
    expect(() => splitBlocks(payload, 4097)).toThrow(RangeError);
    expect(() => partsInBlock(10, 100)).toThrow(RangeError);
  });

  it('partLength is the length of partOf, and a burst (§9.12) is every part of block 0 but part 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: BLOCK_SIZE }), fc.integer({ min: 1, max: PART_SIZE }), (len, size) => {
        const block = new Uint8Array(len);
        const n = partsInBlock(len, size);
        for (let p = 0; p <= n; p++) expect(partLength(len, p, size)).toBe(partOf(block, p, size).length);
        expect(burstParts(len, size)).toEqual(Array.from({ length: n - 1 }, (_, i) => i + 1));
      }),
    );
    expect(burstParts(99)).toEqual([]);
    expect(burstParts(100)).toEqual([1]);
    expect(partLength(100, 1)).toBe(1);
  });

  it('bytesOnAir = payload + 19 bytes per RADIO_PART frame', () => {
    expect(bytesOnAir(0)).toBe(0);
    expect(bytesOnAir(1)).toBe(1 + 19);
    expect(bytesOnAir(764)).toBe(764 + 19 * 8);
    expect(bytesOnAir(9472)).toBe(9472 + 19 * (42 + 42 + 13)); // 296×128 BWR raw: 4096 + 4096 + 1280
    // The overhead is exactly what a RADIO_PART frame adds to its data.
    const part = encodeFrame({ version: 1, seq: 0, ackRequested: false, message: { type: 'RADIO_PART', transferId: 1, blockIndex: 0, partIndex: 0, data: new Uint8Array(PART_SIZE) } });
    expect(part.length).toBe(bytesOnAir(PART_SIZE));
  });

  it('bytesOnAir equals the sum over the split parts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: BLOCK_SIZE }), fc.integer({ min: 1, max: PART_SIZE }), (n, bs, ps) => {
        const parts = splitBlocks(new Uint8Array(n), bs).reduce((s, b) => s + partsInBlock(b.length, ps), 0);
        return bytesOnAir(n, bs, ps) === n + 19 * parts;
      }),
    );
  });

  it('encodes wanted parts as a bitmap, LSB of byte 0 = part 0', () => {
    expect([...partsBitmap(42)]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0x03]);
    expect([...partsBitmap(18, [0, 9, 17])]).toEqual([0x01, 0x02, 0x02]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }).chain((n) => fc.tuple(fc.constant(n), fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: n }))), ([n, parts]) => {
        const wanted = n === 0 ? [] : parts;
        expect(wantedParts(partsBitmap(n, wanted), n)).toEqual([...wanted].sort((a, b) => a - b));
      }),
    );
    expect(() => partsBitmap(65)).toThrow(RangeError);
    expect(() => partsBitmap(8, [8])).toThrow(RangeError);
  });
});
