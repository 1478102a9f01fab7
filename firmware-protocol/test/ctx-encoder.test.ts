/**
 * The edge's CTX encoder (ctx-encoder.ts, D41) against the reference encoder that runs the decoder's own traversal
 * (ctx-codec.ts): the same bytes for FULL, region deltas and whole-panel deltas on every panel geometry, on random
 * and label-like pictures and on rectangles anywhere (edges of the panel, padded rows); and the byte budget returns
 * null exactly when the payload would be longer than it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApCapability,
  ImageEncoding,
  ImageKind,
  LABEL_TYPES,
  LabelDecoder,
  PALETTE_PLANES,
  changedRegion,
  chooseEncoding,
  ctxEncode,
  ctxEncodeReference,
  encodeImage,
  imageBytes,
  partialRefreshApplies,
  planeBytes,
  type CtxGeometry,
  type EncodedImage,
  type LabelType,
} from '../src/index.js';
import { draw, expectSameBytes, planesArb, rectArb } from './planes-fixtures.js';

function geometry(t: LabelType): CtxGeometry {
  return { rowBytes: Math.ceil(t.width / 8), height: t.height, planes: PALETTE_PLANES[t.palette].length };
}

/** A byte-aligned rectangle inside the panel (§6.3.2), possibly touching its edges. */
const alignedRectArb = (t: LabelType) => {
  const rb = Math.ceil(t.width / 8);
  return fc
    .record({ bx: fc.integer({ min: 0, max: rb - 1 }), y: fc.integer({ min: 0, max: t.height - 1 }), bw: fc.integer({ min: 0, max: rb }), h: fc.integer({ min: 0, max: t.height }) })
    .map(({ bx, y, bw, h }) => ({ x: bx * 8, y, width: Math.min(bw, rb - bx) * 8, height: Math.min(h, t.height - y) }));
};

describe('CTX encoder (ctx-encoder.ts) equals the reference traversal (ctx-codec.ts)', () => {
  for (const t of LABEL_TYPES) {
    it(`${t.name}: FULL, region delta, whole-panel delta and any aligned rectangle (fast-check)`, () => {
      const g = geometry(t);
      expect(imageBytes(t)).toBe(planeBytes(t) * g.planes);
      fc.assert(
        fc.property(planesArb(t), fc.array(rectArb(t, 30), { maxLength: 4 }), alignedRectArb(t), (base, change, rect) => {
          const target = draw(t, change, new Uint8Array(base));
          expectSameBytes(ctxEncode(g, target, null, null), ctxEncodeReference(g, target, null, null));
          const region = changedRegion(t, base, target);
          expectSameBytes(ctxEncode(g, target, base, region), ctxEncodeReference(g, target, base, region));
          expectSameBytes(ctxEncode(g, target, base, null), ctxEncodeReference(g, target, base, null));
          expectSameBytes(ctxEncode(g, target, base, rect), ctxEncodeReference(g, target, base, rect));
        }),
        { numRuns: t.width * t.height > 100_000 ? 4 : 12 },
      );
    });
  }

  it('a byte budget gives null exactly when the payload is longer, and the same bytes otherwise', () => {
    const t = LABEL_TYPES.find((x) => x.name === 'epd-29-bwr')!;
    const g = geometry(t);
    fc.assert(
      fc.property(planesArb(t), fc.array(rectArb(t, 30), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3000 }), (base, change, budget) => {
        const target = draw(t, change, new Uint8Array(base));
        for (const [b, r] of [
          [null, null],
          [base, changedRegion(t, base, target)],
        ] as const) {
          const full = ctxEncode(g, target, b, r);
          const capped = ctxEncode(g, target, b, r, budget);
          if (full.length > budget) expect(capped).toBeNull();
          else expectSameBytes(capped!, full);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('encodeImage (cheapest first, with budgets) picks what trying every kind × encoding in order picks', () => {
    const kinds = [ImageKind.FULL, ImageKind.DELTA_REGION, ImageKind.DELTA_XOR];
    const encodings = [ImageEncoding.RAW, ImageEncoding.RLE, ImageEncoding.ZLIB, ImageEncoding.CTX];
    for (const t of LABEL_TYPES.filter((x) => x.width * x.height <= 50_000)) {
      fc.assert(
        fc.property(planesArb(t), fc.array(rectArb(t, 30), { maxLength: 4 }), (base, change) => {
          const target = draw(t, change, new Uint8Array(base));
          // The canonical definition: every candidate alone, the smallest, ties to the earlier kind, then encoding.
          let want: EncodedImage | undefined;
          for (const k of kinds) {
            for (const e of encodings) {
              const one = encodeImage({ labelType: t, target, base, kinds: [k], encodings: [e] });
              if (want === undefined || one.payload.length < want.payload.length) want = one;
            }
          }
          const got = encodeImage({ labelType: t, target, base, kinds, encodings });
          expect({ kind: got.kind, encoding: got.encoding, region: got.region }).toEqual({ kind: want!.kind, encoding: want!.encoding, region: want!.region });
          expectSameBytes(got.payload, want!.payload);
        }),
        { numRuns: 10 },
      );
    }
  });

  it('chooseEncoding encodes the region first and still chooses as before (§6.6.1, §6.3.2)', () => {
    const caps = { ap: ApCapability.RLE | ApCapability.ZLIB | ApCapability.CTX | ApCapability.DELTA_XOR | ApCapability.DELTA_REGION, label: LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX };
    for (const t of LABEL_TYPES.filter((x) => x.width * x.height <= 50_000)) {
      fc.assert(
        fc.property(planesArb(t), fc.array(rectArb(t, 30), { maxLength: 4 }), (base, change) => {
          const target = draw(t, change, new Uint8Array(base));
          // Before D41: the best of every allowed kind, then the region delta where partial refresh applies.
          const encodings = [ImageEncoding.RAW, ImageEncoding.CTX];
          const kinds = [ImageKind.FULL, ImageKind.DELTA_REGION];
          let want = encodeImage({ labelType: t, target, base, encodings, kinds });
          if (t.partialRefresh && want.kind !== ImageKind.DELTA_REGION) {
            const region = encodeImage({ labelType: t, target, base, encodings, kinds: [ImageKind.DELTA_REGION] });
            if (partialRefreshApplies(t, ImageKind.DELTA_REGION, region.region, base, target)) want = region;
          }
          const got = chooseEncoding(caps, t, target, base);
          expect({ kind: got.kind, encoding: got.encoding, region: got.region }).toEqual({ kind: want.kind, encoding: want.encoding, region: want.region });
          expectSameBytes(got.payload, want.payload);
        }),
        { numRuns: 10 },
      );
    }
  });
});
