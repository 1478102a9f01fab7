/**
 * What the bundled fonts can print, as code-point ranges (D48, D136): the intake's check without the fonts.
 *
 * An event's printed text is refused at intake when some face's chain lacks a character (content-plausibility.ts).
 * The edge's main thread used to answer that with the parsed fonts (FontFace.hasGlyph): ~17 MB of heap kept for the
 * daemon's life only to read cmaps, and the font parsers loaded beside them, while the fonts are used in the render
 * workers. The same answer is ~5,900 ranges (47 kB), kept next to the fonts in `printable.json` and derived from
 * them by `npm run fonts:printable` (printable-set-build.ts); test/rendering/printable-set.test.ts fails when the
 * file no longer matches the fonts, and checks that it answers exactly what the renderer's fonts answer.
 *
 * A code point is printable in a face when FontFace.hasGlyph says so: not a bidi control, and DejaVu maps it (outside
 * the right-to-left scripts) or a fallback face of the right direction does. It is printable when every face can
 * print it, since a template may set any field in any face.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { FontSet } from './fonts.js';
import { FONT_DIR } from './package-root.js';

/** What the content checks ask (content-checks.ts): can every face print this code point? */
export interface Printable {
  has(codePoint: number): boolean;
}

/** The check the renderer makes with the fonts it holds anyway. */
export function fontSetPrintable(fonts: FontSet): Printable {
  const faces = Object.values(fonts);
  return { has: (cp) => faces.every((f) => f.hasGlyph(cp)) };
}

/** The file next to the fonts. */
export const PRINTABLE_FILE = 'printable.json';

/** `fonts`: sha256 of each font file it was derived from; `ranges`: start, end (exclusive), start, end, …, ascending. */
export const PrintableFileSchema = z
  .object({
    fonts: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
    ranges: z.array(z.number().int().min(0).max(0x110000)),
  })
  .refine((f) => f.ranges.length % 2 === 0 && f.ranges.every((v, i) => i === 0 || v > f.ranges[i - 1]!), { message: 'ranges must be ascending, disjoint [start, end) pairs' });
export type PrintableFile = z.infer<typeof PrintableFileSchema>;

export class PrintableSet implements Printable {
  /** [start, end) pairs, ascending and disjoint, not adjacent. */
  private constructor(private readonly ranges: Uint32Array) {}

  /** The set of the sorted, distinct code points given. */
  static of(sorted: readonly number[]): PrintableSet {
    const out: number[] = [];
    for (const cp of sorted) {
      if (out.length > 0 && out[out.length - 1] === cp) out[out.length - 1] = cp + 1;
      else out.push(cp, cp + 1);
    }
    return new PrintableSet(Uint32Array.from(out));
  }

  static fromFile(f: PrintableFile): PrintableSet {
    return new PrintableSet(Uint32Array.from(f.ranges));
  }

  has(codePoint: number): boolean {
    const r = this.ranges;
    let lo = 0;
    let hi = r.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (codePoint < r[2 * mid]!) hi = mid;
      else if (codePoint >= r[2 * mid + 1]!) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** How many ranges (8 bytes of memory each). */
  get rangeCount(): number {
    return this.ranges.length / 2;
  }

  /** The ranges as the file holds them. */
  toRanges(): number[] {
    return [...this.ranges];
  }

  /** Every code point in the set, ascending. */
  *codePoints(): Generator<number> {
    for (let i = 0; i < this.ranges.length; i += 2) for (let cp = this.ranges[i]!; cp < this.ranges[i + 1]!; cp++) yield cp;
  }
}

/**
 * Read once per directory and process: the set is immutable and derived from files shipped with the project, as
 * fonts.ts's faces are.
 */
const sets = new Map<string, PrintableSet>();

export function loadPrintableSet(dir: string = FONT_DIR): PrintableSet {
  let s = sets.get(dir);
  if (!s) {
    const file = path.join(dir, PRINTABLE_FILE);
    sets.set(dir, (s = PrintableSet.fromFile(PrintableFileSchema.parse(JSON.parse(readFileSync(file, 'utf8'))))));
  }
  return s;
}
