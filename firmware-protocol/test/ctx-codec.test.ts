/**
 * The CTX encoding (README.md §6.6): round trips on random and label-like pictures (fast-check), the normative
 * vectors of test-vectors.json in both directions, the decoder's fixed state as the spec states it, its errors,
 * a decoder fuzz (the full million runs in `npm run fuzz:codec`), and the encoding choice of §6.6.1.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ApCapability,
  CTX_CONTEXTS,
  CTX_DECODER_STATE_BYTES,
  CTX_MAX_ROW_BYTES,
  CtxDecoderState,
  ImageEncoding,
  ImageKind,
  LABEL_TYPES,
  LabelDecoder,
  PALETTE_PLANES,
  ProtocolError,
  allowedEncodings,
  applyImage,
  changedRegion,
  decodePayload,
  encodePayload,
  chooseEncoding,
  ctxDecode,
  ctxEncode,
  encodeImage,
  labelTypeById,
  labelTypeByName,
  type LabelType,
  type Region,
} from '../src/index.js';
import { fuzzCtxDecoder } from '../src/ctx-fuzz.js';
import { MQ_NLPS, MQ_NMPS, MQ_QE, MQ_SWITCH } from '../src/mq-coder.js';
import { draw, expectSameBytes, planesArb, rectArb } from './planes-fixtures.js';

const BW154 = labelTypeByName('epd-154-bw')!;
const BWR29 = labelTypeByName('epd-29-bwr')!;
const BWR213 = labelTypeByName('epd-213-bwr')!;
const BWRY42 = labelTypeByName('epd-42-bwry')!;
const geometry = (t: LabelType) => ({ rowBytes: Math.ceil(t.width / 8), height: t.height, planes: PALETTE_PLANES[t.palette].length });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

function ctxRoundTrip(t: LabelType, target: Uint8Array, base: Uint8Array | null, kind: ImageKind, state = new CtxDecoderState()): number {
  const e = encodeImage({ labelType: t, target, ...(base ? { base } : {}), kinds: [kind], encodings: [ImageEncoding.CTX] });
  expect(e.encoding).toBe(ImageEncoding.CTX);
  const out = applyImage({ labelType: t, ...e, current: base, ctxState: state });
  expectSameBytes(out, target);
  return e.payload.length;
}

describe('CTX encoding (README.md §6.6)', () => {
  it('§6.6.6 the decoder state has the stated fixed size: 1,026 contexts + 2 × 100 line bytes + 16 = 1,242 B ≤ 8 KiB', () => {
    const s = new CtxDecoderState();
    expect(s.contexts.length).toBe(1026);
    expect(CTX_CONTEXTS).toBe(1026);
    expect(s.lines.length).toBe(2 * CTX_MAX_ROW_BYTES);
    expect(CTX_MAX_ROW_BYTES).toBe(100);
    expect(CTX_DECODER_STATE_BYTES).toBe(1242);
    expect(CTX_DECODER_STATE_BYTES).toBeLessThanOrEqual(8192);
    // Every label type of §10 fits the line buffers.
    for (const t of LABEL_TYPES) expect(Math.ceil(t.width / 8)).toBeLessThanOrEqual(CTX_MAX_ROW_BYTES);
  });

  it('§6.6.6 decoding reuses the state and never grows it', () => {
    const s = new CtxDecoderState();
    const { contexts, lines } = s;
    const planes = draw(BWRY42, [{ plane: 2, x: 10, y: 10, w: 300, h: 40 }]);
    ctxRoundTrip(BWRY42, planes, null, ImageKind.FULL, s);
    ctxRoundTrip(BWRY42, draw(BWRY42, [{ plane: 0, x: 40, y: 100, w: 30, h: 30 }], new Uint8Array(planes)), planes, ImageKind.DELTA_REGION, s);
    expect(s.contexts).toBe(contexts);
    expect(s.lines).toBe(lines);
    expect(s.contexts.length + s.lines.length).toBe(1226);
  });

  it('§6.6.3 the MQ tables are the 47 states of T.88 Table E.1', () => {
    expect([MQ_QE.length, MQ_NMPS.length, MQ_NLPS.length, MQ_SWITCH.length]).toEqual([47, 47, 47, 47]);
    expect(MQ_SWITCH.reduce((a, b) => a + b, 0)).toBe(3);
    expect([MQ_QE[0], MQ_QE[45], MQ_QE[46]]).toEqual([0x5601, 0x0001, 0x5601]);
    expect([MQ_NMPS[5], MQ_NLPS[4], MQ_NMPS[13]]).toEqual([38, 29, 29]);
  });

  it.each(LABEL_TYPES.map((t) => [t.name, t] as const))('FULL and both deltas round-trip on every label type: %s', (_n, t) => {
    const base = draw(t, [
      { plane: 0, x: 3, y: 2, w: t.width - 10, h: 9 },
      { plane: PALETTE_PLANES[t.palette].length - 1, x: 20, y: 30, w: 60, h: 25 },
      { plane: 0, x: t.width - 5, y: t.height - 7, w: 5, h: 7 }, // touches the padding and the last row
    ]);
    const target = draw(t, [{ plane: 0, x: 40, y: 40, w: 33, h: 17 }], new Uint8Array(base));
    ctxRoundTrip(t, base, null, ImageKind.FULL);
    ctxRoundTrip(t, target, base, ImageKind.DELTA_REGION);
    ctxRoundTrip(t, target, base, ImageKind.DELTA_XOR);
    ctxRoundTrip(t, base, base, ImageKind.DELTA_REGION); // empty region
  });

  it('round-trips random and label-like pictures, FULL and deltas (fast-check)', () => {
    for (const t of [BW154, BWR213, BWR29]) {
      fc.assert(
        fc.property(planesArb(t), fc.array(rectArb(t, 30), { maxLength: 4 }), (base, change) => {
          const target = draw(t, change, new Uint8Array(base));
          ctxRoundTrip(t, base, null, ImageKind.FULL);
          ctxRoundTrip(t, target, base, ImageKind.DELTA_REGION);
          ctxRoundTrip(t, target, base, ImageKind.DELTA_XOR);
        }),
        { numRuns: 25 },
      );
    }
  });

  it('rows padded past the panel width keep their padding bits (250 px: 6 bits per row, §6.1)', () => {
    const planes = new Uint8Array(BWR213.width === 250 ? 2 * 32 * 122 : 0);
    for (let y = 0; y < 122; y++) planes[y * 32 + 31] = 0x03; // the two padding bits... and the last pixels
    ctxRoundTrip(BWR213, planes, null, ImageKind.FULL);
  });

  it('costs almost nothing for unchanged strokes: a one-digit change is far smaller than the FULL image', () => {
    const base = draw(BWR29, [
      { plane: 0, x: 10, y: 10, w: 200, h: 3 },
      { plane: 0, x: 150, y: 50, w: 12, h: 50 },
      { plane: 0, x: 180, y: 50, w: 12, h: 50 },
      { plane: 1, x: 10, y: 110, w: 280, h: 12 },
    ]);
    const target = draw(BWR29, [{ plane: 0, x: 200, y: 50, w: 30, h: 8 }], new Uint8Array(base));
    const full = ctxRoundTrip(BWR29, target, null, ImageKind.FULL);
    const delta = ctxRoundTrip(BWR29, target, base, ImageKind.DELTA_REGION);
    expect(delta).toBeLessThan(full / 2);
  });

  describe('errors (§6.6.7, §13.1)', () => {
    const g = geometry(BW154);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        return (e as ProtocolError).code;
      }
      return 'none';
    };
    it('an empty payload, an unknown template set, a bad rectangle', () => {
      const frame = new Uint8Array(2888);
      const s = new CtxDecoderState();
      expect(code(() => ctxDecode(g, new Uint8Array(0), frame, null, s))).toBe('IMAGE_DECODE_FAILED');
      expect(code(() => ctxDecode(g, bytes('01'), frame, null, s))).toBe('IMAGE_UNSUPPORTED');
      expect(code(() => ctxDecode(g, bytes('00'), frame, { x: 4, y: 0, width: 8, height: 1 }, s))).toBe('IMAGE_DECODE_FAILED');
      expect(code(() => ctxDecode(g, bytes('00'), frame, { x: 152, y: 0, width: 8, height: 1 }, s))).toBe('IMAGE_DECODE_FAILED');
      expect(code(() => ctxDecode({ rowBytes: 101, height: 1, planes: 1 }, bytes('00'), new Uint8Array(101), null, s))).toBe('IMAGE_UNSUPPORTED');
      expect(code(() => ctxDecode(g, bytes('00'), new Uint8Array(10), null, s))).toBe('IMAGE_SIZE_MISMATCH');
    });
    it('a corrupted payload decodes to some picture that the target hash then rejects (§6.4)', () => {
      const target = draw(BW154, [{ plane: 0, x: 10, y: 10, w: 50, h: 50 }]);
      const e = encodeImage({ labelType: BW154, target, kinds: [ImageKind.FULL], encodings: [ImageEncoding.CTX] });
      const bad = new Uint8Array(e.payload);
      bad[2] = bad[2]! ^ 0x10;
      expect(code(() => applyImage({ labelType: BW154, ...e, payload: bad, current: null }))).toBe('IMAGE_HASH_MISMATCH');
    });
  });

  it('§2.3 decoder fuzz: random and mutated inputs, only ProtocolError escapes (3,000 here; 1,000,000 in npm run fuzz:codec)', () => {
    const r = fuzzCtxDecoder(3000, 7, [{ rowBytes: 8, height: 32, planes: 1 }, { rowBytes: 4, height: 16, planes: 3 }, geometry(BW154)]);
    expect(r.escapes, r.firstEscape).toBe(0);
    expect(r.inputs).toBe(3000);
    expect(r.decoded).toBeGreaterThan(0);
    expect(r.protocolErrors).toBeGreaterThan(0);
  });
});

describe('CTX test vectors (test-vectors.json ctxImages, Appendix A)', () => {
  interface ImageVector {
    name: string;
    labelType: number;
    kind: ImageKind;
    encoding: ImageEncoding;
    region: Region;
    baseHash: string;
    targetHash: string;
    payload: string;
    base: string | null;
    target: string;
  }
  const file = JSON.parse(readFileSync(new URL('../test-vectors.json', import.meta.url), 'utf8')) as { ctxImages: ImageVector[] };

  it('cover FULL, DELTA_REGION and DELTA_XOR, one and two planes', () => {
    expect(new Set(file.ctxImages.map((v) => v.kind))).toEqual(new Set([ImageKind.FULL, ImageKind.DELTA_REGION, ImageKind.DELTA_XOR]));
    expect(new Set(file.ctxImages.map((v) => v.labelType))).toEqual(new Set([1, 2]));
  });

  describe.each(file.ctxImages)('$name', (v) => {
    const t = labelTypeById(v.labelType)!;
    const base = v.base === null ? null : bytes(v.base);
    it('encodes to the vector payload', () => {
      const e = encodeImage({ labelType: t, target: bytes(v.target), ...(base ? { base } : {}), kinds: [v.kind], encodings: [ImageEncoding.CTX] });
      expect(hex(e.payload)).toBe(v.payload);
      expect(e.region).toEqual(v.region);
      expect([e.baseHash, e.targetHash]).toEqual([v.baseHash, v.targetHash]);
    });
    it('decodes to the vector picture', () => {
      const out = applyImage({ labelType: t, kind: v.kind, encoding: v.encoding, region: v.region, payload: bytes(v.payload), current: base, baseHash: v.baseHash, targetHash: v.targetHash });
      expect(hex(out)).toBe(v.target);
    });
  });
});

describe('encoding choice (§6.6.1)', () => {
  const AP_ALL = ApCapability.DELTA_XOR | ApCapability.DELTA_REGION | ApCapability.RLE | ApCapability.ZLIB | ApCapability.CTX;
  const base = draw(BWR29, [
    { plane: 0, x: 10, y: 10, w: 200, h: 3 },
    { plane: 0, x: 150, y: 50, w: 12, h: 50 },
  ]);
  const target = draw(BWR29, [{ plane: 0, x: 200, y: 50, w: 30, h: 8 }], new Uint8Array(base));

  it('§9.2 the decoders byte is optional: 22 bytes = legacy, 23 = announced, 24 = MSG_BAD_LENGTH', () => {
    const checkin = { type: 'RADIO_CHECKIN', labelId: 'A4C138F0000B1E42', labelType: 3, displayedHash: '3f1c9a2b4d5e6f70', page: 0, batteryMv: 2950, temperatureC: -5, wakeReason: 0 } as const;
    const legacy = encodePayload(checkin);
    const announced = encodePayload({ ...checkin, decoders: LabelDecoder.ZLIB | LabelDecoder.CTX });
    expect([legacy.length, announced.length]).toEqual([22, 23]);
    expect(decodePayload(0x80, legacy)).toEqual(checkin);
    expect(decodePayload(0x80, announced)).toEqual({ ...checkin, decoders: 6 });
    let code: string | undefined;
    try {
      decodePayload(0x80, new Uint8Array([...announced, 0]));
    } catch (e) {
      code = (e as ProtocolError).code;
    }
    expect(code).toBe('MSG_BAD_LENGTH');
  });

  it('CTX only when both the AP and the label announce it; a legacy label (no decoders byte) gets RLE/ZLIB', () => {
    expect(allowedEncodings({ ap: AP_ALL, label: LabelDecoder.CTX | LabelDecoder.ZLIB }).encodings).toEqual([ImageEncoding.RAW, ImageEncoding.ZLIB, ImageEncoding.CTX]);
    expect(allowedEncodings({ ap: AP_ALL, label: null }).encodings).toEqual([ImageEncoding.RAW, ImageEncoding.RLE, ImageEncoding.ZLIB]);
    expect(allowedEncodings({ ap: AP_ALL & ~ApCapability.CTX, label: 0xff }).encodings).not.toContain(ImageEncoding.CTX);
    expect(allowedEncodings({ ap: 0, label: 0xff })).toEqual({ encodings: [ImageEncoding.RAW], kinds: [ImageKind.FULL] });
  });

  it('sends the smallest payload the label decodes, and the label rebuilds the target from it', () => {
    const ctx = chooseEncoding({ ap: AP_ALL, label: 0x07 }, BWR29, target, base);
    const legacy = chooseEncoding({ ap: AP_ALL }, BWR29, target, base);
    expect(ctx.encoding).toBe(ImageEncoding.CTX);
    expect(legacy.encoding).not.toBe(ImageEncoding.CTX);
    expect(ctx.payload.length).toBeLessThan(legacy.payload.length);
    for (const e of [ctx, legacy]) expectSameBytes(applyImage({ labelType: BWR29, ...e, current: base }), target);
    // Without a base only FULL is possible; on a partial-refresh panel a black-only change stays a region delta.
    expect(chooseEncoding({ ap: AP_ALL, label: 0x07 }, BWR29, target).kind).toBe(ImageKind.FULL);
    expect(ctx.kind).toBe(ImageKind.DELTA_REGION);
    expect(ctx.region).toEqual(changedRegion(BWR29, base, target));
  });

  it('an unchanged picture costs an empty RAW region delta', () => {
    const e = chooseEncoding({ ap: AP_ALL, label: 0x07 }, BWR29, base, base);
    expect([e.kind, e.encoding, e.payload.length]).toEqual([ImageKind.DELTA_REGION, ImageEncoding.RAW, 0]);
  });

  it('ctxEncode of FULL equals the generic path of encodeImage', () => {
    expect(hex(ctxEncode(geometry(BWR29), target, null, null))).toBe(hex(encodeImage({ labelType: BWR29, target, kinds: [ImageKind.FULL], encodings: [ImageEncoding.CTX] }).payload));
  });
});
