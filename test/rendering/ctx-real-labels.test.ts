/**
 * The CTX encoding (firmware-protocol/README.md §6.6) on real label pictures: rendered templates of every label
 * type, random product content and price changes (fast-check), FULL and deltas, each decoded as a label would
 * (applyImage with one fixed CtxDecoderState) and compared with the render byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CtxDecoderState, ImageEncoding, ImageKind, LABEL_TYPES, applyImage, encodeImage } from '#protocol';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

describe('CTX on rendered labels', () => {
  it('FULL and price-change deltas round-trip on every label type', async () => {
    const r = await LabelRenderer.create();
    const state = new CtxDecoderState();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...LABEL_TYPES),
        fc.constantFrom(STANDARD, PROMOTION),
        fc.integer({ min: 1, max: 99_999 }),
        fc.integer({ min: 1, max: 99_999 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        async (t, content, before, after, name) => {
          const a = (await r.render({ ...content, name, priceCents: before }, t)).planes;
          const b = (await r.render({ ...content, name, priceCents: after }, t)).planes;
          for (const [kind, base] of [
            [ImageKind.FULL, null],
            [ImageKind.DELTA_REGION, a],
            [ImageKind.DELTA_XOR, a],
          ] as const) {
            const e = encodeImage({ labelType: t, target: b, ...(base ? { base } : {}), kinds: [kind], encodings: [ImageEncoding.CTX] });
            const out = applyImage({ labelType: t, ...e, current: base, ctxState: state });
            expect(Buffer.from(out).equals(Buffer.from(b))).toBe(true);
          }
        },
      ),
      { numRuns: 20 },
    );
  }, 120_000);
});
