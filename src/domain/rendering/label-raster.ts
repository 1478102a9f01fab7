/**
 * Paints a layout's draw operations into the colour planes, exactly width × height (plane-canvas.ts). Glyphs come
 * from the glyph raster cache (1-bit already: text is thresholded, never dithered), fills and code modules are
 * whole-pixel rectangles. Later operations paint over earlier ones (template order).
 */
import type { GlyphMask, GlyphRequest, GlyphRasterCache } from './glyph-raster-cache.js';
import { glyphKey } from './glyph-raster-cache.js';
import type { FontSet } from './fonts.js';
import type { DrawOp, LabelLayout } from './label-layout.js';
import { PlaneCanvas } from './plane-canvas.js';

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

function paintOp(canvas: PlaneCanvas, op: DrawOp, fonts: FontSet, masks: Map<string, GlyphMask | null>): void {
  switch (op.op) {
    case 'fill':
      canvas.fillRect(op.rect.x, op.rect.y, op.rect.w, op.rect.h, op.colour);
      return;
    case 'modules':
      for (let r = 0; r < op.rows; r++) {
        for (let k = 0; k < op.cols; k++) {
          if (!op.bits[r * op.cols + k]) continue;
          // A run of dark modules is one span per pixel row.
          let e = k + 1;
          while (e < op.cols && op.bits[r * op.cols + e]) e++;
          canvas.fillRect(op.x + k * op.moduleW, op.y + r * op.moduleH, (e - k) * op.moduleW, op.moduleH, op.colour);
          k = e - 1;
        }
      }
      return;
    case 'glyphs': {
      const face = fonts[op.font];
      for (const g of op.glyphs) {
        const m = masks.get(glyphKey(face, g.gi, op.size));
        if (!m) continue;
        const x0 = g.x + m.l;
        const y0 = g.y + m.t;
        for (let row = 0; row < m.h; row++) {
          for (let k = m.rowStart[row]!; k < m.rowStart[row + 1]!; k += 2) canvas.span(y0 + row, x0 + m.spans[k]!, x0 + m.spans[k + 1]!, op.colour);
        }
      }
      return;
    }
  }
}

/** Paints the layout's operations, in template order, into fresh planes. */
export function paint(layout: LabelLayout, fonts: FontSet, masks: Map<string, GlyphMask | null>): Uint8Array {
  const canvas = new PlaneCanvas(layout.labelType);
  for (const el of layout.elements) for (const op of el.ops) paintOp(canvas, op, fonts, masks);
  return canvas.planes;
}

/** Rasterises missing glyphs (the only async step), then paints the layout into planes (§6.1). */
export async function renderPlanes(layout: LabelLayout, fonts: FontSet, cache: GlyphRasterCache): Promise<Uint8Array> {
  const masks = await cache.ensure(glyphRequests(fonts, layout));
  return paint(layout, fonts, masks);
}
