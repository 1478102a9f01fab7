/**
 * Wraps and shrinks text to fit a box, measured on the real glyphs (text-shaper.ts).
 *
 * Lines break at spaces and after a hyphen or slash inside a word ("Bio-Vollmilch-" / "Joghurt"); no-break spaces
 * never break, nor does a number from its unit ("3,8 %", "500 g"). The largest size from max down to min at which a
 * wording fits in `maxLines` lines wins (at equal size, the earlier wording: the longer, fuller one). Text that is
 * not legally required (a product name) may then be broken inside a word (with a hyphen) and cut with "…" at the
 * minimum size; legally required text (prices, PAngV lines) never is: it goes on shrinking down to `floor`, and if it
 * still does not fit the caller refuses the layout. Nothing is ever drawn outside the box: a fit is accepted only
 * when the ink bounds of every glyph lie inside it.
 */
import type { FontFace } from './fonts.js';
import { isRtlParagraph } from './script-shaper.js';
import { runAt, type PlacedRun } from './text-shaper.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
export type Align = 'left' | 'center' | 'right';
export type VAlign = 'top' | 'middle' | 'bottom';

export interface FitRequest {
  face: FontFace;
  /** Wordings in order of preference, normalised (text-normalise.ts normaliseText). */
  candidates: readonly string[];
  sizeMax: number;
  sizeMin: number;
  /** Legally required text: shrink further down to this size, never truncate. Absent: truncate with "…". */
  floor?: number;
  maxLines: number;
  /**
   * size (default): the largest size any wording fits at wins, the earlier wording at equal size (equivalent
   * wordings, e.g. PAngV lines). wording: the first wording that fits at any size in the range wins (alternatives
   * that drop information, e.g. the name without the brand).
   */
  prefer?: 'size' | 'wording';
  /** Line advance as a multiple of the size. */
  lineHeight: number;
  box: Rect;
  align: Align;
  valign: VAlign;
}

export interface FittedLine {
  text: string;
  /** Absolute pixel x of the run origin and y of its baseline. */
  x: number;
  baseline: number;
  run: PlacedRun;
}

export interface FittedText {
  size: number;
  /** Index of the wording used. */
  candidate: number;
  lines: FittedLine[];
  /** Absolute ink rectangle; inside the box. */
  ink: Rect;
  truncated: boolean;
}

const ELLIPSIS = '…';

interface Seg {
  start: number;
  end: number;
}

/**
 * Words that stay on the line of the number before them ("3,8 %", "500 g", "10 Stück"), and words after which no
 * line may break ("à 100 g", "6 x 1,5 l").
 */
const UNIT_AFTER_NUMBER = /^(%|‰|€|°\S*|mg|g|kg|ml|cl|l|mm|cm|m|m²|m³|St\.?|Stk\.?|Stück|x|×)[,.;:)]*$/;
const GLUE_TO_NEXT = /^(à|a|x|×|je|ca\.)$/;

/** Han ideographs and Kana (BMP only: the bundled CJK subset has no astral characters). */
const CJK_BREAK = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/;

/** Break opportunities: at ordinary spaces (the space is dropped at a line end) and after "-" or "/" inside a word. */
function segments(text: string): Seg[] {
  const words: Seg[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ') {
      if (i > start) words.push({ start, end: i });
      start = i + 1;
    } else if ((c === '-' || c === '/') && i > start && i + 1 < text.length && text[i + 1] !== ' ') {
      words.push({ start, end: i + 1 });
      start = i + 1;
    } else if (c! >= '\u3040' && CJK_BREAK.test(c!) && i + 1 < text.length && CJK_BREAK.test(text[i + 1]!)) {
      // Between two Han or Kana characters a line may break without a space or hyphen (UAX #14, class ID; D68).
      words.push({ start, end: i + 1 });
      start = i + 1;
    }
  }
  if (start < text.length) words.push({ start, end: text.length });
  // Glue across spaces where a break would tear a quantity apart.
  const segs: Seg[] = [];
  for (const w of words) {
    const prev = segs[segs.length - 1];
    if (prev && text[prev.end] === ' ') {
      const before = text.slice(prev.start, prev.end);
      const word = text.slice(w.start, w.end);
      const lastWord = before.slice(before.lastIndexOf(' ') + 1);
      if ((/\d$/.test(before) && UNIT_AFTER_NUMBER.test(word)) || (GLUE_TO_NEXT.test(lastWord) && /^\d/.test(word))) {
        prev.end = w.end;
        continue;
      }
    }
    segs.push({ ...w });
  }
  return segs;
}

interface WrappedLine {
  text: string;
  /** Offset in the source text where the line starts (for truncation). */
  from: number;
}

function width(face: FontFace, s: string, size: number): number {
  const ink = runAt(face, s, size).ink;
  return ink ? ink.r - ink.l : 0;
}

/** Largest code-point prefix of text[start, end) that fits with a hyphen added, or 0. */
function forcedBreak(face: FontFace, text: string, start: number, end: number, size: number, w: number): number {
  let best = 0;
  let k = start;
  for (const ch of text.slice(start, end)) {
    k += ch.length;
    if (k >= end) break;
    const piece = text.slice(start, k);
    if (width(face, piece.endsWith('-') ? piece : `${piece}-`, size) <= w) best = k;
    else break;
  }
  return best;
}

/**
 * Greedy wrap. Returns null when a word is wider than the box and `forceBreak` is off, or when more than
 * `maxLines` lines would be needed and `maxLines` is finite.
 */
function wrap(face: FontFace, text: string, size: number, w: number, maxLines: number, forceBreak: boolean): WrappedLine[] | null {
  const segs = segments(text);
  const lines: WrappedLine[] = [];
  let i = 0;
  while (i < segs.length) {
    if (lines.length >= maxLines) return null;
    const first = segs[i]!;
    if (width(face, text.slice(first.start, first.end), size) > w) {
      if (!forceBreak) return null;
      const k = forcedBreak(face, text, first.start, first.end, size, w);
      if (k === 0) return null;
      const piece = text.slice(first.start, k);
      lines.push({ text: piece.endsWith('-') ? piece : `${piece}-`, from: first.start });
      segs[i] = { start: k, end: first.end };
      continue;
    }
    let j = i;
    while (j + 1 < segs.length && width(face, text.slice(first.start, segs[j + 1]!.end), size) <= w) j++;
    lines.push({ text: text.slice(first.start, segs[j]!.end), from: first.start });
    i = j + 1;
  }
  return lines;
}

/** Places lines in the box; null when they do not fit vertically or horizontally. */
function place(req: FitRequest, lineTexts: readonly string[], size: number): { lines: FittedLine[]; ink: Rect } | null {
  const { face, box } = req;
  const u = face.unitsPerEm;
  const ascent = Math.ceil((face.ascent * size) / u);
  const descent = Math.ceil((face.descent * size) / u);
  const advance = Math.max(1, Math.round(size * req.lineHeight));
  const runs = lineTexts.map((t) => runAt(face, t, size));
  if (runs.some((r) => r.ink && r.ink.r - r.ink.l > box.w)) return null;
  // Block extent relative to the first baseline: metric ascent/descent, widened by any ink that reaches further.
  let top = -ascent;
  let bottom = (runs.length - 1) * advance + descent;
  runs.forEach((r, i) => {
    if (!r.ink) return;
    top = Math.min(top, i * advance + r.ink.t);
    bottom = Math.max(bottom, i * advance + r.ink.b);
  });
  if (bottom - top > box.h) {
    // The metric line (the tallest German capitals and the deepest descenders) does not fit, but the text may: a
    // line without "Ä" or "g" is placed by its own ink (issue 12: a legible minimum size in a tight box).
    let it = Infinity;
    let ib = -Infinity;
    runs.forEach((r, i) => {
      if (!r.ink) return;
      it = Math.min(it, i * advance + r.ink.t);
      ib = Math.max(ib, i * advance + r.ink.b);
    });
    if (it === Infinity || ib - it > box.h) return null;
    top = it;
    bottom = ib;
  }
  const slack = box.h - (bottom - top);
  const firstBaseline = box.y - top + (req.valign === 'top' ? 0 : req.valign === 'middle' ? Math.floor(slack / 2) : slack);
  const lines: FittedLine[] = [];
  let ink: { l: number; t: number; r: number; b: number } | null = null;
  // "left" means the start of the line: a right-to-left paragraph (an Arabic name) starts at the right (D68).
  const align = req.align === 'left' && isRtlParagraph(lineTexts.join(' ')) ? 'right' : req.align;
  runs.forEach((run, i) => {
    const baseline = firstBaseline + i * advance;
    let x = box.x;
    if (run.ink) {
      const w = run.ink.r - run.ink.l;
      const left = align === 'left' ? box.x : align === 'right' ? box.x + box.w - w : box.x + Math.floor((box.w - w) / 2);
      x = left - run.ink.l;
      const l = x + run.ink.l;
      const r = x + run.ink.r;
      const t = baseline + run.ink.t;
      const b = baseline + run.ink.b;
      ink = ink ? { l: Math.min(ink.l, l), t: Math.min(ink.t, t), r: Math.max(ink.r, r), b: Math.max(ink.b, b) } : { l, t, r, b };
    }
    lines.push({ text: lineTexts[i]!, x, baseline, run });
  });
  const k = ink as { l: number; t: number; r: number; b: number } | null;
  return { lines, ink: k ? { x: k.l, y: k.t, w: k.r - k.l, h: k.b - k.t } : { x: box.x, y: box.y, w: 0, h: 0 } };
}

/** How many lines of `size` fit in the box height (metric extents). */
function linesThatFit(req: FitRequest, size: number): number {
  const u = req.face.unitsPerEm;
  const ascent = Math.ceil((req.face.ascent * size) / u);
  const descent = Math.ceil((req.face.descent * size) / u);
  const advance = Math.max(1, Math.round(size * req.lineHeight));
  // One line is always tried: place() accepts it if its ink fits even where the metric line does not.
  if (ascent + descent > req.box.h) return 1;
  return 1 + Math.floor((req.box.h - ascent - descent) / advance);
}

function tryFit(req: FitRequest, candidate: number, size: number): FittedText | null {
  const text = req.candidates[candidate]!;
  const n = Math.min(req.maxLines, linesThatFit(req, size));
  if (n === 0) return null;
  const wrapped = wrap(req.face, text, size, req.box.w, n, false);
  if (!wrapped) return null;
  const placed = place(
    req,
    wrapped.map((l) => l.text),
    size,
  );
  return placed ? { size, candidate, ...placed, truncated: false } : null;
}

/** Cuts the last (shortest) wording at the minimum size: whole lines first, then the rest on the last line with "…". */
function truncate(req: FitRequest): FittedText | null {
  const size = req.sizeMin;
  const candidate = req.candidates.length - 1;
  const text = req.candidates[candidate]!;
  const n = Math.min(req.maxLines, linesThatFit(req, size));
  if (n === 0) return null;
  const wrapped = wrap(req.face, text, size, req.box.w, Number.POSITIVE_INFINITY, true);
  if (!wrapped) return null;
  if (wrapped.length <= n) {
    // Fits once long words are broken: nothing is cut.
    const placed = place(
      req,
      wrapped.map((l) => l.text),
      size,
    );
    return placed ? { size, candidate, ...placed, truncated: false } : null;
  }
  const keep = wrapped.slice(0, n - 1).map((l) => l.text);
  const rest = [...text.slice(wrapped[n - 1]!.from)];
  const withEllipsis = (k: number) => `${rest.slice(0, k).join('').trimEnd()}${ELLIPSIS}`;
  const fits = (k: number) => width(req.face, withEllipsis(k), size) <= req.box.w;
  if (!fits(0)) return null;
  // Largest prefix (in code points) that fits with the ellipsis: binary search, the width grows with the prefix.
  let lo = 0;
  let hi = rest.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  keep.push(withEllipsis(lo));
  const placed = place(req, keep, size);
  return placed ? { size, candidate, ...placed, truncated: true } : null;
}

/**
 * Fits the wording that fits at the largest size; see the module comment for the order. Returns null when
 * nothing fits (legally required text at the floor, or a box too small for even one line).
 */
export function fitText(req: FitRequest): FittedText | null {
  if (req.prefer === 'wording') {
    for (let c = 0; c < req.candidates.length; c++) {
      for (let size = req.sizeMax; size >= req.sizeMin; size--) {
        const fit = tryFit(req, c, size);
        if (fit) return fit;
      }
    }
  } else {
    for (let size = req.sizeMax; size >= req.sizeMin; size--) {
      for (let c = 0; c < req.candidates.length; c++) {
        const fit = tryFit(req, c, size);
        if (fit) return fit;
      }
    }
  }
  if (req.floor !== undefined) {
    const last = req.candidates.length - 1;
    for (let size = req.sizeMin - 1; size >= req.floor; size--) {
      const fit = tryFit(req, last, size);
      if (fit) return fit;
    }
    return null;
  }
  return truncate(req);
}
