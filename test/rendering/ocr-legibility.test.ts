/**
 * Issue 12 acceptance: an independent reader (tesseract, German) reads every text line of the bundled templates
 * (standard, promotion, and on a third of the products short-dated and out-of-stock) on every label type and page,
 * rendered from two samples of German products, one of them never used to choose a rendering rule (D72). The
 * character error rate per label type must be ≤ 2 % on 2.13" and larger and ≤ 5 % on 1.54". The big price is read
 * part by part (euros with the comma, raised cents, "€"), as its own lines. Prints the table per label type;
 * OCR_RESULT_FILE=path also writes it as JSON (bench/results/ocr-legibility-d83.json is made that way).
 *
 * Nothing is cached across runs: every label is rendered and read afresh.
 */
import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LABEL_TYPES, type LabelType } from '#protocol';
import { loadFontSet } from '../../src/domain/rendering/fonts.js';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { EslError, type LabelContent } from '#contracts';
import type { ElementLayout } from '../../src/domain/rendering/label-layout.js';
import { OCR_HOLDOUT_PROMOTION, OCR_HOLDOUT_STANDARD, OCR_PROMOTION, OCR_STANDARD } from './ocr-products.js';
import { editDistance, readLines, tesseractAvailable, textLines, type TextLine } from './ocr-reader.js';

/**
 * The issue's targets, ≤ 5 % on 1.54" and ≤ 2 % on 2.13" and larger, hold on every label type (2.13" BW was held to
 * 2.5 % after D71 at 2.10 %; D83's tailed "l" and plain parentheses brought it below 2 %).
 */
const targetOf = (t: LabelType) => (t.diagonalInch < 2 ? 0.05 : 0.02);

interface Row {
  type: string;
  lines: number;
  chars: number;
  errors: number;
  cer: number;
  exact: number;
}

interface Line extends TextLine {
  sample: 'tuned' | 'held-out';
  template: string;
}

/** What a text element shows, named by the content field it prints (the acceptance line lists them by name). */
function elementName(el: ElementLayout, c: LabelContent): string {
  if (el.type !== 'text') return el.type;
  const t = el.text ?? '';
  if (t.startsWith('bis ') || t.startsWith('gültig')) return 'validity';
  if (t.startsWith('Inhalt')) return 'pack-size';
  if (t.startsWith('GTIN')) return 'gtin';
  if (c.brand && t.replace(/\n/g, ' ').startsWith(c.brand) && t.length <= c.brand.length + 1) return 'brand';
  return 'name';
}

/** The templates read, with the content each gets (markdown and out-of-stock only where they have a layout). */
function samples(tuned: boolean): [string, LabelContent[]][] {
  const std = tuned ? OCR_STANDARD : OCR_HOLDOUT_STANDARD;
  const promo = tuned ? OCR_PROMOTION : OCR_HOLDOUT_PROMOTION;
  const half = (xs: LabelContent[]) => xs.filter((_x, i) => i % 3 === 0);
  return [
    ['price-standard', std],
    ['price-promotion', promo],
    ['price-short-dated', half(promo).map((c) => ({ ...c, promotion: { ...c.promotion!, badge: 'Reduziert', endsOn: undefined, exemptReason: 'wegen kurzer Haltbarkeit' } }))],
    ['out-of-stock', half(std).map((c) => ({ ...c, outOfStock: { text: 'Zurzeit nicht vorrätig – online bestellbar' } }))],
  ];
}

/** Pages of a template on a label type; 0 where it has no layout for it (markdown and out-of-stock skip 1.54"/2.13" BW). */
function pagesOf(t: LabelType, template: string): number {
  try {
    return renderer.pageCount(t, template);
  } catch (e) {
    if (e instanceof EslError && e.code === 'TEMPLATE_NO_LAYOUT') return 0;
    throw e;
  }
}

function rowOf(type: string, lines: readonly Line[], got: readonly string[]): Row {
  let chars = 0;
  let errors = 0;
  let exact = 0;
  lines.forEach((l, i) => {
    const d = editDistance(got[i]!, l.text);
    chars += [...l.text].length;
    errors += d;
    if (d === 0) exact++;
  });
  return { type, lines: lines.length, chars, errors, cer: chars > 0 ? errors / chars : 0, exact };
}

const fmtRow = (r: Row) =>
  `${r.type.padEnd(18)} ${String(r.lines).padStart(6)} ${String(r.exact).padStart(6)} ${String(r.chars).padStart(6)} ${String(r.errors).padStart(7)} ${(100 * r.cer).toFixed(2).padStart(5)} %`;
const HEAD = `${'label type'.padEnd(18)}  lines  exact  chars  errors    CER`;

let renderer: LabelRenderer;
beforeAll(async () => {
  renderer = await LabelRenderer.create();
});

describe('OCR legibility (tesseract, German)', () => {
  it('reads every text element of every template on every label type within the error budget', { timeout: 1_200_000 }, async () => {
    expect(await tesseractAvailable(), 'tesseract with German traineddata is missing: npm run setup').toBe(true);
    const fonts = loadFontSet();
    const perType = new Map<string, Line[]>();
    for (const t of LABEL_TYPES) {
      const lines: Line[] = [];
      for (const tuned of [true, false]) {
        for (const [template, sample] of samples(tuned)) {
          const pages = pagesOf(t, template);
          for (const content of sample) {
            for (let page = 0; page < pages; page++) {
              const layout = renderer.layout(content, t, { template, page });
              const out = await renderer.render(content, t, { template, page });
              const named = { ...layout, elements: layout.elements.map((el) => ({ ...el, id: elementName(el, content) })) };
              for (const l of await textLines(named, out.planes, t, fonts)) lines.push({ ...l, sample: tuned ? 'tuned' : 'held-out', template });
            }
          }
        }
      }
      perType.set(t.name, lines);
    }
    // Two tesseract processes (the machine has two cores), each over whole label types.
    const types = [...perType.keys()];
    const halves = [types.filter((_t, i) => i % 2 === 0), types.filter((_t, i) => i % 2 === 1)];
    const read = new Map<string, string[]>();
    await Promise.all(
      halves.map(async (names) => {
        const all = names.flatMap((n) => perType.get(n)!);
        const texts = await readLines(all.map((l) => l.png));
        let k = 0;
        for (const n of names) {
          const len = perType.get(n)!.length;
          read.set(n, texts.slice(k, k + len));
          k += len;
        }
      }),
    );
    const rows: Row[] = [];
    const bySample: Row[] = [];
    const byElement = new Map<string, { lines: Line[]; got: string[] }>();
    const misses: string[] = [];
    for (const t of LABEL_TYPES) {
      const lines = perType.get(t.name)!;
      const got = read.get(t.name)!;
      rows.push(rowOf(t.name, lines, got));
      for (const sample of ['tuned', 'held-out'] as const) {
        const idx = lines.flatMap((l, i) => (l.sample === sample ? [i] : []));
        bySample.push(rowOf(`${t.name} ${sample}`, idx.map((i) => lines[i]!), idx.map((i) => got[i]!)));
      }
      lines.forEach((l, i) => {
        const e = byElement.get(l.element) ?? { lines: [], got: [] };
        e.lines.push(l);
        e.got.push(got[i]!);
        byElement.set(l.element, e);
        if (got[i] !== l.text) misses.push(`${t.name} ${l.template} ${l.element} ${l.size}px: "${l.text}" read "${got[i]}"`);
      });
    }
    const table = [HEAD, ...rows.map(fmtRow)].join('\n');
    const n = OCR_STANDARD.length + OCR_HOLDOUT_STANDARD.length;
    console.log(`OCR character error rate per label type (tesseract deu; ${n} products × standard + promotion, a third of them also short-dated and out of stock; all pages)\n${table}`);
    console.log(`per sample (tuned = the products D45/D71 were measured on; held-out = never used to choose a rule)\n${[HEAD, ...bySample.map(fmtRow)].join('\n')}`);
    const elements = [...byElement.entries()].map(([k, v]) => rowOf(k, v.lines, v.got));
    console.log(`per element, all label types\n${[HEAD.replace('label type', 'element   '), ...elements.map(fmtRow)].join('\n')}`);
    if (process.env.OCR_VERBOSE === '1') console.log(misses.join('\n'));
    if (process.env.OCR_RESULT_FILE) writeFileSync(process.env.OCR_RESULT_FILE, `${JSON.stringify({ reader: 'tesseract deu --psm 7', products: n, rows, bySample, elements, misses }, null, 2)}\n`);
    for (const r of rows) {
      const target = targetOf(LABEL_TYPES.find((x) => x.name === r.type)!);
      expect(r.cer, `${r.type}: CER ${(100 * r.cer).toFixed(2)} % > ${100 * target} %\n${table}`).toBeLessThanOrEqual(target);
    }
    // Every element the acceptance line names was read on some label.
    for (const el of ['brand', 'name', 'pack-size', 'unit-price', 'lowest-prior-price', 'validity', 'price', 'regular-price']) expect(byElement.has(el), el).toBe(true);
  });
});
