/**
 * Derives `printable.json` from the bundled fonts' cmaps (D136; printable-set.ts says why the intake reads ranges).
 * Run by `npm run fonts:printable` after a font changes, and by test/rendering/printable-set.test.ts, which fails
 * when the committed file differs. The cmaps are read with opentype.js, the renderer's parser; HarfBuzz, which shapes
 * the fallback faces, reads the same sets (the test compares the two).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import opentype from 'opentype.js';
import { fontChainFiles, isBidiControl, isRtlScript } from './font-chain.js';
import { FONT_DIR } from './package-root.js';
import { PrintableSet, type PrintableFile } from './printable-set.js';

export function buildPrintableFile(dir: string = FONT_DIR): PrintableFile {
  const cmaps = new Map<string, ReadonlySet<number>>();
  const fonts: Record<string, string> = {};
  const cmap = (file: string): ReadonlySet<number> => {
    let s = cmaps.get(file);
    if (!s) {
      const buf = readFileSync(file);
      fonts[path.basename(file)] = createHash('sha256').update(buf).digest('hex');
      const font = opentype.parse(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), { lowMemory: true });
      const map = (font.tables['cmap'] as unknown as { glyphIndexMap: Record<string, number> }).glyphIndexMap;
      s = new Set(Object.keys(map).filter((k) => map[k] !== 0).map(Number));
      cmaps.set(file, s);
    }
    return s;
  };
  const faces = Object.values(fontChainFiles(dir)).map((c) => ({
    primary: cmap(c.primary),
    fallbacks: c.fallbacks.map((f) => ({ rtl: f.kind === 'rtl', cps: cmap(f.file) })),
  }));
  const candidates = new Set<number>();
  for (const s of cmaps.values()) for (const cp of s) candidates.add(cp);
  const printable = [...candidates]
    .filter((cp) => {
      if (isBidiControl(cp)) return false;
      const rtl = isRtlScript(cp);
      return faces.every((f) => (!rtl && f.primary.has(cp)) || f.fallbacks.some((fb) => fb.rtl === rtl && fb.cps.has(cp)));
    })
    .sort((a, b) => a - b);
  const sorted = Object.fromEntries(Object.entries(fonts).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { fonts: sorted, ranges: PrintableSet.of(printable).toRanges() };
}

/** The file's text: one range per line, so a font change shows as a readable diff. */
export function printableFileText(f: PrintableFile): string {
  const pairs: string[] = [];
  for (let i = 0; i < f.ranges.length; i += 2) pairs.push(`    ${f.ranges[i]}, ${f.ranges[i + 1]}`);
  return `{\n  "fonts": ${JSON.stringify(f.fonts, null, 2).replace(/\n/g, '\n  ')},\n  "ranges": [\n${pairs.join(',\n')}\n  ]\n}\n`;
}
