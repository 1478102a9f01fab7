/**
 * Paints straight into the colour planes (§6.1: 1-bit planes, rows padded to whole bytes, MSB = leftmost pixel,
 * black then red then yellow; white = no plane set). Every drawing primitive of a label is a horizontal span of one
 * colour (glyph rows, fills, code modules), so painting a span sets its bits in the colour's plane and clears them in
 * the others, whole bytes at a time: no per-pixel buffer, no packing pass.
 */
import { imageBytes, PALETTE_PLANES, planeBytes, type LabelType } from '#protocol';
import type { PanelColour } from './panel-colours.js';
import { renderError } from './rendering-errors.js';

export class PlaneCanvas {
  readonly planes: Uint8Array;
  private readonly rowBytes: number;
  private readonly offsets: number[];
  private readonly colourOffset: Record<PanelColour, number>;

  constructor(readonly t: LabelType) {
    this.planes = new Uint8Array(imageBytes(t));
    this.rowBytes = Math.ceil(t.width / 8);
    const size = planeBytes(t);
    const order = PALETTE_PLANES[t.palette];
    this.offsets = order.map((_, i) => i * size);
    const at = (c: 'black' | 'red' | 'yellow') => (order.includes(c) ? order.indexOf(c) * size : -1);
    this.colourOffset = { white: -2, black: at('black'), red: at('red'), yellow: at('yellow') };
  }

  /** Pixels [x0, x1) of row y in `colour`; clipped to the panel. */
  span(y: number, x0: number, x1: number, colour: PanelColour): void {
    if (y < 0 || y >= this.t.height) return;
    const a = Math.max(0, x0);
    const b = Math.min(this.t.width, x1);
    if (a >= b) return;
    const target = this.colourOffset[colour];
    if (target === -1) throw renderError('PLANES_INVALID', `colour ${colour} is not in palette ${this.t.palette}`);
    const row = y * this.rowBytes;
    for (const off of this.offsets) this.setBits(off + row, a, b, off === target);
  }

  fillRect(x: number, y: number, w: number, h: number, colour: PanelColour): void {
    const ya = Math.max(0, y);
    const yb = Math.min(this.t.height, y + h);
    for (let r = ya; r < yb; r++) this.span(r, x, x + w, colour);
  }

  private setBits(rowStart: number, a: number, b: number, on: boolean): void {
    const p = this.planes;
    const firstByte = a >> 3;
    const lastByte = (b - 1) >> 3;
    const headMask = 0xff >> (a & 7);
    const tailMask = (0xff << (7 - ((b - 1) & 7))) & 0xff;
    if (firstByte === lastByte) {
      const m = headMask & tailMask;
      const i = rowStart + firstByte;
      p[i] = on ? p[i]! | m : p[i]! & ~m;
      return;
    }
    const i0 = rowStart + firstByte;
    const i1 = rowStart + lastByte;
    p[i0] = on ? p[i0]! | headMask : p[i0]! & ~headMask;
    if (i1 > i0 + 1) p.fill(on ? 0xff : 0, i0 + 1, i1);
    p[i1] = on ? p[i1]! | tailMask : p[i1]! & ~tailMask;
  }
}
