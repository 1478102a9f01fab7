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

/** sRGB 0..255 → linear light, as a lookup table. */
const LINEAR = Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** CIELAB (D65) of an sRGB colour. */
function lab(r: number, g: number, b: number): [number, number, number] {
  const R = LINEAR[r]!;
  const G = LINEAR[g]!;
  const B = LINEAR[b]!;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);
  const fx = f((0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047);
  const fy = f(0.2126729 * R + 0.7151522 * G + 0.072175 * B);
  const fz = f((0.0193339 * R + 0.119192 * G + 0.9503041 * B) / 1.08883);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/**
 * Planes of label type `t` from RGBA pixels: each pixel, composited over white by its alpha, becomes the
 * nearest panel colour of the palette in CIELAB (ΔE*76; ties go to white, then black, red, yellow). CIELAB and
 * not RGB distance, because in RGB a mid-grey anti-aliasing pixel is nearer to red (204,0,0) than to black and
 * black text would get red fringes on a BWR panel. No dithering: the renderer draws in palette colours already;
 * this only snaps anti-aliased edges.
 */
export function rgbaToPlanes(rgba: Uint8Array, t: LabelType): Uint8Array {
  const expected = t.width * t.height * 4;
  if (rgba.length !== expected) throw sizeError('rgba', rgba.length, expected);
  const order = PALETTE_PLANES[t.palette];
  const rowBytes = Math.ceil(t.width / 8);
  const size = planeBytes(t);
  const candidates = (['white', 'black', 'red', 'yellow'] as const)
    .filter((c) => c === 'white' || order.includes(c))
    .map((c) => ({ lab: lab(...PANEL_RGB[c]), offset: c === 'white' ? -1 : order.indexOf(c) * size }));
  const out = new Uint8Array(imageBytes(t));
  // Rendered labels are long runs of one colour: remember the last decision.
  let lastKey = -1;
  let lastOffset = -1;
  for (let y = 0; y < t.height; y++) {
    for (let x = 0; x < t.width; x++) {
      const i = (y * t.width + x) * 4;
      const a = rgba[i + 3]! / 255;
      const r = Math.round(rgba[i]! * a + 255 * (1 - a));
      const g = Math.round(rgba[i + 1]! * a + 255 * (1 - a));
      const b = Math.round(rgba[i + 2]! * a + 255 * (1 - a));
      const key = (r << 16) | (g << 8) | b;
      if (key !== lastKey) {
        const [L, A, B] = lab(r, g, b);
        let bestD = Infinity;
        for (const c of candidates) {
          const d = (L - c.lab[0]) ** 2 + (A - c.lab[1]) ** 2 + (B - c.lab[2]) ** 2;
          if (d < bestD) {
            bestD = d;
            lastOffset = c.offset;
          }
        }
        lastKey = key;
      }
      if (lastOffset >= 0) out[lastOffset + y * rowBytes + (x >> 3)]! |= 0x80 >> (x & 7);
    }
  }
  return out;
}
