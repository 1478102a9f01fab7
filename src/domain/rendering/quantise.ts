/**
 * RGBA → panel colour indices: each pixel, composited over white by its alpha, becomes the nearest colour the
 * palette has (squared RGB distance; ties go to white, then black, red, yellow). A threshold, never a dither: crisp
 * edges for text and codes. Used to read previews back (planes-png.ts) and by the naive benchmark baseline.
 */
import { PALETTE_PLANES, type Palette } from '#protocol';
import { COLOUR_INDEX, PANEL_RGB, type PanelColour } from './panel-colours.js';

export function quantiseRgba(rgba: Uint8Array, palette: Palette, channels: 3 | 4 = 4): Uint8Array {
  const colours: PanelColour[] = ['white', ...(['black', 'red', 'yellow'] as const).filter((c) => PALETTE_PLANES[palette].includes(c))];
  const cand = colours.map((c) => ({ rgb: PANEL_RGB[c], index: COLOUR_INDEX[c] }));
  const n = rgba.length / channels;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const a = channels === 4 ? rgba[o + 3]! : 255;
    const r = (rgba[o]! * a + 255 * (255 - a)) / 255;
    const g = (rgba[o + 1]! * a + 255 * (255 - a)) / 255;
    const b = (rgba[o + 2]! * a + 255 * (255 - a)) / 255;
    let best = 0;
    let bestD = Number.POSITIVE_INFINITY;
    for (const c of cand) {
      const d = (r - c.rgb[0]) ** 2 + (g - c.rgb[1]) ** 2 + (b - c.rgb[2]) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c.index;
      }
    }
    out[i] = best;
  }
  return out;
}
