/**
 * The price as the dominant element: large euros with the comma ("1,"), the cents smaller and raised to the top of
 * the digits, the "€" as small as the cents under them on the baseline. Sized to the largest that fits the box.
 */
import { euroParts } from '../pricing/price-format.js';
import type { FontFace } from './fonts.js';
import type { Align, Rect, VAlign } from './text-fit.js';
import { runAt, type PlacedRun } from './text-shaper.js';

export interface PlacedText {
  text: string;
  size: number;
  /** Absolute origin x and baseline y. */
  x: number;
  baseline: number;
  run: PlacedRun;
}

export interface FittedPrice {
  size: number;
  parts: PlacedText[];
  ink: Rect;
}

interface Part {
  text: string;
  size: number;
  dx: number;
  dy: number;
  run: PlacedRun;
}

/** Parts relative to the euros' origin, or null when the cents and "€" cannot be stacked at this size. */
function compose(face: FontFace, cents: number, size: number): { parts: Part[]; l: number; t: number; r: number; b: number } | null {
  const p = euroParts(cents);
  const big = runAt(face, `${p.sign}${p.euros},`, size);
  if (!big.ink) return null;
  const gap = Math.max(1, Math.round(size * 0.05));
  const vgap = Math.max(1, Math.round(size * 0.04));
  for (let small = Math.round(size * 0.5); small >= Math.max(1, Math.ceil(size * 0.3)); small--) {
    const c = runAt(face, p.cents, small);
    const e = runAt(face, '€', small);
    if (!c.ink || !e.ink) return null;
    const col = big.ink.r + gap;
    const centsBase = big.ink.t - c.ink.t; // cents' top on the digits' top
    if (centsBase + c.ink.b + vgap > e.ink.t) continue; // would touch the "€" below
    const parts: Part[] = [
      { text: `${p.sign}${p.euros},`, size, dx: 0, dy: 0, run: big },
      { text: p.cents, size: small, dx: col - c.ink.l, dy: centsBase, run: c },
      { text: '€', size: small, dx: col - e.ink.l, dy: 0, run: e },
    ];
    return {
      parts,
      l: big.ink.l,
      t: Math.min(big.ink.t, centsBase + c.ink.t),
      r: Math.max(col + (c.ink.r - c.ink.l), col + (e.ink.r - e.ink.l)),
      b: Math.max(big.ink.b, e.ink.b, centsBase + c.ink.b),
    };
  }
  return null;
}

/** Largest split price from sizeMax down to `floor` that fits; null if none does. */
export function fitSplitPrice(face: FontFace, cents: number, box: Rect, sizeMax: number, floor: number, align: Align, valign: VAlign): FittedPrice | null {
  for (let size = sizeMax; size >= floor; size--) {
    const c = compose(face, cents, size);
    if (!c) continue;
    const w = c.r - c.l;
    const h = c.b - c.t;
    if (w > box.w || h > box.h) continue;
    const left = align === 'left' ? box.x : align === 'right' ? box.x + box.w - w : box.x + Math.floor((box.w - w) / 2);
    const top = valign === 'top' ? box.y : valign === 'bottom' ? box.y + box.h - h : box.y + Math.floor((box.h - h) / 2);
    const ox = left - c.l;
    const oy = top - c.t;
    return {
      size,
      parts: c.parts.map((p) => ({ text: p.text, size: p.size, x: ox + p.dx, baseline: oy + p.dy, run: p.run })),
      ink: { x: left, y: top, w, h },
    };
  }
  return null;
}
