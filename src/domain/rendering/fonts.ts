/**
 * The fonts labels are set in, parsed with opentype.js from label-templates/fonts/ (shipped with the project, so
 * measurement and rasterisation never depend on the host).
 *
 * Text is measured with the fonts' own advance widths and GPOS kerning, in integer font units, and laid out by the
 * renderer itself; glyph outlines are then rasterised exactly where they were measured (glyph-raster-cache.ts). What
 * is measured is therefore what is drawn, to the pixel.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import opentype from 'opentype.js';
import { z } from 'zod';
import { FONT_DIR } from './package-root.js';

export const FontIdSchema = z.enum(['sans', 'sans-bold', 'condensed', 'condensed-bold']);
export type FontId = z.infer<typeof FontIdSchema>;

const FONT_FILES: Record<FontId, string> = {
  sans: 'DejaVuSans.ttf',
  'sans-bold': 'DejaVuSans-Bold.ttf',
  condensed: 'DejaVuSansCondensed.ttf',
  'condensed-bold': 'DejaVuSansCondensed-Bold.ttf',
};

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

  constructor(
    readonly id: FontId,
    private readonly font: opentype.Font,
  ) {
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

  hasGlyph(codePoint: number): boolean {
    return this.glyphIndex(codePoint) !== 0;
  }

  /** Advance width in font units. */
  advance(gi: number): number {
    let a = this.advances.get(gi);
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
    return this.font.glyphs.get(gi).path.commands as OutlineCommand[];
  }
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
    face = new FontFace(id, font);
    loaded.set(file, face);
  }
  return face;
}

export type FontSet = Readonly<Record<FontId, FontFace>>;

export function loadFontSet(dir: string = FONT_DIR): FontSet {
  return Object.fromEntries(FontIdSchema.options.map((id) => [id, loadFontFace(id, dir)])) as Record<FontId, FontFace>;
}
