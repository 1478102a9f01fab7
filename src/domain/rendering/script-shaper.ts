/**
 * Shaping of text that DejaVu alone cannot set (issue 12, D68): right-to-left scripts (Arabic, Hebrew) and
 * characters only a fallback face has (CJK). Text that is DejaVu-only and left to right never comes here
 * (text-shaper.ts shapeText), so German labels are laid out exactly as before.
 *
 * 1. Bidi levels by the Unicode Bidirectional Algorithm (UAX #9, bidi-js), paragraph direction from the first
 *    strong character (rule P2/P3): an Arabic name is a right-to-left line, a Latin brand or a number inside it stays
 *    left to right.
 * 2. Items: runs of one level and one face. A right-to-left script letter always goes to its Noto face; a neutral
 *    (punctuation) inside a right-to-left run goes to that run's face when it has the glyph, so HarfBuzz mirrors
 *    and spaces it with the letters; spaces stay DejaVu's (joining never crosses a space, and small text keeps its
 *    minimum word space).
 * 3. Each item is shaped: fallback faces by HarfBuzz (joining forms, ligatures, marks, glyphs in visual order);
 *    DejaVu items by advances and kerning as before, reversed and mirrored (UAX #9 L4) when right to left.
 * 4. Items are reordered visually (UAX #9 L2: from the highest level down, reverse every run at that level or
 *    higher) and concatenated into one left-to-right glyph sequence.
 */
import bidiFactory from 'bidi-js';
import { FontFace, isRtlScript } from './fonts.js';
import type { ShapedText } from './text-shaper.js';

const bidi = bidiFactory();

interface Item {
  /** Logical start and end (code units) in the line. */
  start: number;
  end: number;
  level: number;
  /** Fallback face index, -1 for DejaVu. */
  k: number;
}

interface ShapedItem {
  level: number;
  glyphs: number[];
  advances: number[];
  dx: number[];
  dy: number[];
  /** A right-to-left fallback item: its glyphs join, so no tracking is put between them. */
  joins: boolean;
}

/** Fallback face (or -1) for each code point of `text`, indexed by code unit offset. */
function faceOf(face: FontFace, text: string, levels: Uint8Array): Map<number, number> {
  const out = new Map<number, number>();
  const neutrals: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    if (isRtlScript(cp)) out.set(i, face.fallbackFor(cp));
    else if ((levels[i]! & 1) === 1) neutrals.push(i);
    else out.set(i, face.glyphIndex(cp) !== 0 ? -1 : face.fallbackFor(cp));
    i += cp > 0xffff ? 2 : 1;
  }
  // A neutral in a right-to-left run takes the face of the nearest right-to-left letter of the same level before it
  // (else after it) when that face has it; otherwise DejaVu.
  for (const i of neutrals) {
    const cp = text.codePointAt(i)!;
    let k = -1;
    for (const dir of [-1, 1]) {
      for (let j = i + dir; j >= 0 && j < text.length && levels[j] === levels[i]; j += dir) {
        const kj = out.get(j);
        if (kj !== undefined && kj >= 0 && isRtlScript(text.codePointAt(j)!)) {
          k = kj;
          break;
        }
      }
      if (k >= 0) break;
    }
    // A space stays DejaVu's, so small text keeps its minimum word space (text-shaper.ts placeRun).
    out.set(i, cp !== 0x20 && k >= 0 && face.fallback(k).has(cp) ? k : face.glyphIndex(cp) !== 0 ? -1 : face.fallbackFor(cp));
  }
  return out;
}

function itemise(face: FontFace, text: string, levels: Uint8Array): Item[] {
  const faces = faceOf(face, text, levels);
  const items: Item[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    const k = faces.get(i)!;
    const level = levels[i]!;
    const last = items[items.length - 1];
    if (last && last.k === k && last.level === level) last.end = i + n;
    else items.push({ start: i, end: i + n, level, k });
    i += n;
  }
  return items;
}

function shapeDejaVu(face: FontFace, text: string, rtl: boolean): ShapedItem {
  let chars = [...text];
  // UAX #9 L4 (mirrored brackets) and L2 (reversal) for a right-to-left DejaVu item.
  if (rtl) chars = chars.map((c) => bidi.getMirroredCharacter(c) ?? c).reverse();
  const glyphs = chars.map((c) => face.glyphIndex(c.codePointAt(0)!));
  const advances = glyphs.map((gi, i) => {
    const next = glyphs[i + 1];
    return face.advance(gi) + (next !== undefined ? face.kerning(gi, next) : 0);
  });
  return { level: rtl ? 1 : 0, glyphs, advances, dx: glyphs.map(() => 0), dy: glyphs.map(() => 0), joins: false };
}

function shapeFallback(face: FontFace, k: number, text: string, rtl: boolean): ShapedItem {
  const fb = face.fallback(k);
  const run = fb.shape(text, rtl);
  const s = face.unitsPerEm / fb.unitsPerEm;
  return {
    level: rtl ? 1 : 0,
    glyphs: run.glyphs.map((g) => FontFace.fallbackGlyph(k, g)),
    advances: run.advances.map((a) => a * s),
    dx: run.dx.map((d) => d * s),
    dy: run.dy.map((d) => d * s),
    joins: rtl && fb.kind === 'rtl',
  };
}

/** UAX #9 L2 on items: from the highest level down to the lowest odd level, reverse each run at that level or higher. */
function visualOrder<T extends { level: number }>(items: T[]): T[] {
  const out = [...items];
  const max = Math.max(0, ...out.map((x) => x.level));
  const minOdd = Math.min(...out.map((x) => x.level).filter((l) => (l & 1) === 1), Infinity);
  for (let level = max; level >= minOdd; level--) {
    for (let i = 0; i < out.length; ) {
      if (out[i]!.level < level) {
        i++;
        continue;
      }
      let j = i;
      while (j < out.length && out[j]!.level >= level) j++;
      const rev = out.slice(i, j).reverse();
      out.splice(i, j - i, ...rev);
      i = j;
    }
  }
  return out;
}

/** True when the text's first strong character is right to left (UAX #9 P2/P3): an Arabic or Hebrew name. */
export function isRtlParagraph(text: string): boolean {
  for (const ch of text) {
    if (ch.codePointAt(0)! >= 0x0590) return bidi.getEmbeddingLevels(text).paragraphs[0]?.level === 1;
  }
  return false;
}

/** Shapes one line of text through the fallback chain and the bidi algorithm into left-to-right glyphs. */
export function shapeScripts(face: FontFace, text: string): ShapedText {
  const { levels } = bidi.getEmbeddingLevels(text);
  const shaped = itemise(face, text, levels).map((it) => {
    const piece = text.slice(it.start, it.end);
    const rtl = (it.level & 1) === 1;
    const si = it.k < 0 ? shapeDejaVu(face, piece, rtl) : shapeFallback(face, it.k, piece, rtl);
    return { ...si, level: it.level };
  });
  const glyphs: number[] = [];
  const pens: number[] = [];
  const dx: number[] = [];
  const dy: number[] = [];
  const joined: boolean[] = [];
  let pen = 0;
  for (const si of visualOrder(shaped)) {
    for (let i = 0; i < si.glyphs.length; i++) {
      glyphs.push(si.glyphs[i]!);
      pens.push(pen);
      dx.push(si.dx[i]!);
      dy.push(si.dy[i]!);
      joined.push(si.joins && i + 1 < si.glyphs.length);
      pen += si.advances[i]!;
    }
  }
  return { text, glyphs, pens, dx, dy, joined };
}
