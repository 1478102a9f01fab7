/**
 * Template lengths → pixels for one label type. A length is a pixel count or a percentage of the panel's width
 * (x, w) or height (y, h). When both the position and the extent are percentages, the far edge is rounded from
 * their sum, so boxes that tile in percentages tile in pixels too (no gaps, no overlaps).
 */
import type { LabelType } from '#protocol';
import type { Length } from './template-schema.js';
import type { Rect } from './text-fit.js';

function pct(v: Length): number | undefined {
  return typeof v === 'string' ? Number.parseFloat(v) : undefined;
}

export function resolveLength(v: Length, total: number): number {
  const p = pct(v);
  return p === undefined ? (v as number) : Math.round((p * total) / 100);
}

function span(pos: Length, ext: Length, total: number): [number, number] {
  const start = resolveLength(pos, total);
  const pp = pct(pos);
  const pe = pct(ext);
  const end = pp !== undefined && pe !== undefined ? Math.round(((pp + pe) * total) / 100) : start + resolveLength(ext, total);
  return [start, end];
}

export function resolveBox(b: { x: Length; y: Length; w: Length; h: Length }, t: Pick<LabelType, 'width' | 'height'>): Rect {
  const [x0, x1] = span(b.x, b.w, t.width);
  const [y0, y1] = span(b.y, b.h, t.height);
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

export function resolvePoint(p: { x: Length; y: Length }, t: Pick<LabelType, 'width' | 'height'>): { x: number; y: number } {
  return { x: resolveLength(p.x, t.width), y: resolveLength(p.y, t.height) };
}

/** The rectangle a line element covers: from→to widened to `thickness` across its direction. */
export function lineRect(from: { x: number; y: number }, to: { x: number; y: number }, thickness: number): Rect | null {
  if (from.y === to.y) return { x: Math.min(from.x, to.x), y: from.y, w: Math.abs(to.x - from.x), h: thickness };
  if (from.x === to.x) return { x: from.x, y: Math.min(from.y, to.y), w: thickness, h: Math.abs(to.y - from.y) };
  return null;
}

export function insideRect(inner: Rect, outer: Rect): boolean {
  return inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.w <= outer.x + outer.w && inner.y + inner.h <= outer.y + outer.h;
}
