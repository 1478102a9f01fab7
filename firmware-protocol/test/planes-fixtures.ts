/** Test helpers: label-like planes (white with filled rectangles, as text and price blocks render). */
import fc from 'fast-check';
import { expect } from 'vitest';
import { PALETTE_PLANES, imageBytes, planeBytes, type LabelType } from '../src/index.js';

export interface Rect {
  plane: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export function setPixel(planes: Uint8Array, t: LabelType, plane: number, x: number, y: number, on = true): void {
  const i = plane * planeBytes(t) + y * Math.ceil(t.width / 8) + (x >> 3);
  if (on) planes[i]! |= 0x80 >> (x & 7);
  else planes[i]! &= ~(0x80 >> (x & 7));
}

export function draw(t: LabelType, rects: readonly Rect[], into = new Uint8Array(imageBytes(t))): Uint8Array {
  for (const r of rects) {
    for (let y = r.y; y < Math.min(t.height, r.y + r.h); y++) {
      for (let x = r.x; x < Math.min(t.width, r.x + r.w); x++) setPixel(into, t, r.plane, x, y);
    }
  }
  return into;
}

export const rectArb = (t: LabelType, maxSize = 40): fc.Arbitrary<Rect> =>
  fc.record({
    plane: fc.integer({ min: 0, max: PALETTE_PLANES[t.palette].length - 1 }),
    x: fc.integer({ min: 0, max: t.width - 1 }),
    y: fc.integer({ min: 0, max: t.height - 1 }),
    w: fc.integer({ min: 1, max: maxSize }),
    h: fc.integer({ min: 1, max: maxSize }),
  });

/** Structured (rectangles) or random planes of label type t. */
export const planesArb = (t: LabelType): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(rectArb(t), { maxLength: 12 }).map((rs) => draw(t, rs)) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: imageBytes(t), maxLength: imageBytes(t) }) },
  );

/**
 * Byte-array equality that stays fast on 100 kB images (toEqual walks typed arrays element by element) and
 * still says where they differ.
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (actual.length === expected.length && Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.length))) return;
  let i = 0;
  while (i < Math.min(actual.length, expected.length) && actual[i] === expected[i]) i++;
  expect({ length: actual.length, firstDifference: i, value: actual[i] }).toEqual({ length: expected.length, firstDifference: i, value: expected[i] });
}
