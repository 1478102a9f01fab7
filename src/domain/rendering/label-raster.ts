/**
 * Paints a layout's draw operations into a pixel buffer of panel colour indices, exactly width × height. Glyphs come
 * from the glyph raster cache (1-bit already: text is thresholded, never dithered), fills and code modules are
 * whole-pixel rectangles. Later operations paint over earlier ones (template order).
 */
import type { GlyphMask, GlyphRequest, GlyphRasterCache } from './glyph-raster-cache.js';
import { glyphKey } from './glyph-raster-cache.js';
import type { FontSet } from './fonts.js';
import type { DrawOp, LabelLayout } from './label-layout.js';
import { COLOUR_INDEX } from './panel-colours.js';
import { packPlanes } from './planes.js';

export function glyphRequests(fonts: FontSet, layout: LabelLayout): GlyphRequest[] {
  const reqs: GlyphRequest[] = [];
  for (const el of layout.elements) {
    for (const op of el.ops) {
      if (op.op !== 'glyphs') continue;
      for (const g of op.glyphs) reqs.push({ face: fonts[op.font], gi: g.gi, size: op.size });
    }
  }
  return reqs;
}

function fill(px: Uint8Array, w: number, h: number, x0: number, y0: number, rw: number, rh: number, c: number): void {
  const xa = Math.max(0, x0);
  const xb = Math.min(w, x0 + rw);
  const ya = Math.max(0, y0);
  const yb = Math.min(h, y0 + rh);
  if (xa >= xb) return;
  for (let y = ya; y < yb; y++) px.fill(c, y * w + xa, y * w + xb);
}

function paintOp(px: Uint8Array, w: number, h: number, op: DrawOp, fonts: FontSet, masks: Map<string, GlyphMask | null>): void {
  switch (op.op) {
    case 'fill':
      fill(px, w, h, op.rect.x, op.rect.y, op.rect.w, op.rect.h, COLOUR_INDEX[op.colour]);
      return;
    case 'modules': {
      const c = COLOUR_INDEX[op.colour];
      for (let r = 0; r < op.rows; r++) {
        for (let k = 0; k < op.cols; k++) {
          if (op.bits[r * op.cols + k]) fill(px, w, h, op.x + k * op.moduleW, op.y + r * op.moduleH, op.moduleW, op.moduleH, c);
        }
      }
      return;
    }
    case 'glyphs': {
      const c = COLOUR_INDEX[op.colour];
      const face = fonts[op.font];
      for (const g of op.glyphs) {
        const m = masks.get(glyphKey(face, g.gi, op.size));
        if (!m) continue;
        const x0 = g.x + m.l;
        const y0 = g.y + m.t;
        for (let row = 0; row < m.h; row++) {
          const y = y0 + row;
          if (y < 0 || y >= h) continue;
          const dst = y * w;
          for (let k = m.rowStart[row]!; k < m.rowStart[row + 1]!; k += 2) {
            const a = Math.max(0, x0 + m.spans[k]!);
            const b = Math.min(w, x0 + m.spans[k + 1]!);
            if (a < b) px.fill(c, dst + a, dst + b);
          }
        }
      }
      return;
    }
  }
}

/** Paints the layout's operations, in order, into `px` (width × height colour indices, cleared first). */
export function paint(layout: LabelLayout, fonts: FontSet, masks: Map<string, GlyphMask | null>, px: Uint8Array): void {
  const { width: w, height: h } = layout.labelType;
  px.fill(0);
  for (const el of layout.elements) for (const op of el.ops) paintOp(px, w, h, op, fonts, masks);
}

/** One scratch pixel buffer per panel size: painting and packing run synchronously, so it is never shared mid-use. */
const scratch = new Map<number, Uint8Array>();

/**
 * Rasterises missing glyphs (the only async step), then paints the layout and packs it into planes (§6.1) in one
 * synchronous step.
 */
export async function renderPlanes(layout: LabelLayout, fonts: FontSet, cache: GlyphRasterCache): Promise<Uint8Array> {
  const t = layout.labelType;
  const masks = await cache.ensure(glyphRequests(fonts, layout));
  const n = t.width * t.height;
  let px = scratch.get(n);
  if (!px) {
    px = new Uint8Array(n);
    scratch.set(n, px);
  }
  paint(layout, fonts, masks, px);
  return packPlanes(px, t);
}
