/** Test support: deterministic label images. */
import { imageBytes, labelTypeById, planeBytes, type LabelType } from '#protocol';

export function labelType(id: number): LabelType {
  const t = labelTypeById(id);
  if (t === undefined) throw new Error(`no label type ${id}`);
  return t;
}

/** A picture with some structure (stripes and a box) so that compression and deltas behave as on real labels. */
export function testPlanes(t: LabelType, variant: number): Uint8Array {
  const planes = new Uint8Array(imageBytes(t));
  const rowBytes = Math.ceil(t.width / 8);
  const plane = planeBytes(t);
  for (let y = 0; y < t.height; y++) {
    for (let xb = 0; xb < rowBytes; xb++) {
      // black plane: horizontal stripes shifted per variant; red plane: a box whose position depends on the variant
      if ((y + variant * 3) % 16 < 3) planes[y * rowBytes + xb] = 0xff;
      if (planes.length > plane && y > 10 + variant && y < 40 + variant && xb > 2 && xb < 12) {
        planes[plane + y * rowBytes + xb] = 0xaa;
        // A pixel is one colour: where red is set, black is not (as a renderer produces it).
        planes[y * rowBytes + xb]! &= 0x55;
      }
    }
  }
  return planes;
}

/** `base` with one rectangle (byte-aligned) changed, as a price change would. */
export function changedRegion(t: LabelType, base: Uint8Array, seed: number): Uint8Array {
  const out = base.slice();
  const rowBytes = Math.ceil(t.width / 8);
  for (let y = 60; y < 90; y++) for (let xb = 20; xb < 30; xb++) out[y * rowBytes + xb] = (y * 7 + xb * 13 + seed) & 0xff;
  return out;
}
