/**
 * Grid fitting for small text (issue 12, D45): glyph outlines placed on the pixel grid before they are rasterised,
 * so that what makes a letter a letter survives 1-bit rendering at 8–20 px.
 *
 * Unhinted outlines at these sizes lose exactly the small parts a reader needs: the dot of an i merges into the stem
 * ("Tiefstpreis" read as "Tlefstprels"), umlaut dots fuse into a bar ("ä" as "ā"), a comma shrinks to one pixel and
 * reads as a period. DejaVu's TrueType hinting instructions would fix this, but running a bytecode interpreter is a
 * large dependency for what three rules achieve here, measured by an OCR reader (docs/decisions.md D45):
 *
 * 1. x-height snap: y is scaled so that the x-height lands on a whole pixel (lower-case tops and stems end on a
 *    pixel edge instead of smearing half a row).
 * 2. Marks (contours lying wholly above the body of the glyph: i/j dots, umlauts, the upper dot of ":") are snapped
 *    to a whole-pixel box of at least 2 × 2 px, with one clear row between them and the body and one clear column
 *    between two marks.
 * 3. Dots and commas (any other contour under 3 px wide, about as tall as wide or taller, and short: ".", ",", ";",
 *    quotes; not a hyphen, not a stem) are snapped to a whole-pixel box at least 2 px wide and
 *    2 px tall (a comma 3 px, so that it stays unlike a period).
 *
 * D71 added, measured with the same reader: one stem width per size (two edges a stem apart are one stroke, centred),
 * the outermost of close edges kept and no edge inside a stroke, the ascender a row above the capitals, and a "1"
 * without a foot whose flag is a staircase of whole pixels. D83: an "l" with a tail at its foot, and parentheses
 * drawn from the plain outline.
 *
 * A whole-pixel box of ≥ 2 × 2 px is covered far above the raster's coverage threshold (glyph-raster-cache.ts), so
 * these parts are always drawn at ≥ 2 × 2 px. Coordinates are quantised to 1/256 px: exact binary fractions, so a
 * glyph rasterises to the same bits wherever it lies in an atlas (determinism). Above GRID_FIT_MAX_PX the outline is
 * only scaled: large text has enough pixels.
 */
import type { FontFace, OutlineCommand } from './fonts.js';

/** Largest pixel size that is grid fitted. */
export const GRID_FIT_MAX_PX = 20;
/** Smallest extent (px) of a mark, dot or comma drawn by a fitted glyph. */
export const MIN_DOT_PX = 2;

/** An outline command in pixels relative to the glyph origin, y down. */
export type PxCommand =
  | { type: 'M' | 'L'; x: number; y: number }
  | { type: 'Q'; x1: number; y1: number; x: number; y: number }
  | { type: 'C'; x1: number; y1: number; x2: number; y2: number; x: number; y: number }
  | { type: 'Z' };

export interface PxBounds {
  l: number;
  t: number;
  r: number;
  b: number;
}

export interface FittedGlyph {
  cmds: readonly PxCommand[];
  /** Integer pixel bounds (y down) containing every pixel the outline can set; null without ink. */
  bounds: PxBounds | null;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const Q = 256;
const quant = (v: number) => Math.round(v * Q) / Q;

/** Splits an outline into closed contours. */
function contours(cmds: readonly OutlineCommand[]): OutlineCommand[][] {
  const out: OutlineCommand[][] = [];
  let cur: OutlineCommand[] = [];
  for (const c of cmds) {
    if (c.type === 'M' && cur.length > 0) {
      out.push(cur);
      cur = [];
    }
    cur.push(c);
    if (c.type === 'Z') {
      out.push(cur);
      cur = [];
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Exact extent of a contour (quadratic extrema included; cubic by its control hull, which contains it). */
function extent(cmds: readonly OutlineCommand[]): Box | null {
  let b: Box | null = null;
  const add = (x: number, y: number) => {
    if (!b) b = { x0: x, y0: y, x1: x, y1: y };
    else {
      b.x0 = Math.min(b.x0, x);
      b.x1 = Math.max(b.x1, x);
      b.y0 = Math.min(b.y0, y);
      b.y1 = Math.max(b.y1, y);
    }
  };
  let px = 0;
  let py = 0;
  for (const c of cmds) {
    switch (c.type) {
      case 'M':
      case 'L':
        add(c.x, c.y);
        px = c.x;
        py = c.y;
        break;
      case 'Q': {
        add(c.x, c.y);
        for (const [p0, p1, p2, axis] of [
          [px, c.x1, c.x, 0],
          [py, c.y1, c.y, 1],
        ] as const) {
          const den = p0 - 2 * p1 + p2;
          if (den === 0) continue;
          const t = (p0 - p1) / den;
          if (t <= 0 || t >= 1) continue;
          const v = (1 - t) * (1 - t) * p0 + 2 * (1 - t) * t * p1 + t * t * p2;
          const other = axis === 0 ? (1 - t) * (1 - t) * py + 2 * (1 - t) * t * c.y1 + t * t * c.y : (1 - t) * (1 - t) * px + 2 * (1 - t) * t * c.x1 + t * t * c.x;
          if (axis === 0) add(v, other);
          else add(other, v);
        }
        px = c.x;
        py = c.y;
        break;
      }
      case 'C':
        add(c.x1, c.y1);
        add(c.x2, c.y2);
        add(c.x, c.y);
        px = c.x;
        py = c.y;
        break;
      case 'Z':
        break;
    }
  }
  return b;
}

/** Maps a contour (font units, y up) into pixels (y down) by per-axis affine maps. */
function mapContour(cmds: readonly OutlineCommand[], fx: (x: number) => number, fy: (y: number) => number): PxCommand[] {
  return cmds.map((c): PxCommand => {
    switch (c.type) {
      case 'M':
      case 'L':
        return { type: c.type, x: quant(fx(c.x)), y: quant(fy(c.y)) };
      case 'Q':
        return { type: 'Q', x1: quant(fx(c.x1)), y1: quant(fy(c.y1)), x: quant(fx(c.x)), y: quant(fy(c.y)) };
      case 'C':
        return { type: 'C', x1: quant(fx(c.x1)), y1: quant(fy(c.y1)), x2: quant(fx(c.x2)), y2: quant(fy(c.y2)), x: quant(fx(c.x)), y: quant(fy(c.y)) };
      case 'Z':
        return { type: 'Z' };
    }
  });
}

function pxBounds(cmds: readonly PxCommand[]): PxBounds | null {
  let l = Infinity;
  let t = Infinity;
  let r = -Infinity;
  let b = -Infinity;
  for (const c of cmds) {
    if (c.type === 'Z') continue;
    const pts: [number, number][] = [[c.x, c.y]];
    if (c.type === 'Q') pts.push([c.x1, c.y1]);
    if (c.type === 'C') pts.push([c.x1, c.y1], [c.x2, c.y2]);
    for (const [x, y] of pts) {
      l = Math.min(l, x);
      r = Math.max(r, x);
      t = Math.min(t, y);
      b = Math.max(b, y);
    }
  }
  if (l === Infinity) return null;
  const out = { l: Math.floor(l), t: Math.floor(t), r: Math.ceil(r), b: Math.ceil(b) };
  return out.r > out.l && out.b > out.t ? out : null;
}

/** A whole-pixel span of at least `min` px centred where the original was (x or y, pixel units). */
function snapSpan(a: number, b: number, min: number): [number, number] {
  const n = Math.max(min, Math.round(b - a));
  const start = Math.round((a + b) / 2 - n / 2);
  return [start, start + n];
}

function plainGlyph(face: FontFace, gi: number, size: number): FittedGlyph {
  const u = face.unitsPerEm;
  const cmds = mapContour(
    face.outline(gi),
    (x) => (x * size) / u,
    (y) => (-y * size) / u,
  );
  const gb = face.glyphBounds(gi);
  if (!gb) return { cmds, bounds: null };
  const bounds = { l: Math.floor((gb.xMin * size) / u), r: Math.ceil((gb.xMax * size) / u), t: Math.floor((-gb.yMax * size) / u), b: Math.ceil((-gb.yMin * size) / u) };
  return { cmds, bounds: bounds.r > bounds.l && bounds.b > bounds.t ? bounds : null };
}

function fitGlyph(face: FontFace, gi: number, size: number): FittedGlyph {
  const s = size / face.unitsPerEm;
  const xh = face.xHeight;
  // 1. Stem and zone edges on pixel edges: each axis is mapped by a monotone piecewise-linear function that sends
  //    every edge (vertical stem sides and round extremes for x; baseline, x-height, cap height, bars for y) to a
  //    whole pixel and interpolates the points between (like TrueType's IUP, per glyph).
  const one = gi === face.glyphIndex(0x31) ? digitOne(face.outline(gi)) : null;
  const outline = one ? one.outline : face.outline(gi);
  const parts = contours(outline)
    .map((c) => ({ cmds: c, box: extent(c) }))
    .filter((p): p is { cmds: OutlineCommand[]; box: Box } => p.box !== null && p.box.x1 > p.box.x0 && p.box.y1 > p.box.y0);
  // (Zero-area contours, which DejaVu has in some accented letters, draw nothing and are dropped.)
  if (parts.length === 0) return { cmds: [], bounds: null };
  // Body: contours that start in the lower half of the x-height (or below the baseline); marks lie wholly above them.
  const body = parts.filter((p) => p.box.y0 < xh / 2);
  const bodyTop = body.length > 0 ? Math.max(...body.map((p) => p.box.y1)) : Infinity;
  // Edges come from the letter without its marks: the dots of "Ä" must not pull the cap height around.
  const letter = parts.filter((p) => !(body.length > 0 && p.box.y0 >= bodyTop)).flatMap((p) => p.cmds);
  const X = axisMap(edges(letter, 'x', face.unitsPerEm), s, 1, undefined, zones(face).stem);
  const Y = axisMap(edges(letter, 'y', face.unitsPerEm), s, -1, yTarget(face, s));
  const bodyTopRow = Math.round(Y(bodyTop));
  const out: PxCommand[] = [];
  const marks: { cmds: OutlineCommand[]; box: Box; px: [number, number]; py: [number, number] }[] = [];
  for (const p of parts) {
    // Classified and boxed by the outline's own extent (edge snapping may stretch a 1.7 px comma to 2.5 px).
    const wx = (p.box.x1 - p.box.x0) * s;
    const hy = (p.box.y1 - p.box.y0) * s;
    // A contour inside another one's extent is a counter (the eye of "e"): it keeps its shape.
    const counter = parts.some((o) => o !== p && o.box.x0 <= p.box.x0 && o.box.x1 >= p.box.x1 && o.box.y0 <= p.box.y0 && o.box.y1 >= p.box.y1);
    const isMark = !counter && body.length > 0 && p.box.y0 >= bodyTop && hy < size * 0.3;
    const isDot = !counter && !isMark && wx < MIN_DOT_PX * 1.5 && hy >= 0.6 * wx && Math.max(wx, hy) < size * 0.45;
    if (!isMark && !isDot) {
      out.push(...mapContour(p.cmds, X, Y));
      continue;
    }
    const px = snapSpan(p.box.x0 * s, p.box.x1 * s, MIN_DOT_PX);
    // A comma (a dot with a tail below the baseline) keeps one more row than a period, so the two stay apart.
    let py = snapSpan(-p.box.y1 * s, -p.box.y0 * s, isDot && p.box.y0 < 0 ? MIN_DOT_PX + 1 : MIN_DOT_PX);
    if (isMark && py[1] > bodyTopRow - 1) {
      // One clear row between a mark and the body below it.
      const d = py[1] - (bodyTopRow - 1);
      py = [py[0] - d, py[1] - d];
    }
    if (isMark) marks.push({ cmds: p.cmds, box: p.box, px, py });
    else out.push(...boxed(p.cmds, p.box, px, py, s));
  }
  // One clear column between marks side by side (the two dots of an umlaut).
  marks.sort((a, b) => a.px[0] - b.px[0]);
  for (let i = 1; i < marks.length; i++) {
    const prev = marks[i - 1]!;
    const m = marks[i]!;
    const overlapY = m.py[0] < prev.py[1] && prev.py[0] < m.py[1];
    if (overlapY && m.px[0] < prev.px[1] + 1) {
      const d = prev.px[1] + 1 - m.px[0];
      m.px = [m.px[0] + d, m.px[1] + d];
    }
  }
  for (const m of marks) out.push(...boxed(m.cmds, m.box, m.px, m.py, s));
  if (one) out.push(...flagSteps(out, X(one.stemL), Y(one.top)));
  if (gi === face.glyphIndex(0x6c)) out.push(...tailOfL(face, gi, out, size));
  return { cmds: out, bounds: pxBounds(out) };
}

interface Zones {
  cap: number;
  asc: number;
  /** Width of a vertical stem (the "l"), font units. */
  stem: number;
}
const zoneCache = new WeakMap<FontFace, Zones>();
function zones(face: FontFace): Zones {
  let z = zoneCache.get(face);
  if (!z) {
    const top = (ch: string) => face.glyphBounds(face.glyphIndex(ch.codePointAt(0)!))?.yMax ?? 0;
    const l = face.glyphBounds(face.glyphIndex(0x6c));
    z = { cap: top('H'), asc: top('l'), stem: l ? l.xMax - l.xMin : 0 };
    zoneCache.set(face, z);
  }
  return z;
}

/**
 * Pixel targets of the vertical zones (D71): the ascender of b, d, h, k, l lies at least one row above the cap
 * height. DejaVu's ascender is 4 % of the em above its capitals, which rounds onto the same row below 13 px, so "l",
 * "I" and "|" were one bar of the same height ("1 l" read "1 |", "Il" read "ll"): with the extra row a lower-case l
 * stands above the digits and capitals beside it, as it does in print.
 */
function yTarget(face: FontFace, s: number): (e: number) => number {
  const z = zones(face);
  const capPx = Math.round(z.cap * s);
  return (e) => {
    const d = Math.round(e * s);
    return z.asc > z.cap && Math.abs(e - z.asc) < face.unitsPerEm / 200 ? Math.max(d, capPx + 1) : d;
  };
}

/**
 * The digit one, redrawn for 8–20 px (D71). DejaVu's flag drops only 0.12 em from the top of the stem: at these sizes
 * one pixel row, so with its foot the digit was a stem with a one-pixel nub and a base — the shape of a serif "l" or
 * a dotless "ı" ("1 kg" read "lkg", "ıkg"). Here the foot is taken into the stem (the "1" of most sans faces at text
 * sizes) and the flag is taken out of the outline (its tip moved onto the top of the stem); flagSteps() then draws it
 * as a staircase of whole pixels going down to the left, a quarter of the digit's height (at least two steps).
 */
function digitOne(outline: readonly OutlineCommand[]): { outline: OutlineCommand[]; stemL: number; top: number } | null {
  const pts = outline.filter((c): c is OutlineCommand & { x: number; y: number } => c.type === 'M' || c.type === 'L');
  // DejaVu's "1" (all four faces) is one polygon of twelve points; anything else is left as it is.
  if (pts.length !== outline.length - 1 || pts.length !== 12) return null;
  const top = Math.max(...pts.map((p) => p.y));
  const minX = Math.min(...pts.map((p) => p.x));
  const stemR = Math.max(...pts.filter((p) => p.y === top).map((p) => p.x));
  const footTop = Math.min(...pts.filter((p) => p.y > 0).map((p) => p.y));
  // The stem's left side: the point between the foot and the top that is not the flag's tip.
  const stemL = Math.min(...pts.filter((p) => p.x > minX && p.y > footTop && p.y < top).map((p) => p.x));
  if (!Number.isFinite(stemL) || stemL >= stemR || pts.filter((p) => p.x === minX).length !== 2) return null;
  const out = outline.map((c) => {
    if (c.type !== 'M' && c.type !== 'L') return c;
    if (c.x === minX || (c.y === top && c.x < stemR)) return { ...c, x: stemL, y: top };
    if (c.y <= footTop && c.x < stemL) return { ...c, x: stemL };
    if (c.y <= footTop && c.x > stemR) return { ...c, x: stemR };
    return c;
  });
  return { outline: out, stemL, top };
}

/** Twice the signed area of an outline's polygon (its on-curve points): the sign is its winding. */
function windingOf(body: readonly PxCommand[]): number {
  let area = 0;
  let px = 0;
  let py = 0;
  let sx = 0;
  let sy = 0;
  for (const c of body) {
    if (c.type === 'Z') continue;
    if (c.type === 'M') {
      area += px * sy - sx * py;
      sx = c.x;
      sy = c.y;
      px = c.x;
      py = c.y;
      continue;
    }
    area += px * c.y - c.x * py;
    px = c.x;
    py = c.y;
  }
  return area + px * sy - sx * py;
}

/** Whole-pixel squares (top-left corners), wound like the outline they join (nonzero fill: a union). */
function pixelSquares(body: readonly PxCommand[], cells: readonly [number, number][]): PxCommand[] {
  const area = windingOf(body);
  const out: PxCommand[] = [];
  for (const [x0, y0] of cells) {
    const sq: [number, number][] = area > 0 ? [[x0, y0], [x0 + 1, y0], [x0 + 1, y0 + 1], [x0, y0 + 1]] : [[x0, y0], [x0, y0 + 1], [x0 + 1, y0 + 1], [x0 + 1, y0]];
    out.push({ type: 'M', x: sq[0]![0], y: sq[0]![1] }, ...sq.slice(1).map(([x, y]): PxCommand => ({ type: 'L', x, y })), { type: 'Z' });
  }
  return out;
}

/** The flag of "1" as whole-pixel squares: a staircase going down to the left from the top of the stem. */
function flagSteps(body: readonly PxCommand[], stemLeftPx: number, topPx: number): PxCommand[] {
  const height = -topPx;
  const steps = Math.max(2, Math.round(height / 4));
  const l = Math.round(stemLeftPx);
  const t = Math.round(topPx);
  const cells: [number, number][] = [];
  for (let k = 1; k <= steps; k++) cells.push([l - k, t + k]);
  return pixelSquares(body, cells);
}

/**
 * The tail of a lower-case l at 8–20 px (D83). DejaVu's "l" is a bare bar, the shape of "I", "|" and — with D71's
 * footless "1" — nearly of the digit: the reader took the l of litre for any of them on every label type ("0,75 l"
 * read "0,75 |", "1 l = 2,52 €" read "11= 2,52 €"). A tail turning right at the foot (a pixel long up to 14 px, two
 * above) is how faces made for legibility tell l from I and 1 (Source Sans, Atkinson Hyperlegible). It is drawn only
 * as far as the glyph's advance (rounded) reaches, so the side bearing of the next letter keeps them apart: where the
 * advance is too narrow (8 px, condensed 8–9 px, some sizes where the stem is 2 px) the "ll" of "Vollmilch" would
 * join at the foot, and the l stays a bar.
 */
function tailOfL(face: FontFace, gi: number, body: readonly PxCommand[], size: number): PxCommand[] {
  const b = pxBounds(body);
  if (!b) return [];
  const advance = Math.floor((face.advance(gi) * size) / face.unitsPerEm + 0.5);
  const len = Math.min(Math.max(1, Math.round(size / 10)), advance - b.r);
  const cells: [number, number][] = [];
  for (let k = 0; k < len; k++) cells.push([b.r + k, b.b - 1]);
  return pixelSquares(body, cells);
}

/**
 * Edge coordinates of an outline along one axis (font units): on-curve points whose neighbour in the contour lies on
 * the same x (for 'x': a vertical stem side or the extreme of a bowl) or the same y (for 'y').
 */
function edges(cmds: readonly OutlineCommand[], axis: 'x' | 'y', unitsPerEm: number): number[] {
  const tol = unitsPerEm / 1000;
  const minRun = unitsPerEm / 100;
  const found = new Set<number>();
  for (const contour of contours(cmds)) {
    const pts: { x: number; y: number; on: boolean }[] = [];
    for (const c of contour) {
      if (c.type === 'Q') pts.push({ x: c.x1, y: c.y1, on: false });
      if (c.type === 'C') pts.push({ x: c.x1, y: c.y1, on: false }, { x: c.x2, y: c.y2, on: false });
      if (c.type !== 'Z') pts.push({ x: c.x, y: c.y, on: true });
    }
    const n = pts.length;
    for (let i = 0; i < n; i++) {
      const p = pts[i]!;
      if (!p.on) continue;
      for (const q of [pts[(i + n - 1) % n]!, pts[(i + 1) % n]!]) {
        const along = axis === 'x' ? Math.abs(q.x - p.x) : Math.abs(q.y - p.y);
        const across = axis === 'x' ? Math.abs(q.y - p.y) : Math.abs(q.x - p.x);
        if (along <= tol && across >= minRun) found.add(axis === 'x' ? p.x : p.y);
      }
    }
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Monotone piecewise-linear map font units → pixels (dir -1: y up → y down) that puts every edge on a whole pixel.
 * Edges closer than half a pixel share one; edges further apart stay at least one pixel apart (no stem vanishes).
 */
/**
 * Edges closer than half a pixel become one. The one kept is the outermost of the group on its side of the glyph
 * (D71): the silhouette decides how a letter reads, so the right side of the bowl of "6" wins over the end of its
 * upper stroke just inside it (keeping the first of the two had left the bowl a pixel too wide and its counter
 * filled: "6" read "&" and "5").
 */
function mergeClose(es: readonly number[], s: number): number[] {
  if (es.length === 0) return [];
  const mid = (es[0]! + es[es.length - 1]!) / 2;
  const out: number[] = [];
  let group: number[] = [];
  const flush = () => {
    if (group.length === 0) return;
    const mean = group.reduce((a, b) => a + b, 0) / group.length;
    out.push(mean > mid ? group[group.length - 1]! : group[0]!);
    group = [];
  };
  for (const e of es) {
    if (group.length > 0 && (e - group[0]!) * s >= 0.5) flush();
    group.push(e);
  }
  flush();
  return out;
}

/**
 * An edge between the two sides of a stroke (the end of the upper stroke of "6" inside the right side of its bowl)
 * is dropped: otherwise it claims a pixel of its own and the stroke is drawn a pixel too thick (D71).
 */
function dropInsideStems(es: readonly number[], stem: number): number[] {
  if (stem <= 0) return [...es];
  const out: number[] = [];
  for (let i = 0; i < es.length; i++) {
    const prev = out[out.length - 1];
    const next = es[i + 1];
    if (prev !== undefined && next !== undefined && next - prev > 0.7 * stem && next - prev < 1.35 * stem) continue;
    out.push(es[i]!);
  }
  return out;
}

function axisMap(es: readonly number[], s: number, dir: 1 | -1, target: (e: number) => number = (e) => Math.round(e * s), stem = 0): (v: number) => number {
  const src: number[] = [];
  const dst: number[] = [];
  const stemPx = Math.max(1, Math.round(stem * s));
  for (const e of dropInsideStems(mergeClose(es, s), stem)) {
    let d = target(e);
    const last = src.length - 1;
    if (last >= 0) {
      // Two edges a stem's width apart are the sides of one stroke: it gets the font's stem width in whole pixels,
      // so every stem of a size has the same weight wherever the glyph's stems fall on the grid (D71).
      // The stroke is centred where it was (rounding only its left side shifted it by up to half a pixel).
      const gap = e - src[last]!;
      if (stem > 0 && gap > 0.7 * stem && gap < 1.35 * stem) {
        let left = Math.round(((src[last]! + e) / 2) * s - stemPx / 2);
        if (last >= 1) left = Math.max(left, dst[last - 1]! + 1);
        dst[last] = left;
        d = left + stemPx;
      }
      if (d <= dst[last]!) d = dst[last]! + 1;
    }
    src.push(e);
    dst.push(d);
  }
  if (src.length === 0) return (v) => dir * v * s;
  return (v) => {
    let out: number;
    if (v <= src[0]!) out = dst[0]! + (v - src[0]!) * s;
    else if (v >= src[src.length - 1]!) out = dst[dst.length - 1]! + (v - src[src.length - 1]!) * s;
    else {
      let i = 1;
      while (src[i]! < v) i++;
      const a = src[i - 1]!;
      const b = src[i]!;
      out = dst[i - 1]! + ((v - a) / (b - a)) * (dst[i]! - dst[i - 1]!);
    }
    return dir * out;
  };
}

/** Maps a contour's extent onto the whole-pixel box px × py (font-unit y up → pixel y down). */
function boxed(cmds: readonly OutlineCommand[], box: Box, px: [number, number], py: [number, number], s: number): PxCommand[] {
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const fx = w > 0 ? (x: number) => px[0] + ((x - box.x0) / w) * (px[1] - px[0]) : (x: number) => x * s;
  const fy = h > 0 ? (y: number) => py[0] + ((box.y1 - y) / h) * (py[1] - py[0]) : (y: number) => -y * s;
  return mapContour(cmds, fx, fy);
}

/**
 * Parentheses are drawn from the plain outline (D83): fitting put the extreme of the curve and both ends on whole
 * pixels, which made the middle a straight bar with a kink above and below — a brace ("(1 kg" read "{1 kg", "l (" read
 * "It"). Nothing in them is a dot or a stem the fitting would save.
 */
function isParenthesis(face: FontFace, gi: number): boolean {
  return gi === face.glyphIndex(0x28) || gi === face.glyphIndex(0x29);
}

const fittedCache = new WeakMap<FontFace, Map<number, FittedGlyph>>();

/** The outline of glyph `gi` at `size` px as drawn (grid fitted at small sizes), and its pixel bounds. */
export function glyphAt(face: FontFace, gi: number, size: number): FittedGlyph {
  let cache = fittedCache.get(face);
  if (!cache) {
    cache = new Map();
    fittedCache.set(face, cache);
  }
  // gi may number a fallback face's glyph (≥ 2^16, fonts.ts), so the size goes in the low bits.
  const key = gi * 0x400 + size;
  let g = cache.get(key);
  if (!g) {
    g = size <= GRID_FIT_MAX_PX && face.gridFits(gi) && !isParenthesis(face, gi) ? fitGlyph(face, gi, size) : plainGlyph(face, gi, size);
    cache.set(key, g);
  }
  return g;
}
