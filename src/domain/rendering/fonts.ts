/**
 * The fonts labels are set in, parsed with opentype.js from label-templates/fonts/ (shipped with the project, so
 * measurement and rasterisation never depend on the host).
 *
 * Each face is DejaVu first — Latin, Latin Extended, Greek and Cyrillic, so German labels and their golden images
 * are unchanged — followed by a fallback chain of bundled Noto faces for Arabic, Hebrew and CJK (fallback-face.ts,
 * D68/D69). A fallback glyph is numbered (k + 1) × FALLBACK_GLYPH_BASE + its id in the k-th fallback face, and its
 * outline and advance are given in DejaVu's units: the layout, grid fitting, the glyph cache and painting treat it
 * like any other glyph.
 *
 * Text is measured with the fonts' own advance widths and GPOS kerning, in integer font units, and laid out by the
 * renderer itself; glyph outlines are then rasterised exactly where they were measured (glyph-raster-cache.ts). What
 * is measured is therefore what is drawn, to the pixel.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import opentype from 'opentype.js';
import { loadFallbackFace, type FallbackFace } from './fallback-face.js';
import { FALLBACK_FILES, FONT_FILES, FontIdSchema, isBidiControl, isRtlScript, type FallbackSpec, type FontId } from './font-chain.js';
import { FONT_DIR } from './package-root.js';

export { FontIdSchema, isRtlScript, type FontId } from './font-chain.js';

/** Glyph numbers at and above this belong to fallback faces (see the file comment). */
export const FALLBACK_GLYPH_BASE = 0x10000;

/** True for .notdef of any face in the chain: the empty box that must never reach a shelf. */
export function isNotdef(gi: number): boolean {
  return gi % FALLBACK_GLYPH_BASE === 0;
}

/** Bounding box of a glyph outline in font units, y up. */
export interface GlyphBounds {
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

/** An outline command in font units, y up (TrueType: lines and quadratic curves). */
export type OutlineCommand =
  | { type: 'M' | 'L'; x: number; y: number }
  | { type: 'Q'; x1: number; y1: number; x: number; y: number }
  | { type: 'C'; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
  | { type: 'Z' };

/** The part of opentype.js's GPOS API we use; the bundled typings predate it. */
interface GposKerning {
  getKerningTables(script: string, language?: string): unknown;
  getKerningValue(tables: unknown, left: number, right: number): number;
}

/** Characters whose extent defines a line's ascent and descent (German capitals with umlauts, descenders). */
const ASCENT_SAMPLE = 'ÄÖÜÀÉÂbdfhklt(|';
const DESCENT_SAMPLE = 'gjpqyÇ,;()|';
const DIGITS = '0123456789';

export class FontFace {
  readonly unitsPerEm: number;
  /** Highest point of ASCENT_SAMPLE, font units. */
  readonly ascent: number;
  /** Depth of DESCENT_SAMPLE below the baseline, font units (positive). */
  readonly descent: number;
  /** Top of the digits, font units: the price is aligned on it. */
  readonly digitTop: number;
  /** Top of "x", font units: small text is grid fitted on it (grid-fit.ts). */
  readonly xHeight: number;
  private readonly cmap = new Map<number, number>();
  private readonly advances = new Map<number, number>();
  private readonly bounds = new Map<number, GlyphBounds | null>();
  private readonly kerns = new Map<number, number>();
  private readonly kerningTables: unknown;

  private readonly fallbacks: (FallbackFace | undefined)[];

  constructor(
    readonly id: FontId,
    private readonly font: opentype.Font,
    private readonly fallbackSpecs: readonly FallbackSpec[] = [],
    private readonly fallbackDir: string = FONT_DIR,
  ) {
    this.fallbacks = fallbackSpecs.map(() => undefined);
    this.unitsPerEm = font.unitsPerEm;
    const gpos = (font as unknown as { position: GposKerning }).position;
    this.kerningTables = gpos.getKerningTables('latn');
    this.ascent = Math.max(...[...ASCENT_SAMPLE].map((c) => this.glyphBounds(this.glyphIndex(c.codePointAt(0)!))?.yMax ?? 0));
    this.descent = Math.max(...[...DESCENT_SAMPLE].map((c) => -(this.glyphBounds(this.glyphIndex(c.codePointAt(0)!))?.yMin ?? 0)));
    this.digitTop = Math.max(...[...DIGITS].map((c) => this.glyphBounds(this.glyphIndex(c.codePointAt(0)!))?.yMax ?? 0));
    this.xHeight = this.glyphBounds(this.glyphIndex(0x78))?.yMax ?? 0;
  }

  /** Glyph index for a code point; 0 (.notdef) when the font lacks it. */
  glyphIndex(codePoint: number): number {
    let gi = this.cmap.get(codePoint);
    if (gi === undefined) {
      gi = this.font.charToGlyphIndex(String.fromCodePoint(codePoint));
      this.cmap.set(codePoint, gi);
    }
    return gi;
  }

  /**
   * True when the chain can print the code point: DejaVu has it (outside the right-to-left scripts), or a fallback
   * face's cmap does. This is what the intake check calls supported (content-checks.ts).
   */
  hasGlyph(codePoint: number): boolean {
    if (isBidiControl(codePoint)) return false;
    if (!isRtlScript(codePoint) && this.glyphIndex(codePoint) !== 0) return true;
    return this.fallbackFor(codePoint) >= 0;
  }

  get fallbackCount(): number {
    return this.fallbackSpecs.length;
  }

  /** The k-th fallback face, parsed on first use. */
  fallback(k: number): FallbackFace {
    let f = this.fallbacks[k];
    if (!f) {
      f = loadFallbackFace(this.fallbackSpecs[k]!, this.fallbackDir);
      this.fallbacks[k] = f;
    }
    return f;
  }

  /** Index of the first fallback face that has the code point (right-to-left faces only for those scripts), or -1. */
  fallbackFor(codePoint: number): number {
    const rtl = isRtlScript(codePoint);
    for (let k = 0; k < this.fallbackSpecs.length; k++) {
      if (rtl !== (this.fallbackSpecs[k]!.kind === 'rtl')) continue;
      if (this.fallback(k).has(codePoint)) return k;
    }
    return -1;
  }

  /** The chain's glyph number of glyph `g` of fallback face k. */
  static fallbackGlyph(k: number, g: number): number {
    return (k + 1) * FALLBACK_GLYPH_BASE + g;
  }

  /** Fallback face index and its own glyph id of a chain glyph number, or null for a DejaVu glyph. */
  private split(gi: number): { fb: FallbackFace; g: number; scale: number } | null {
    if (gi < FALLBACK_GLYPH_BASE) return null;
    const fb = this.fallback(Math.floor(gi / FALLBACK_GLYPH_BASE) - 1);
    return { fb, g: gi % FALLBACK_GLYPH_BASE, scale: this.unitsPerEm / fb.unitsPerEm };
  }

  /**
   * Whether small sizes of this glyph are grid fitted (grid-fit.ts). CJK glyphs are not: their many stacked
   * horizontal strokes would each be pushed a pixel apart and the glyph would grow far beyond its em box.
   */
  gridFits(gi: number): boolean {
    const s = this.split(gi);
    return !s || s.fb.kind !== 'cjk';
  }

  /** Advance width in font units. */
  advance(gi: number): number {
    let a = this.advances.get(gi);
    if (a === undefined && gi >= FALLBACK_GLYPH_BASE) {
      const s = this.split(gi)!;
      a = s.fb.advance(s.g) * s.scale;
      this.advances.set(gi, a);
    }
    if (a === undefined) {
      a = this.font.glyphs.get(gi).advanceWidth ?? 0;
      this.advances.set(gi, a);
    }
    return a;
  }

  /** GPOS pair kerning in font units (DejaVu keeps its kerning in GPOS). */
  kerning(left: number, right: number): number {
    const key = left * 0x10000 + right;
    let k = this.kerns.get(key);
    if (k === undefined) {
      k = this.kerningTables ? (this.font as unknown as { position: GposKerning }).position.getKerningValue(this.kerningTables, left, right) : 0;
      this.kerns.set(key, k);
    }
    return k;
  }

  /** Outline bounds in font units; null for a glyph without ink (space). */
  glyphBounds(gi: number): GlyphBounds | null {
    let b = this.bounds.get(gi);
    if (b === undefined) {
      const cmds = this.outline(gi);
      if (cmds.length === 0) b = null;
      else if (gi >= FALLBACK_GLYPH_BASE) b = hullBounds(cmds);
      else {
        const bb = this.font.glyphs.get(gi).getBoundingBox();
        b = { xMin: bb.x1, yMin: bb.y1, xMax: bb.x2, yMax: bb.y2 };
      }
      this.bounds.set(gi, b);
    }
    return b;
  }

  /** Outline in font units, y up. */
  outline(gi: number): readonly OutlineCommand[] {
    const s = this.split(gi);
    if (!s) return this.font.glyphs.get(gi).path.commands as OutlineCommand[];
    let cmds = this.scaledOutlines.get(gi);
    if (!cmds) {
      cmds = scaleOutline(s.fb.outline(s.g), s.scale);
      this.scaledOutlines.set(gi, cmds);
    }
    return cmds;
  }

  private readonly scaledOutlines = new Map<number, readonly OutlineCommand[]>();
}

/**
 * A fallback outline in DejaVu's units, each coordinate rounded to 1/64 unit: an exact binary fraction, so at any
 * size it prints exactly into the glyph atlas and rasterises to the same bits wherever it lies (determinism,
 * glyph-raster-cache.ts); 1/64 unit is under 1/1000 px at the largest label text.
 */
function scaleOutline(cmds: readonly OutlineCommand[], scale: number): OutlineCommand[] {
  const k = (v: number) => Math.round(v * scale * 64) / 64;
  return cmds.map((c) => {
    switch (c.type) {
      case 'M':
      case 'L':
        return { type: c.type, x: k(c.x), y: k(c.y) };
      case 'Q':
        return { type: 'Q', x1: k(c.x1), y1: k(c.y1), x: k(c.x), y: k(c.y) };
      case 'C':
        return { type: 'C', x1: k(c.x1), y1: k(c.y1), x2: k(c.x2), y2: k(c.y2), x: k(c.x), y: k(c.y) };
      case 'Z':
        return c;
    }
  });
}

/**
 * Bounds of every on- and off-curve point: they contain the outline (a Bézier lies in its control hull), so every
 * pixel the raster sets lies inside (text-shaper.ts glyphPixelBounds).
 */
function hullBounds(cmds: readonly OutlineCommand[]): GlyphBounds | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const c of cmds) {
    if (c.type === 'Z') continue;
    xs.push(c.x);
    ys.push(c.y);
    if (c.type === 'Q' || c.type === 'C') {
      xs.push(c.x1);
      ys.push(c.y1);
    }
    if (c.type === 'C') {
      xs.push(c.x2);
      ys.push(c.y2);
    }
  }
  if (xs.length === 0) return null;
  return { xMin: Math.min(...xs), yMin: Math.min(...ys), xMax: Math.max(...xs), yMax: Math.max(...ys) };
}

const loaded = new Map<string, FontFace>();

/** Parses (once per process) and returns the face for a font id. */
export function loadFontFace(id: FontId, dir: string = FONT_DIR): FontFace {
  const file = path.join(dir, FONT_FILES[id]);
  let face = loaded.get(file);
  if (!face) {
    const buf = readFileSync(file);
    // lowMemory: glyphs are parsed when first used (a label needs a few dozen of each font's ~6,000), ~5× less heap.
    const font = opentype.parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), { lowMemory: true });
    face = new FontFace(id, font, FALLBACK_FILES[id], dir);
    loaded.set(file, face);
  }
  return face;
}

export type FontSet = Readonly<Record<FontId, FontFace>>;

export function loadFontSet(dir: string = FONT_DIR): FontSet {
  return Object.fromEntries(FontIdSchema.options.map((id) => [id, loadFontFace(id, dir)])) as Record<FontId, FontFace>;
}
