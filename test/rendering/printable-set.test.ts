/**
 * D136: the intake's PrintableSet (label-templates/fonts/printable.json, the bundled fonts' cmaps as ranges) is what
 * the fonts say today, and answers exactly what the renderer's fonts answer (FontFace.hasGlyph on every face,
 * fallbacks read by HarfBuzz): a name the intake accepts is one the renderer can print, and one it refuses is one the
 * renderer would refuse.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as hb from 'harfbuzzjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fontChainFiles } from '../../src/domain/rendering/font-chain.js';
import { loadFontSet } from '../../src/domain/rendering/fonts.js';
import { FONT_DIR } from '../../src/domain/rendering/package-root.js';
import { buildPrintableFile, printableFileText } from '../../src/domain/rendering/printable-set-build.js';
import { PRINTABLE_FILE, PrintableFileSchema, PrintableSet, fontSetPrintable, loadPrintableSet } from '../../src/domain/rendering/printable-set.js';

describe('PrintableSet', () => {
  it('ranges: members, the code points either side of each range, and nothing else', () => {
    const s = PrintableSet.of([0x41, 0x42, 0x43, 0x61, 0x1f600]);
    expect(s.rangeCount).toBe(3);
    expect([0x40, 0x41, 0x43, 0x44, 0x60, 0x61, 0x62, 0x1f5ff, 0x1f600, 0x1f601].map((cp) => s.has(cp))).toEqual([false, true, true, false, false, true, false, false, true, false]);
    expect([...s.codePoints()]).toEqual([0x41, 0x42, 0x43, 0x61, 0x1f600]);
    expect(PrintableSet.of([]).has(0)).toBe(false);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 0x2ffff }), { maxLength: 200 }), fc.integer({ min: 0, max: 0x2ffff }), (cps, probe) => {
        const sorted = [...cps].sort((a, b) => a - b);
        const set = PrintableSet.of(sorted);
        expect(set.has(probe)).toBe(cps.includes(probe));
        expect(PrintableSet.fromFile({ fonts: {}, ranges: set.toRanges() }).has(probe)).toBe(cps.includes(probe));
      }),
    );
  });

  it('printable.json is what the bundled fonts say now (after a font change: npm run fonts:printable)', () => {
    const committed = readFileSync(path.join(FONT_DIR, PRINTABLE_FILE), 'utf8');
    const now = buildPrintableFile();
    expect(JSON.parse(committed).fonts, 'a font file changed since printable.json was written: npm run fonts:printable').toEqual(now.fonts);
    expect(committed).toBe(printableFileText(now));
    expect(PrintableFileSchema.parse(JSON.parse(committed)).ranges).toEqual(now.ranges);
  });

  it('the file refuses ranges that are not ascending pairs', () => {
    expect(PrintableFileSchema.safeParse({ fonts: {}, ranges: [5, 3] }).success).toBe(false);
    expect(PrintableFileSchema.safeParse({ fonts: {}, ranges: [1, 2, 3] }).success).toBe(false);
    expect(PrintableFileSchema.safeParse({ fonts: {}, ranges: [1, 2, 2, 4] }).success).toBe(false);
    expect(PrintableFileSchema.safeParse({ fonts: {}, ranges: [1, 2, 4, 9] }).success).toBe(true);
  });

  it('answers what the renderer fonts answer for every code point of every bundled cmap, their neighbours and a sample of the rest', () => {
    const printable = loadPrintableSet();
    const fonts = fontSetPrintable(loadFontSet());
    // The candidates come from HarfBuzz, not from opentype.js, which the file is built with.
    const files = new Set(Object.values(fontChainFiles()).flatMap((c) => [c.primary, ...c.fallbacks.map((f) => f.file)]));
    const probe = new Set<number>();
    for (const file of files) {
      for (const cp of new hb.Face(new hb.Blob(readFileSync(file)), 0).collectUnicodes()) {
        probe.add(cp);
        probe.add(cp + 1);
        if (cp > 0) probe.add(cp - 1);
      }
    }
    for (const cp of [0x200e, 0x202e, 0x2066, 0x061c, 0x0627, 0x05d0, 0x4e2d, 0x1f36b, 0xfffd, 0x10ffff]) probe.add(cp);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x10ffff }), (cp) => {
        probe.add(cp);
      }),
      { numRuns: 5_000, seed: 136 },
    );
    let members = 0;
    const differ: number[] = [];
    for (const cp of probe) {
      const want = fonts.has(cp);
      if (printable.has(cp) !== want) differ.push(cp);
      if (want) members++;
    }
    expect(differ).toEqual([]);
    // Both answers are non-trivial: Latin, Arabic, Hebrew and the CJK subset are in; bidi controls and emoji out.
    expect(members).toBeGreaterThan(10_000);
    expect([0x41, 0xe4, 0x20ac, 0x0627, 0x05d0, 0x4e2d].every((cp) => printable.has(cp))).toBe(true);
    expect([0x200e, 0x202e, 0x1f36b].some((cp) => printable.has(cp))).toBe(false);
    // ~5,900 ranges (the CJK subset is scattered): ~47 kB, against ~17 MB of parsed fonts (D136).
    expect(printable.rangeCount).toBeLessThan(8_000);
  });

  it('is read once per process and directory', () => {
    expect(loadPrintableSet()).toBe(loadPrintableSet());
  });
});
