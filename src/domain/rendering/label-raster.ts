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
          const src = row * m.w;
          const dst = y * w;
          for (let col = 0; col < m.w; col++) {
            const x = x0 + col;
            if (m.bits[src + col] && x >= 0 && x < w) px[dst + x] = c;
          }
        }
      }
      return;
    }
  }
}

/** Rasterises missing glyphs (the only async step) and paints the layout. */
export async function rasterise(layout: LabelLayout, fonts: FontSet, cache: GlyphRasterCache): Promise<Uint8Array> {
  const { width: w, height: h } = layout.labelType;
  const masks = await cache.ensure(glyphRequests(fonts, layout));
  const px = new Uint8Array(w * h);
  for (const el of layout.elements) for (const op of el.ops) paintOp(px, w, h, op, fonts, masks);
  return px;
}
