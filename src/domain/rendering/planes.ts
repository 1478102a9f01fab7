/**
 * Pixel buffer (one colour index per pixel, panel-colours.ts COLOUR_INDEX) ⇄ colour planes (§6.1): each 1-bit plane
 * is rows padded to whole bytes, MSB = leftmost pixel; planes concatenated in PALETTE_PLANES order; a pixel set in
 * no plane is white. Reading planes back, a pixel set in several planes shows yellow over red over black (as
 * firmware-protocol's plane-image.ts defines it).
 */
import { imageBytes, PALETTE_PLANES, planeBytes, type LabelType } from '#protocol';
import { COLOUR_INDEX } from './panel-colours.js';
import { renderError } from './rendering-errors.js';

export function packPlanes(px: Uint8Array, t: LabelType): Uint8Array {
  if (px.length !== t.width * t.height) throw renderError('PLANES_INVALID', `pixel buffer has ${px.length} pixels, expected ${t.width * t.height}`);
  const order = PALETTE_PLANES[t.palette];
  const w = t.width;
  const rowBytes = Math.ceil(w / 8);
  const size = planeBytes(t);
  const out = new Uint8Array(imageBytes(t));
  // Plane offset per colour index (-1: the palette lacks it; layout resolves roles per palette, so never drawn).
  const offset = new Int32Array([-1, -1, -1, -1]);
  order.forEach((c, i) => (offset[COLOUR_INDEX[c]] = i * size));
  const acc = new Int32Array(4);
  let used = 0;
  for (let y = 0; y < t.height; y++) {
    const row = y * w;
    for (let xb = 0; xb < rowBytes; xb++) {
      acc[1] = 0;
      acc[2] = 0;
      acc[3] = 0;
      const x0 = xb * 8;
      const end = Math.min(8, w - x0);
      for (let k = 0; k < end; k++) acc[px[row + x0 + k]! & 3]! |= 0x80 >> k;
      const o = y * rowBytes + xb;
      for (let c = 1; c < 4; c++) {
        if (acc[c] === 0) continue;
        used |= 1 << c;
        if (offset[c]! >= 0) out[offset[c]! + o] = acc[c]!;
      }
    }
  }
  for (let c = 1; c < 4; c++) {
    if (used & (1 << c) && offset[c]! < 0) throw renderError('PLANES_INVALID', `colour index ${c} is not in palette ${t.palette}`);
  }
  return out;
}

export function unpackPlanes(planes: Uint8Array, t: LabelType): Uint8Array {
  if (planes.length !== imageBytes(t)) throw renderError('PLANES_INVALID', `planes have ${planes.length} bytes, expected ${imageBytes(t)}`);
  const order = PALETTE_PLANES[t.palette];
  const rowBytes = Math.ceil(t.width / 8);
  const size = planeBytes(t);
  // Weakest first, so the strongest colour is written last.
  const layers = (['black', 'red', 'yellow'] as const).filter((c) => order.includes(c)).map((c) => ({ offset: order.indexOf(c) * size, index: COLOUR_INDEX[c] }));
  const px = new Uint8Array(t.width * t.height);
  for (const l of layers) {
    for (let y = 0; y < t.height; y++) {
      for (let x = 0; x < t.width; x++) {
        if (planes[l.offset + y * rowBytes + (x >> 3)]! & (0x80 >> (x & 7))) px[y * t.width + x] = l.index;
      }
    }
  }
  return px;
}
