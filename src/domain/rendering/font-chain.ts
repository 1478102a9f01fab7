/**
 * Which bundled font files make up each face, and the code-point rules of the fallback chain (D68–D70) — without
 * parsing a font. The renderer's fonts (fonts.ts, opentype.js and HarfBuzz) are built from this; so is the intake's
 * PrintableSet (printable-set.ts), which the edge's main thread reads without loading either parser (D136).
 */
import path from 'node:path';
import { z } from 'zod';
import { FONT_DIR } from './package-root.js';

export const FontIdSchema = z.enum(['sans', 'sans-bold', 'condensed', 'condensed-bold']);
export type FontId = z.infer<typeof FontIdSchema>;

/** How a fallback face's runs are shaped: right to left (Arabic, Hebrew) or left to right (CJK). */
export type FallbackKind = 'rtl' | 'cjk';

export interface FallbackSpec {
  file: string;
  kind: FallbackKind;
}

export const FONT_FILES: Readonly<Record<FontId, string>> = {
  sans: 'DejaVuSans.ttf',
  'sans-bold': 'DejaVuSans-Bold.ttf',
  condensed: 'DejaVuSansCondensed.ttf',
  'condensed-bold': 'DejaVuSansCondensed-Bold.ttf',
};

const ARABIC: FallbackSpec = { file: 'NotoSansArabic-Regular.ttf', kind: 'rtl' };
const ARABIC_BOLD: FallbackSpec = { file: 'NotoSansArabic-Bold.ttf', kind: 'rtl' };
const HEBREW: FallbackSpec = { file: 'NotoSansHebrew-Regular.ttf', kind: 'rtl' };
const HEBREW_BOLD: FallbackSpec = { file: 'NotoSansHebrew-Bold.ttf', kind: 'rtl' };
// One CJK weight only (D69): bold CJK closes up at label sizes and would double the largest file.
const CJK: FallbackSpec = { file: 'NotoSansCJKsc-Regular-subset.otf', kind: 'cjk' };
export const FALLBACK_FILES: Readonly<Record<FontId, readonly FallbackSpec[]>> = {
  sans: [ARABIC, HEBREW, CJK],
  'sans-bold': [ARABIC_BOLD, HEBREW_BOLD, CJK],
  condensed: [ARABIC, HEBREW, CJK],
  'condensed-bold': [ARABIC_BOLD, HEBREW_BOLD, CJK],
};

export interface FontChainFiles {
  primary: string;
  fallbacks: FallbackSpec[];
}

/** Each face's files in `dir`: its DejaVu file, then its fallback chain. */
export function fontChainFiles(dir: string = FONT_DIR): Record<FontId, FontChainFiles> {
  return Object.fromEntries(
    FontIdSchema.options.map((id) => [id, { primary: path.join(dir, FONT_FILES[id]), fallbacks: FALLBACK_FILES[id].map((f) => ({ file: path.join(dir, f.file), kind: f.kind })) }]),
  ) as Record<FontId, FontChainFiles>;
}

/**
 * Code points of right-to-left and joining scripts (Hebrew, Arabic, Syriac, Thaana, NKo, their presentation forms).
 * They are always set by a shaped fallback face, even where DejaVu has a glyph: DejaVu's isolated forms drawn left
 * to right would print an Arabic name unjoined and backwards.
 */
export function isRtlScript(cp: number): boolean {
  return (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfefe);
}

/** Explicit bidi formatting characters: refused in label text (they are invisible and reorder what is printed). */
export function isBidiControl(cp: number): boolean {
  return cp === 0x200e || cp === 0x200f || cp === 0x061c || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}
