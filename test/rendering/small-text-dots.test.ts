/**
 * Issue 12: in small text (the grid-fitted sizes, 8–20 px) every i/j dot, umlaut dot, period, comma and colon dot
 * is drawn as a part that holds at least one fully set 2 × 2 pixel square, and a mark never touches the letter under
 * it (checked on the bitmaps the renderer paints, from the glyph raster cache).
 */
import { describe, expect, it } from 'vitest';
import { loadFontSet, FontIdSchema } from '../../src/domain/rendering/fonts.js';
import { GlyphRasterCache, glyphKey, type GlyphMask } from '../../src/domain/rendering/glyph-raster-cache.js';
import { GRID_FIT_MAX_PX } from '../../src/domain/rendering/grid-fit.js';

function bitmap(m: GlyphMask): boolean[][] {
  const rows: boolean[][] = [];
  for (let r = 0; r < m.h; r++) {
    const row = new Array<boolean>(m.w).fill(false);
    for (let k = m.rowStart[r]!; k < m.rowStart[r + 1]!; k += 2) for (let x = m.spans[k]!; x < m.spans[k + 1]!; x++) row[x] = true;
    rows.push(row);
  }
  return rows;
}

/** 8-connected components, each as a list of [row, col]. */
function components(b: boolean[][]): [number, number][][] {
  const seen = b.map((r) => r.map(() => false));
  const out: [number, number][][] = [];
  for (let r = 0; r < b.length; r++) {
    for (let c = 0; c < b[r]!.length; c++) {
      if (!b[r]![c] || seen[r]![c]) continue;
      const comp: [number, number][] = [];
      const stack: [number, number][] = [[r, c]];
      seen[r]![c] = true;
      while (stack.length > 0) {
        const [y, x] = stack.pop()!;
        comp.push([y, x]);
        for (let dy = -1; dy <= 1; dy++) {
          for (let dx = -1; dx <= 1; dx++) {
            const ny = y + dy;
            const nx = x + dx;
            if (b[ny]?.[nx] && !seen[ny]![nx]) {
              seen[ny]![nx] = true;
              stack.push([ny, nx]);
            }
          }
        }
      }
      out.push(comp);
    }
  }
  return out;
}

function hasSquare(b: boolean[][], comp: [number, number][]): boolean {
  return comp.some(([y, x]) => b[y]![x] && b[y]![x + 1] && b[y + 1]?.[x] && b[y + 1]?.[x + 1]);
}

/** Glyphs whose separate parts are dots, and how many parts each must show. */
const PARTS: Record<string, number> = { i: 2, j: 2, ä: 3, ö: 3, ü: 3, Ä: 3, Ö: 3, Ü: 3, '.': 1, ',': 1, ':': 2, ';': 2 };

describe('small text keeps its dots (issue 12)', () => {
  const fonts = loadFontSet();
  const cache = new GlyphRasterCache();
  for (const id of FontIdSchema.options) {
    it(`${id}: dots, umlauts, commas are ≥ 2 × 2 px and stand apart at 8–${GRID_FIT_MAX_PX} px`, async () => {
      const face = fonts[id];
      const bad: string[] = [];
      for (let size = 8; size <= GRID_FIT_MAX_PX; size++) {
        const reqs = Object.keys(PARTS).map((ch) => ({ face, gi: face.glyphIndex(ch.codePointAt(0)!), size }));
        const masks = await cache.ensure(reqs);
        for (const [ch, parts] of Object.entries(PARTS)) {
          const gi = face.glyphIndex(ch.codePointAt(0)!);
          const b = bitmap(masks.get(glyphKey(face, gi, size))!);
          const comps = components(b);
          // Fewer parts than the letter has would mean a dot merged into the letter or into the other dot.
          if (comps.length < parts) {
            bad.push(`${ch}@${size}px: ${comps.length} parts, expected ${parts}`);
            continue;
          }
          // Every dot-like part (all but the letter's body; the only part of "." and ",") holds a 2 × 2 square.
          const bottom = (c: [number, number][]) => Math.max(...c.map(([y]) => y));
          const low = Math.max(...comps.map(bottom));
          // The body is what reaches the lowest row (the stem of "i", the bowl of "ä"); marks sit above it.
          const small = parts === 1 ? comps : comps.filter((c) => bottom(c) < low - 2);
          for (const comp of small) if (!hasSquare(b, comp)) bad.push(`${ch}@${size}px: a ${comp.length}-pixel part without a 2×2 square`);
        }
      }
      expect(bad).toEqual([]);
    });
  }
});
