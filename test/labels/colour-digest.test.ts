/**
 * D107 The colour digest tells the dispatcher, before a delta is encoded, whether the label will refresh partially:
 * equal digests of two pictures of a type with partial refresh mean that the delta over their changed region is one
 * the label shows with a partial refresh (firmware-protocol §6.3.2, partialRefreshApplies), and a changed colour
 * plane changes the digest.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ImageKind, changedRegion, imageBytes, labelTypeById, partialRefreshApplies, planeBytes } from '#protocol';
import { colourDigest } from '../../src/domain/labels/colour-digest.js';

const bwr = labelTypeById(3)!; // 2.9" BWR, partial refresh
const bw = labelTypeById(1)!; // 1.54" BW

describe('colour digest (D107)', () => {
  it('is 0 for a black/white type and ignores the black plane', () => {
    const a = new Uint8Array(imageBytes(bw)).fill(0x55);
    expect(colourDigest(a, bw)).toBe(0);
    const b = new Uint8Array(imageBytes(bwr));
    const c = b.slice();
    c[10] = 0xff; // black plane only
    expect(colourDigest(b, bwr)).toBe(colourDigest(c, bwr));
    c[planeBytes(bwr) + 10] = 0x01; // red plane
    expect(colourDigest(c, bwr)).not.toBe(colourDigest(b, bwr));
  });

  it('equal digests of two pictures ⇔ their region delta refreshes partially (random edits of either plane)', () => {
    const size = imageBytes(bwr);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(size - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 20 }), (edits) => {
        const before = new Uint8Array(size);
        const after = before.slice();
        for (const [at, v] of edits) after[at] = after[at]! ^ v;
        const region = changedRegion(bwr, before, after);
        if (region.width === 0) return;
        const same = colourDigest(before, bwr) === colourDigest(after, bwr);
        expect(partialRefreshApplies(bwr, ImageKind.DELTA_REGION, region, before, after)).toBe(same);
      }),
      { seed: 107, numRuns: 300 },
    );
  });
});
