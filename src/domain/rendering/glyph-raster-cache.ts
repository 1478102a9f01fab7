/**
 * Glyph bitmaps, rasterised by sharp (librsvg) once per (font, size, glyph) and reused for every label.
 *
 * Missing glyphs are drawn together into one SVG atlas per batch, each at a whole-pixel origin, and cut out along
 * their integer outline bounds (text-shaper.ts glyphPixelBounds). The outline coordinates are exact binary fractions
 * (font units × size / 2048) printed exactly, so a glyph's bitmap does not depend on where in an atlas it was drawn
 * or which other glyphs were missing at the time: a label renders to the same bits from a cold or a warm cache.
 * Coverage is thresholded (about 40 %): crisp 1-bit strokes, no grey; any threshold above zero keeps every pixel
 * inside the outline bounds, and this one keeps thin strokes of small unhinted text from breaking up.
 */
import type { FontFace } from './fonts.js';
import { glyphAt, type PxCommand } from './grid-fit.js';
import sharp from './sharp.js';
import { glyphPixelBounds } from './text-shaper.js';

export interface GlyphMask {
  /** Offset of the bitmap from the glyph origin (y down). */
  l: number;
  t: number;
  w: number;
  h: number;
  /**
   * The ink as horizontal spans (painting is span filling): row r's spans are the pairs [start, end) of columns in
   * spans[rowStart[r] .. rowStart[r + 1]).
   */
  spans: Uint16Array;
  rowStart: Uint32Array;
}

/** Run-length form of a 1-bit mask (see GlyphMask.spans). */
export function maskSpans(bits: Uint8Array, w: number, h: number): { spans: Uint16Array; rowStart: Uint32Array } {
  const spans: number[] = [];
  const rowStart = new Uint32Array(h + 1);
  for (let r = 0; r < h; r++) {
    rowStart[r] = spans.length;
    let c = 0;
    while (c < w) {
      while (c < w && !bits[r * w + c]) c++;
      if (c >= w) break;
      const start = c;
      while (c < w && bits[r * w + c]) c++;
      spans.push(start, c);
    }
  }
  rowStart[h] = spans.length;
  return { spans: Uint16Array.from(spans), rowStart };
}

export interface GlyphRequest {
  face: FontFace;
  gi: number;
  size: number;
}

/**
 * Coverage (0–255) at or above which a pixel is ink: 100/255 ≈ 39 % of the pixel inside the outline. At 50 % the
 * hairlines of 8–11 px unhinted text ("i" dots, "€" bars, ":") drop out; lower, bold text clogs.
 */
export const COVERAGE_THRESHOLD = 100;
/**
 * At 12 px and below (grid fitted, grid-fit.ts) one third of a pixel is enough: hairlines (the bar of "e", the flag
 * of "1") keep a pixel, and the OCR reader's error rate on 2.13" and 1.54" labels drops (D45).
 */
export const SMALL_COVERAGE_THRESHOLD = 85;
const SMALL_TEXT_PX = 12;
const PAD = 2;
const ATLAS_WIDTH = 1024;

export function glyphKey(face: FontFace, gi: number, size: number): string {
  return `${face.id}/${size}/${gi}`;
}

function fmt(n: number): string {
  // Exact: n is a binary fraction with few bits; String() prints the shortest round-trip form, which is exact here.
  return Object.is(n, -0) ? '0' : String(n);
}

function pathData(cmds: readonly PxCommand[], ox: number, oy: number): string {
  const X = (x: number) => fmt(ox + x);
  const Y = (y: number) => fmt(oy + y);
  let d = '';
  for (const c of cmds) {
    switch (c.type) {
      case 'M':
      case 'L':
        d += `${c.type}${X(c.x)} ${Y(c.y)}`;
        break;
      case 'Q':
        d += `Q${X(c.x1)} ${Y(c.y1)} ${X(c.x)} ${Y(c.y)}`;
        break;
      case 'C':
        d += `C${X(c.x1)} ${Y(c.y1)} ${X(c.x2)} ${Y(c.y2)} ${X(c.x)} ${Y(c.y)}`;
        break;
      case 'Z':
        d += 'Z';
        break;
    }
  }
  return d;
}

export class GlyphRasterCache {
  private readonly masks = new Map<string, GlyphMask | null>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** Glyphs rasterised so far (for benchmarks and tests). */
  rasterised = 0;
  atlases = 0;

  constructor(private readonly maxEntries = 200_000) {}

  get size(): number {
    return this.masks.size;
  }

  /**
   * Returns the masks of all requested glyphs (null for glyphs without ink), rasterising the missing ones in one
   * atlas. The returned map holds its own references, so a concurrent eviction cannot take a mask away mid-paint.
   */
  async ensure(reqs: readonly GlyphRequest[]): Promise<Map<string, GlyphMask | null>> {
    const out = new Map<string, GlyphMask | null>();
    const missing = new Map<string, GlyphRequest>();
    const waits: Promise<void>[] = [];
    for (const r of reqs) {
      const key = glyphKey(r.face, r.gi, r.size);
      if (out.has(key) || missing.has(key)) continue;
      const m = this.masks.get(key);
      if (m !== undefined) out.set(key, m);
      else {
        const pending = this.inflight.get(key);
        if (pending) waits.push(pending);
        else missing.set(key, r);
      }
    }
    if (missing.size > 0) {
      const job = this.rasterise([...missing.entries()]);
      for (const key of missing.keys()) this.inflight.set(key, job);
      try {
        await job;
      } finally {
        for (const key of missing.keys()) this.inflight.delete(key);
      }
    }
    await Promise.all(waits);
    for (const r of reqs) {
      const key = glyphKey(r.face, r.gi, r.size);
      if (!out.has(key)) {
        const m = this.masks.get(key);
        if (m === undefined) throw new Error(`GLYPH_RASTER_MISSING: ${key}`);
        out.set(key, m);
      }
    }
    return out;
  }

  private store(key: string, mask: GlyphMask | null): void {
    if (this.masks.size >= this.maxEntries) this.masks.delete(this.masks.keys().next().value!);
    this.masks.set(key, mask);
  }

  private async rasterise(entries: [string, GlyphRequest][]): Promise<void> {
    interface Cell {
      key: string;
      req: GlyphRequest;
      l: number;
      t: number;
      w: number;
      h: number;
      cx: number;
      cy: number;
    }
    const cells: Cell[] = [];
    let x = 0;
    let y = 0;
    let rowH = 0;
    let atlasW = 0;
    for (const [key, req] of entries) {
      const b = glyphPixelBounds(req.face, req.gi, req.size);
      if (!b) {
        this.store(key, null);
        continue;
      }
      const w = b.r - b.l;
      const h = b.b - b.t;
      if (x > 0 && x + w + 2 * PAD > ATLAS_WIDTH) {
        x = 0;
        y += rowH;
        rowH = 0;
      }
      cells.push({ key, req, l: b.l, t: b.t, w, h, cx: x + PAD, cy: y + PAD });
      x += w + 2 * PAD;
      rowH = Math.max(rowH, h + 2 * PAD);
      atlasW = Math.max(atlasW, x);
    }
    if (cells.length === 0) return;
    const atlasH = y + rowH;
    const paths = cells.map((c) => `<path d="${pathData(glyphAt(c.req.face, c.req.gi, c.req.size).cmds, c.cx - c.l, c.cy - c.t)}"/>`);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${atlasW}" height="${atlasH}" viewBox="0 0 ${atlasW} ${atlasH}">${paths.join('')}</svg>`;
    const alpha = await sharp(Buffer.from(svg), { density: 72 }).extractChannel(3).raw().toBuffer();
    this.atlases++;
    for (const c of cells) {
      const threshold = c.req.size <= SMALL_TEXT_PX ? SMALL_COVERAGE_THRESHOLD : COVERAGE_THRESHOLD;
      const bits = new Uint8Array(c.w * c.h);
      for (let row = 0; row < c.h; row++) {
        const src = (c.cy + row) * atlasW + c.cx;
        for (let col = 0; col < c.w; col++) bits[row * c.w + col] = alpha[src + col]! >= threshold ? 1 : 0;
      }
      this.store(c.key, { l: c.l, t: c.t, w: c.w, h: c.h, ...maskSpans(bits, c.w, c.h) });
      this.rasterised++;
    }
  }
}
