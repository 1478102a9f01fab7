/**
 * Turns a string into positioned glyphs: advance widths plus GPOS pair kerning, in integer font units, then scaled to
 * a pixel size with every glyph origin rounded to a whole pixel. Whole-pixel origins make every occurrence of a
 * glyph at a size the same bitmap (so it is rasterised once and reused) and keep 1-bit text even; the rounding error
 * stays below half a pixel per glyph and never accumulates, because positions are rounded from the exact pen.
 *
 * The ink of a glyph lies within its outline bounds; with any coverage threshold above zero
 * (glyph-raster-cache.ts) a pixel can only be set where the outline covers it, so the integer bounds computed here
 * contain every pixel the glyph will ever set. Layout checks fit against these bounds, which is why nothing drawn
 * can overflow its box.
 */
import { isRtlScript, type FontFace } from './fonts.js';
import { GRID_FIT_MAX_PX, glyphAt } from './grid-fit.js';
import { shapeScripts } from './script-shaper.js';

export interface ShapedText {
  readonly text: string;
  readonly glyphs: readonly number[];
  /** Pen position of each glyph's origin, font units. */
  readonly pens: readonly number[];
  /**
   * Set only for text shaped through the fallback chain (script-shaper.ts): each glyph's offset from its pen, font
   * units, y up (marks placed by HarfBuzz), and whether it is joined to the next glyph (Arabic: its advance gets no
   * tracking and is chained in whole pixels, so a rounding never opens a gap in the joining stroke).
   */
  readonly dx?: readonly number[];
  readonly dy?: readonly number[];
  readonly joined?: readonly boolean[];
}

/** Integer pixel bounds, y down: columns [l, r), rows [t, b). */
export interface PixelBounds {
  l: number;
  t: number;
  r: number;
  b: number;
}

export interface PlacedGlyph {
  gi: number;
  /** Pixel x of the glyph origin, relative to the run's origin. */
  x: number;
  /** Pixel y of the glyph origin relative to the baseline, y down (a mark placed by the shaper); absent: 0. */
  y?: number;
}

export interface PlacedRun {
  glyphs: PlacedGlyph[];
  /** Ink bounds relative to the run's origin (baseline at y = 0); null when the run has no ink. */
  ink: PixelBounds | null;
}

// Shapes repeat within one layout (the same lines measured at successive sizes), rarely across labels: kept small.
const SHAPE_CACHE_LIMIT = 1_000;
const shapeCaches = new WeakMap<FontFace, Map<string, ShapedText>>();

export function shapeText(face: FontFace, text: string): ShapedText {
  let cache = shapeCaches.get(face);
  if (!cache) {
    cache = new Map();
    shapeCaches.set(face, cache);
  }
  const hit = cache.get(text);
  if (hit) return hit;
  if (needsScriptShaping(face, text)) {
    const shaped = shapeScripts(face, text);
    if (cache.size >= SHAPE_CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(text, shaped);
    return shaped;
  }
  const glyphs: number[] = [];
  for (const ch of text) glyphs.push(face.glyphIndex(ch.codePointAt(0)!));
  const pens: number[] = [];
  let pen = 0;
  for (let i = 0; i < glyphs.length; i++) {
    pens.push(pen);
    const gi = glyphs[i]!;
    pen += face.advance(gi);
    const next = glyphs[i + 1];
    if (next !== undefined) pen += face.kerning(gi, next);
  }
  const shaped: ShapedText = { text, glyphs, pens };
  if (cache.size >= SHAPE_CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(text, shaped);
  return shaped;
}

/** Text with a right-to-left letter or a character DejaVu lacks goes through the fallback chain and the shaper. */
function needsScriptShaping(face: FontFace, text: string): boolean {
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x0590 && (isRtlScript(cp) || face.glyphIndex(cp) === 0)) return true;
  }
  return false;
}

/** Pixel bounds of one glyph at `size` px, relative to its (whole-pixel) origin; null when it has no ink. */
export function glyphPixelBounds(face: FontFace, gi: number, size: number): PixelBounds | null {
  // The outline as drawn: grid fitted at small sizes (grid-fit.ts), so bounds and bitmap always agree.
  return glyphAt(face, gi, size).bounds;
}

/**
 * Small text is set slightly loose (D45, measured with the OCR reader): each advance is rounded up from +0.3 px
 * rather than to nearest, and a word space is at least 0.45 em, so letters do not touch and words stay apart at
 * 1 bit per pixel.
 */
const SMALL_TRACKING_PX = 0.3;
const SMALL_WORD_SPACE_EM = 0.45;
function isSpace(face: FontFace, gi: number): boolean {
  return gi === face.glyphIndex(0x20) || gi === face.glyphIndex(0xa0) || gi === face.glyphIndex(0x202f);
}

export function placeRun(face: FontFace, shaped: ShapedText, size: number): PlacedRun {
  const u = face.unitsPerEm;
  const glyphs: PlacedGlyph[] = [];
  let ink: PixelBounds | null = null;
  // Small text: every advance (kerning kept) rounded to whole pixels on its own, so equal letter pairs are always
  // the same distance apart ("Ta ge" no longer happens); larger text: positions rounded from the exact pen.
  const integerAdvances = size <= GRID_FIT_MAX_PX;
  const joined = shaped.joined;
  let pen = 0;
  for (let i = 0; i < shaped.glyphs.length; i++) {
    const gi = shaped.glyphs[i]!;
    let x: number;
    if (integerAdvances) {
      x = pen;
      const next = shaped.pens[i + 1];
      if (next !== undefined) {
        const adv = Math.round(((next - shaped.pens[i]!) * size) / u + (joined?.[i] ? 0 : SMALL_TRACKING_PX));
        pen += isSpace(face, gi) ? Math.max(adv, Math.ceil(size * SMALL_WORD_SPACE_EM)) : adv;
      }
    } else if (joined?.[i - 1]) {
      // Chained from the glyph it joins (whole-pixel advance): the joining stroke meets within half a pixel.
      x = pen + Math.round(((shaped.pens[i]! - shaped.pens[i - 1]!) * size) / u);
    } else x = Math.round((shaped.pens[i]! * size) / u);
    if (!integerAdvances) pen = x;
    const y = shaped.dy ? -Math.round((shaped.dy[i]! * size) / u) : 0;
    const gx = shaped.dx ? x + Math.round((shaped.dx[i]! * size) / u) : x;
    glyphs.push(y !== 0 ? { gi, x: gx, y } : { gi, x: gx });
    const g = glyphPixelBounds(face, gi, size);
    if (!g) continue;
    if (!ink) ink = { l: gx + g.l, t: y + g.t, r: gx + g.r, b: y + g.b };
    else {
      ink.l = Math.min(ink.l, gx + g.l);
      ink.r = Math.max(ink.r, gx + g.r);
      ink.t = Math.min(ink.t, y + g.t);
      ink.b = Math.max(ink.b, y + g.b);
    }
  }
  return { glyphs, ink };
}

/** Shapes and places `text` at `size` px. */
export function runAt(face: FontFace, text: string, size: number): PlacedRun {
  return placeRun(face, shapeText(face, text), size);
}

/** Ink width in pixels of `text` at `size` (0 for no ink). */
export function inkWidth(face: FontFace, text: string, size: number): number {
  const ink = runAt(face, text, size).ink;
  return ink ? ink.r - ink.l : 0;
}
