/**
 * Colour planes ⇄ RGBA pixels (README.md §6.1), for previews, the renderer's conversion and the simulator.
 *
 * A pixel set in no plane is white. When several planes set the same pixel (the protocol does not forbid it),
 * the shown colour is yellow over red over black, as on four-colour panels that drive the last colour written.
 */
import { ProtocolError } from './errors.js';
import { PALETTE_PLANES, imageBytes, planeBytes, type LabelType } from './label-types.js';

export type PlaneColour = 'black' | 'red' | 'yellow';
export type PanelColour = 'white' | PlaneColour;

/** §6.1 The RGB value of each panel colour. */
export const PANEL_RGB: Readonly<Record<PanelColour, readonly [number, number, number]>> = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  red: [204, 0, 0],
  yellow: [255, 204, 0],
};

/** Precedence when a pixel is set in several planes, strongest first. */
const PRECEDENCE: readonly PlaneColour[] = ['yellow', 'red', 'black'];

function sizeError(what: string, length: number, expected: number): ProtocolError {
  return new ProtocolError('IMAGE_SIZE_MISMATCH', `${what} has ${length} bytes, expected ${expected}`, { length, expected });
}

/** RGBA bytes (width × height × 4, alpha 255) of the planes of label type `t`. */
export function planesToRgba(planes: Uint8Array, t: LabelType): Uint8Array {
  if (planes.length !== imageBytes(t)) throw sizeError('planes', planes.length, imageBytes(t));
  const order = PALETTE_PLANES[t.palette];
  const rowBytes = Math.ceil(t.width / 8);
  const size = planeBytes(t);
  // Plane offsets in precedence order, with the colour each one shows.
  const layers = PRECEDENCE.filter((c) => order.includes(c)).map((c) => ({ offset: order.indexOf(c) * size, rgb: PANEL_RGB[c] }));
  const out = new Uint8Array(t.width * t.height * 4);
  for (let y = 0; y < t.height; y++) {
    for (let x = 0; x < t.width; x++) {
      const byte = y * rowBytes + (x >> 3);
      const mask = 0x80 >> (x & 7);
      let rgb = PANEL_RGB.white;
      for (const l of layers) {
        if (planes[l.offset + byte]! & mask) {
          rgb = l.rgb;
          break;
        }
      }
      const o = (y * t.width + x) * 4;
      out[o] = rgb[0];
      out[o + 1] = rgb[1];
      out[o + 2] = rgb[2];
      out[o + 3] = 255;
    }
  }
  return out;
}

/**
 * Planes of label type `t` from RGBA pixels: each pixel, composited over white by its alpha, becomes the
 * nearest panel colour of the palette (squared RGB distance; ties go to white, then black, red, yellow).
 * No dithering: the renderer draws in palette colours already; this only snaps anti-aliased edges.
 */
export function rgbaToPlanes(rgba: Uint8Array, t: LabelType): Uint8Array {
  const expected = t.width * t.height * 4;
  if (rgba.length !== expected) throw sizeError('rgba', rgba.length, expected);
  const order = PALETTE_PLANES[t.palette];
  const rowBytes = Math.ceil(t.width / 8);
  const size = planeBytes(t);
  const candidates: { rgb: readonly [number, number, number]; offset: number }[] = [
    { rgb: PANEL_RGB.white, offset: -1 },
    ...(['black', 'red', 'yellow'] as const).filter((c) => order.includes(c)).map((c) => ({ rgb: PANEL_RGB[c], offset: order.indexOf(c) * size })),
  ];
  const out = new Uint8Array(imageBytes(t));
  for (let y = 0; y < t.height; y++) {
    for (let x = 0; x < t.width; x++) {
      const i = (y * t.width + x) * 4;
      const a = rgba[i + 3]! / 255;
      const r = rgba[i]! * a + 255 * (1 - a);
      const g = rgba[i + 1]! * a + 255 * (1 - a);
      const b = rgba[i + 2]! * a + 255 * (1 - a);
      let best = candidates[0]!;
      let bestD = Infinity;
      for (const c of candidates) {
        const d = (r - c.rgb[0]) ** 2 + (g - c.rgb[1]) ** 2 + (b - c.rgb[2]) ** 2;
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      if (best.offset >= 0) out[best.offset + y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return out;
}
