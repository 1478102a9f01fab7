import fc from 'fast-check';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  BLANK_HASH,
  ImageEncoding,
  ImageKind,
  LABEL_TYPES,
  PALETTE_PLANES,
  ProtocolError,
  StatusCode,
  applyImage,
  changedRegion,
  contentHash,
  encodeImage,
  imageBytes,
  labelTypeByName,
  partialRefreshApplies,
  xferDoneStatusFor,
  type EncodedImage,
  type LabelType,
} from '../src/index.js';
import { draw, expectSameBytes, planesArb, rectArb, setPixel } from './planes-fixtures.js';

const BW154 = labelTypeByName('epd-154-bw')!;
const BWR29 = labelTypeByName('epd-29-bwr')!;
const BWR213 = labelTypeByName('epd-213-bwr')!; // 250 px wide: rows carry 6 padding bits
const BWRY42 = labelTypeByName('epd-42-bwry')!;
const SMALL_TYPES = [BW154, BWR29, BWR213];
const KINDS = [ImageKind.FULL, ImageKind.DELTA_XOR, ImageKind.DELTA_REGION];
const ENCODINGS = [ImageEncoding.RAW, ImageEncoding.RLE, ImageEncoding.ZLIB];

function apply(t: LabelType, e: EncodedImage, current: Uint8Array | null): Uint8Array {
  return applyImage({ labelType: t, ...e, current });
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ProtocolError);
    return (e as ProtocolError).code;
  }
  return undefined;
}

describe('image codec (README.md §6)', () => {
  it.each(LABEL_TYPES.map((t) => [t.name, t] as const))('FULL round-trips in every encoding: %s', (_n, t) => {
    const planes = draw(t, [
      { plane: 0, x: 3, y: 2, w: t.width - 10, h: 9 },
      { plane: PALETTE_PLANES[t.palette].length - 1, x: 17, y: t.height - 30, w: 50, h: 20 },
    ]);
    for (const encoding of ENCODINGS) {
      const e = encodeImage({ labelType: t, target: planes, kinds: [ImageKind.FULL], encodings: [encoding] });
      expect(e).toMatchObject({ kind: ImageKind.FULL, encoding, baseHash: BLANK_HASH, region: { x: 0, y: 0, width: 0, height: 0 } });
      expect(e.targetHash).toBe(contentHash(planes));
      expectSameBytes(apply(t, e, null), planes);
    }
  });

  it('FULL RLE and ZLIB round-trip random and structured planes', () => {
    for (const t of SMALL_TYPES) {
      fc.assert(
        fc.property(planesArb(t), fc.constantFrom(ImageEncoding.RLE, ImageEncoding.ZLIB), (planes, encoding) => {
          const e = encodeImage({ labelType: t, target: planes, kinds: [ImageKind.FULL], encodings: [encoding] });
          expectSameBytes(apply(t, e, null), planes);
        }),
        { numRuns: 25 },
      );
    }
  });

  it('DELTA_XOR and DELTA_REGION rebuild exactly the target from the base', () => {
    for (const t of SMALL_TYPES) {
      fc.assert(
        fc.property(planesArb(t), fc.array(rectArb(t, 30), { minLength: 1, maxLength: 4 }), fc.nat(), (base, changes, eraseSeed) => {
          const target = draw(t, changes, new Uint8Array(base));
          setPixel(target, t, 0, eraseSeed % t.width, eraseSeed % t.height, false); // some pixels turn white too
          for (const kind of [ImageKind.DELTA_XOR, ImageKind.DELTA_REGION]) {
            for (const encoding of ENCODINGS) {
              const e = encodeImage({ labelType: t, target, base, kinds: [kind], encodings: [encoding] });
              expect(e.kind).toBe(kind);
              expect(e.baseHash).toBe(contentHash(base));
              expectSameBytes(apply(t, e, base), target);
            }
          }
        }),
        { numRuns: 10 },
      );
    }
  });

  it('encodeImage returns the smallest payload of all allowed kinds × encodings', () => {
    fc.assert(
      fc.property(planesArb(BWR29), fc.array(rectArb(BWR29, 60), { maxLength: 3 }), (base, changes) => {
        const target = draw(BWR29, changes, new Uint8Array(base));
        const best = encodeImage({ labelType: BWR29, target, base });
        const sizes = KINDS.flatMap((kind) =>
          ENCODINGS.map((encoding) => encodeImage({ labelType: BWR29, target, base, kinds: [kind], encodings: [encoding] }).payload.length),
        );
        expect(best.payload.length).toBe(Math.min(...sizes));
        expectSameBytes(apply(BWR29, best, base), target);
      }),
      { numRuns: 25 },
    );
  });

  it('takes the hashes the caller knows (D149): the same payload, and a wrong hash is refused by the label (§6.4)', () => {
    fc.assert(
      fc.property(planesArb(BWR29), fc.array(rectArb(BWR29, 60), { maxLength: 3 }), fc.boolean(), (base, changes, withBase) => {
        const target = draw(BWR29, changes, new Uint8Array(base));
        const hashes = { target: contentHash(target), base: contentHash(base) };
        const opts = { labelType: BWR29, target, ...(withBase ? { base } : {}) };
        expect(encodeImage({ ...opts, hashes })).toEqual(encodeImage(opts));
        // Taken as given, not checked: a label applying it verifies the result and refuses a wrong name.
        const wrong = encodeImage({ ...opts, hashes: { target: '0123456789abcdef', base: 'fedcba9876543210' } });
        expect(codeOf(() => apply(BWR29, wrong, withBase ? base : null))).toMatch(/^IMAGE_(HASH|BASE)_MISMATCH$/);
      }),
      { numRuns: 25 },
    );
  });

  it('a small change on a rendered-like label is far cheaper as a delta than as FULL', () => {
    const base = draw(BWR29, [
      { plane: 0, x: 8, y: 8, w: 200, h: 14 },
      { plane: 1, x: 150, y: 60, w: 130, h: 50 },
      { plane: 0, x: 8, y: 100, w: 120, h: 8 },
    ]);
    const target = draw(BWR29, [{ plane: 1, x: 160, y: 70, w: 9, h: 20 }], new Uint8Array(base));
    const full = encodeImage({ labelType: BWR29, target, kinds: [ImageKind.FULL] });
    const delta = encodeImage({ labelType: BWR29, target, base });
    expect(delta.kind).not.toBe(ImageKind.FULL);
    expect(delta.payload.length * 2).toBeLessThan(full.payload.length);
  });

  it('restricts to the allowed kinds and encodings, and to FULL without a base', () => {
    const t = BW154;
    const target = draw(t, [{ plane: 0, x: 0, y: 0, w: 30, h: 30 }]);
    expect(encodeImage({ labelType: t, target }).kind).toBe(ImageKind.FULL);
    expect(encodeImage({ labelType: t, target, encodings: [ImageEncoding.RLE] }).encoding).toBe(ImageEncoding.RLE);
    expect(codeOf(() => encodeImage({ labelType: t, target, kinds: [ImageKind.DELTA_XOR] }))).toBe('IMAGE_UNSUPPORTED');
    expect(codeOf(() => encodeImage({ labelType: t, target, encodings: [] }))).toBe('IMAGE_UNSUPPORTED');
  });

  it('an unchanged image is an empty DELTA_REGION that the label applies as a no-op', () => {
    const base = draw(BWR29, [{ plane: 1, x: 5, y: 5, w: 20, h: 20 }]);
    const e = encodeImage({ labelType: BWR29, target: new Uint8Array(base), base });
    expect(e).toMatchObject({ kind: ImageKind.DELTA_REGION, region: { x: 0, y: 0, width: 0, height: 0 } });
    expect(e.payload.length).toBe(0);
    expectSameBytes(apply(BWR29, e, base), base);
  });

  describe('DELTA_REGION alignment (§6.3.2)', () => {
    const region = (t: LabelType, pixels: [number, number, number][]) => {
      const a = new Uint8Array(imageBytes(t));
      const b = new Uint8Array(a);
      for (const [p, x, y] of pixels) setPixel(b, t, p, x, y);
      return changedRegion(t, a, b);
    };
    it('rounds x down and width up to multiples of 8', () => {
      expect(region(BWR29, [[0, 13, 40]])).toEqual({ x: 8, y: 40, width: 8, height: 1 });
      expect(region(BWR29, [[0, 7, 3], [0, 8, 5]])).toEqual({ x: 0, y: 3, width: 16, height: 3 });
      expect(region(BWR29, [[0, 17, 10], [0, 30, 12]])).toEqual({ x: 16, y: 10, width: 16, height: 3 });
    });
    it('spans changes of all planes', () => {
      expect(region(BWRY42, [[0, 100, 10], [2, 9, 200]])).toEqual({ x: 8, y: 10, width: 96, height: 191 });
    });
    it('may reach into the row padding when the width is not a multiple of 8', () => {
      expect(region(BWR213, [[1, 249, 121]])).toEqual({ x: 248, y: 121, width: 8, height: 1 });
    });
    it('is empty when nothing changed', () => {
      expect(region(BW154, [])).toEqual({ x: 0, y: 0, width: 0, height: 0 });
    });
    it('encodeImage reports aligned regions that lie on the panel', () => {
      fc.assert(
        fc.property(fc.array(rectArb(BWR213, 20), { minLength: 1, maxLength: 3 }), (rects) => {
          const base = new Uint8Array(imageBytes(BWR213));
          const e = encodeImage({ labelType: BWR213, target: draw(BWR213, rects), base, kinds: [ImageKind.DELTA_REGION] });
          const r = e.region;
          expect(r.x % 8).toBe(0);
          expect(r.width % 8).toBe(0);
          expect(r.x + r.width).toBeLessThanOrEqual(256);
          expect(r.y + r.height).toBeLessThanOrEqual(BWR213.height);
          for (const rect of rects) {
            expect(r.x).toBeLessThanOrEqual(rect.x);
            expect(r.y).toBeLessThanOrEqual(rect.y);
          }
        }),
        { numRuns: 50 },
      );
    });
  });

  it('writes ZLIB streams with a 4 KiB window and refuses larger ones (§6.2)', () => {
    const t = BWR29;
    const planes = draw(t, [{ plane: 0, x: 3, y: 3, w: 100, h: 30 }]);
    const e = encodeImage({ labelType: t, target: planes, kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] });
    expect(e.payload[0]).toBe(0x48); // CM 8, CINFO 4
    const wide = { ...e, payload: new Uint8Array(deflateSync(planes, { level: 9 })) };
    expect(wide.payload[0]).toBe(0x78);
    expect(codeOf(() => apply(t, wide, null))).toBe('IMAGE_UNSUPPORTED');
  });

  it('tells when the label refreshes only the region (§6.3.2)', () => {
    const base = draw(BWR29, [{ plane: 1, x: 100, y: 40, w: 60, h: 30 }]);
    const blackChange = draw(BWR29, [{ plane: 0, x: 10, y: 10, w: 20, h: 8 }], new Uint8Array(base));
    const redChange = draw(BWR29, [{ plane: 1, x: 10, y: 10, w: 20, h: 8 }], new Uint8Array(base));
    const region = (target: Uint8Array) => encodeImage({ labelType: BWR29, target, base, kinds: [ImageKind.DELTA_REGION] }).region;
    expect(partialRefreshApplies(BWR29, ImageKind.DELTA_REGION, region(blackChange), base, blackChange)).toBe(true);
    expect(partialRefreshApplies(BWR29, ImageKind.DELTA_REGION, region(redChange), base, redChange)).toBe(false);
    expect(partialRefreshApplies(BWR29, ImageKind.DELTA_XOR, region(blackChange), base, blackChange)).toBe(false);
    const t = labelTypeByName('epd-75-bwr')!; // no partial refresh
    const a = new Uint8Array(imageBytes(t));
    const b = draw(t, [{ plane: 0, x: 0, y: 0, w: 8, h: 1 }]);
    expect(partialRefreshApplies(t, ImageKind.DELTA_REGION, changedRegion(t, a, b), a, b)).toBe(false);
  });

  it('maps image errors to RADIO_XFER_DONE statuses (§9.8)', () => {
    expect(xferDoneStatusFor(new ProtocolError('IMAGE_BASE_MISMATCH', 'x'))).toBe(StatusCode.BASE_MISMATCH);
    expect(xferDoneStatusFor(new ProtocolError('IMAGE_HASH_MISMATCH', 'x'))).toBe(StatusCode.HASH_MISMATCH);
    expect(xferDoneStatusFor(new ProtocolError('IMAGE_UNSUPPORTED', 'x'))).toBe(StatusCode.UNSUPPORTED_FEATURE);
    expect(xferDoneStatusFor(new ProtocolError('IMAGE_DECODE_FAILED', 'x'))).toBe(StatusCode.DECODE_ERROR);
    expect(xferDoneStatusFor(new ProtocolError('IMAGE_SIZE_MISMATCH', 'x'))).toBe(StatusCode.DECODE_ERROR);
  });

  describe('label verification (§6.4)', () => {
    const t = BWR29;
    const base = draw(t, [{ plane: 0, x: 10, y: 10, w: 100, h: 20 }]);
    const target = draw(t, [{ plane: 1, x: 50, y: 50, w: 40, h: 40 }], new Uint8Array(base));
    const other = draw(t, [{ plane: 0, x: 11, y: 10, w: 100, h: 20 }]);

    it.each([ImageKind.DELTA_XOR, ImageKind.DELTA_REGION])('a delta on the wrong base gives IMAGE_BASE_MISMATCH (kind %i)', (kind) => {
      const e = encodeImage({ labelType: t, target, base, kinds: [kind] });
      expect(codeOf(() => apply(t, e, other))).toBe('IMAGE_BASE_MISMATCH');
      expect(codeOf(() => apply(t, e, null))).toBe('IMAGE_BASE_MISMATCH');
    });

    it('a corrupted payload gives IMAGE_HASH_MISMATCH (RAW) or IMAGE_DECODE_FAILED (ZLIB)', () => {
      const raw = encodeImage({ labelType: t, target, kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] });
      raw.payload[100]! ^= 0x10;
      expect(codeOf(() => apply(t, raw, null))).toBe('IMAGE_HASH_MISMATCH');
      const z = encodeImage({ labelType: t, target, kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] });
      z.payload[z.payload.length - 1]! ^= 0x01; // Adler-32 trailer
      expect(codeOf(() => apply(t, z, null))).toBe('IMAGE_DECODE_FAILED');
    });

    it('a ZLIB payload inflating beyond the expected size is refused (zip bomb)', () => {
      const bomb = new Uint8Array(deflateSync(new Uint8Array(imageBytes(t) * 50), { level: 9, windowBits: 12 }));
      expect(bomb.length).toBeLessThan(1000);
      const e = { kind: ImageKind.FULL, encoding: ImageEncoding.ZLIB, region: { x: 0, y: 0, width: 0, height: 0 }, payload: bomb };
      expect(codeOf(() => applyImage({ labelType: t, ...e, current: null, baseHash: BLANK_HASH, targetHash: BLANK_HASH }))).toBe('IMAGE_DECODE_FAILED');
    });

    it('a payload decoding to too few bytes gives IMAGE_SIZE_MISMATCH', () => {
      for (const encoding of ENCODINGS) {
        const e = encodeImage({ labelType: BW154, target: new Uint8Array(imageBytes(BW154)), kinds: [ImageKind.FULL], encodings: [encoding] });
        const shorter = { ...e, payload: encoding === ImageEncoding.ZLIB ? new Uint8Array(deflateSync(new Uint8Array(10), { windowBits: 12 })) : encoding === ImageEncoding.RLE ? Uint8Array.of(0xfe, 0) : new Uint8Array(10) };
        expect(codeOf(() => apply(BW154, shorter, null))).toBe('IMAGE_SIZE_MISMATCH');
      }
    });

    it('rejects planes of the wrong size, an unaligned region and unknown kinds or encodings', () => {
      expect(codeOf(() => encodeImage({ labelType: t, target: new Uint8Array(10) }))).toBe('IMAGE_SIZE_MISMATCH');
      expect(codeOf(() => encodeImage({ labelType: t, target, base: new Uint8Array(10) }))).toBe('IMAGE_SIZE_MISMATCH');
      const e = encodeImage({ labelType: t, target, base, kinds: [ImageKind.DELTA_REGION] });
      expect(codeOf(() => apply(t, { ...e, region: { ...e.region, x: e.region.x + 4 } }, base))).toBe('IMAGE_DECODE_FAILED');
      expect(codeOf(() => apply(t, { ...e, region: { ...e.region, y: t.height } }, base))).toBe('IMAGE_DECODE_FAILED');
      expect(codeOf(() => apply(t, { ...e, kind: 7 as ImageKind }, base))).toBe('IMAGE_UNSUPPORTED');
      expect(codeOf(() => apply(t, { ...e, encoding: 3 as ImageEncoding }, base))).toBe('IMAGE_UNSUPPORTED');
      expect(codeOf(() => apply(t, e, new Uint8Array(5)))).toBe('IMAGE_SIZE_MISMATCH');
    });
  });
});
