/**
 * Issue 12, scripts: product names in the scripts a German store sells, on every label type, page and template.
 * Latin Extended (Turkish, Polish), Greek and Cyrillic are set in DejaVu; Arabic and Hebrew in Noto Sans
 * Arabic/Hebrew shaped by HarfBuzz (right to left, joined); Chinese, Japanese and Korean in the bundled Noto Sans
 * CJK SC subset (D68–D70). No .notdef glyph is ever drawn; a character no bundled face has is refused, naming it, by
 * the renderer and at intake.
 *
 * "Compare with the shaper's output": the reference is HarfBuzz called here directly on the font file (not through
 * the renderer's wrapper), and the joining is checked on the pixels: a fully joining Arabic word is one connected
 * stroke on the panel, not six letters side by side.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as hb from 'harfbuzzjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LABEL_TYPES, type LabelType } from '#protocol';
import { checkEventContent } from '../../src/domain/events/content-plausibility.js';
import { EventSchema } from '#contracts';
import { FALLBACK_GLYPH_BASE, isNotdef, loadFontSet } from '../../src/domain/rendering/fonts.js';
import type { ElementLayout, LabelLayout } from '../../src/domain/rendering/label-layout.js';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { FONT_DIR } from '../../src/domain/rendering/package-root.js';
import { INDEX_COLOUR } from '../../src/domain/rendering/panel-colours.js';
import { unpackPlanes } from '../../src/domain/rendering/planes.js';
import { loadPrintableSet } from '../../src/domain/rendering/printable-set.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

const PRINTABLE: Record<string, { brand: string; name: string }> = {
  Turkish: { brand: 'Şölen', name: 'Çikolatalı Gofret, İçi Fındıklı' },
  Polish: { brand: 'Łowicz', name: 'Dżem truskawkowy, żółty ser, ćma' },
  Greek: { brand: 'Φάγε', name: 'Ελληνικό γιαούρτι στραγγιστό 2%' },
  Russian: { brand: 'Бабаевский', name: 'Шоколад горький, 100 г' },
  Arabic: { brand: 'الرحاب', name: 'حلاوة طحينية بالفستق 500 غ' },
  Chinese: { brand: '老干妈', name: '老干妈 风味豆豉 油制辣椒' },
  Hebrew: { brand: 'אסם', name: 'במבה חטיף בוטנים' },
  Japanese: { brand: '日清', name: 'カップヌードル しょうゆ味' },
  Korean: { brand: '농심', name: '신라면 매운맛 120 g' },
};
const REFUSED: Record<string, { name: string; cp: string }> = {
  emoji: { name: 'Schokolade 🍫 zartbitter', cp: 'U+1F36B 🍫' },
  Thai: { name: 'ไก่ทอด', cp: 'U+0E44 ไ' },
  'Hanzi outside the subset': { name: '𩸽 fillet', cp: 'U+29E3D 𩸽' },
  'bidi override': { name: 'Halva \u202Eabc', cp: 'U+202E' },
};

const hbFonts = new Map<string, hb.Font>();
function hbFont(file: string): hb.Font {
  let f = hbFonts.get(file);
  if (!f) {
    f = new hb.Font(new hb.Face(new hb.Blob(readFileSync(path.join(FONT_DIR, file))), 0));
    hbFonts.set(file, f);
  }
  return f;
}

/** HarfBuzz's glyphs for `text`, in visual order (left to right), with the logical index (cluster) of each. */
function hbShape(file: string, text: string): { g: number; cluster: number }[] {
  const buf = new hb.Buffer();
  buf.addText(text);
  buf.guessSegmentProperties();
  hb.shape(hbFont(file), buf);
  return buf.getGlyphInfos().map((i) => ({ g: i.codepoint, cluster: i.cluster }));
}

function glyphOps(e: ElementLayout) {
  return e.ops.flatMap((op) => (op.op === 'glyphs' ? [op] : []));
}

/** The element that prints `text` (one line). */
function elementWith(layout: LabelLayout, text: string): ElementLayout {
  const e = layout.elements.find((el) => el.shown && el.text?.includes(text));
  if (!e) throw new Error(`no element shows "${text}" on ${layout.labelType.name}: ${layout.elements.map((el) => el.text).join(' | ')}`);
  return e;
}

/** Fallback-face glyph ids drawn by an element, sorted left to right. */
function fallbackGlyphs(e: ElementLayout): number[] {
  return glyphOps(e)
    .flatMap((op) => op.glyphs)
    .filter((g) => g.gi >= FALLBACK_GLYPH_BASE)
    .sort((a, b) => a.x - b.x)
    .map((g) => g.gi % FALLBACK_GLYPH_BASE);
}

/** The 8-connected components of black pixels inside a rectangle of the planes (a diagonal contact reads as one stroke). */
function components(planes: Uint8Array, t: LabelType, r: { x: number; y: number; w: number; h: number }): { size: number; w: number }[] {
  const px = unpackPlanes(planes, t);
  const ink = (x: number, y: number) => x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h && INDEX_COLOUR[px[y * t.width + x]!] === 'black';
  const seen = new Set<number>();
  const out: { size: number; w: number }[] = [];
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) {
      if (!ink(x, y) || seen.has(y * t.width + x)) continue;
      let size = 0;
      let x0 = x;
      let x1 = x;
      const stack = [[x, y] as const];
      seen.add(y * t.width + x);
      while (stack.length > 0) {
        const [cx, cy] = stack.pop()!;
        size++;
        x0 = Math.min(x0, cx);
        x1 = Math.max(x1, cx);
        for (const [nx, ny] of [[cx + 1, cy], [cx - 1, cy], [cx, cy + 1], [cx, cy - 1], [cx + 1, cy + 1], [cx - 1, cy - 1], [cx + 1, cy - 1], [cx - 1, cy + 1]] as const) {
          if (ink(nx, ny) && !seen.has(ny * t.width + nx)) {
            seen.add(ny * t.width + nx);
            stack.push([nx, ny]);
          }
        }
      }
      out.push({ size, w: x1 - x0 + 1 });
    }
  }
  return out;
}

let renderer: LabelRenderer;
beforeAll(async () => {
  renderer = await LabelRenderer.create();
});

describe('product names in other scripts (issue 12)', () => {
  for (const [script, { brand, name }] of Object.entries(PRINTABLE)) {
    it(`${script}: every label type and page, both templates, without a .notdef glyph`, async () => {
      for (const t of LABEL_TYPES) {
        for (const base of [STANDARD, PROMOTION]) {
          const template = base.promotion ? 'price-promotion' : 'price-standard';
          for (let page = 0; page < renderer.pageCount(t, template); page++) {
            const layout = renderer.layout({ ...base, brand, name }, t, { page });
            const glyphs = layout.elements.flatMap((e) => glyphOps(e).flatMap((op) => op.glyphs));
            expect(glyphs.length).toBeGreaterThan(0);
            expect(glyphs.filter((g) => isNotdef(g.gi)), `${script} on ${t.name} page ${page}`).toEqual([]);
            const shown = layout.elements.map((e) => e.text ?? '').join(' ');
            // The name's first word is printed (whole, or shortened with a warning on the smallest panels).
            expect(shown.includes([...name.split(' ')[0]!].slice(0, 2).join('')), `${script} name on ${t.name}: ${shown}`).toBe(true);
            const out = await renderer.render({ ...base, brand, name }, t, { page });
            expect(out.planes.length).toBeGreaterThan(0);
          }
        }
      }
         // Accepted at intake: every character is in a bundled face's cmap.
      const event = EventSchema.parse({ id: 'e1', source: 'erp', version: 1, type: 'product', data: { gtin: '4006381333931', name, brand } });
      expect(checkEventContent(event, loadPrintableSet())).toBeNull();
    });
  }

  it('Arabic is drawn as HarfBuzz shapes it: joined forms, right to left, on every label type', async () => {
    const word = 'طحينية'; // ط ح ي ن ي ة: every letter joins its neighbour
    const file = (font: string) => (font.includes('bold') ? 'NotoSansArabic-Bold.ttf' : 'NotoSansArabic-Regular.ttf');
    for (const t of LABEL_TYPES) {
      const content = { ...STANDARD, brand: 'Al Rayan', name: word };
      const layout = renderer.layout(content, t);
      const el = elementWith(layout, word);
      const ref = hbShape(file(glyphOps(el)[0]!.font), word);
      // Same glyphs as the shaper, in its visual order: the last letter leftmost (right to left).
      expect(fallbackGlyphs(el), t.name).toEqual(ref.map((r) => r.g));
      expect(ref.map((r) => r.cluster)).toEqual([...ref.map((r) => r.cluster)].sort((a, b) => b - a));
      // Joined forms, not the isolated letters of the cmap.
      const nominal = [...word].map((c) => hbFont(file(glyphOps(el)[0]!.font)).nominalGlyph(c.codePointAt(0)!));
      expect(ref.map((r) => r.g).reverse().filter((g, i) => g === nominal[i])).toEqual([]);
      // On the panel: one connected stroke carries the whole word (the dots are separate, small).
      const out = await renderer.render(content, t);
      const parts = components(out.planes, t, el.ink!);
      const body = Math.max(...parts.map((p) => p.w));
      expect(body, `${t.name}: widest stroke ${body} px of ${el.ink!.w} px`).toBeGreaterThanOrEqual(el.ink!.w - 2);
    }
  });

  it('an Arabic phrase reads right to left, a Latin brand and a number inside it stay left to right', () => {
    const file = 'NotoSansArabic-Regular.ttf';
    const [first, second] = ['حلاوة', 'طحينية'];
    const t = LABEL_TYPES.find((lt) => lt.width >= 400)!;
    // UAX #9: a right-to-left line (its first strong letter is Arabic); "Al Rayan" and "500" are left-to-right runs in
    // it, so the line reads, from the left: "500", second, "Al Rayan", first.
    const layout = renderer.layout({ ...STANDARD, brand: 'Halwa', name: `${first} Al Rayan ${second} 500` }, t);
    const el = elementWith(layout, first);
    const drawn = fallbackGlyphs(el);
    const at = (seq: number[]) => drawn.findIndex((_, i) => seq.every((g, j) => drawn[i + j] === g));
    // Each word exactly as HarfBuzz shapes it alone, and the first word to the right of the second.
    const a = at(hbShape(file, first).map((r) => r.g));
    const b = at(hbShape(file, second).map((r) => r.g));
    expect(a).toBeGreaterThanOrEqual(0);
    expect(b).toBeGreaterThanOrEqual(0);
    expect(a, 'the first word stands to the right of the second').toBeGreaterThan(b);
    const glyphs = glyphOps(el).flatMap((op) => op.glyphs).sort((p, q) => p.x - q.x);
    const face = loadFontSet()[glyphOps(el)[0]!.font];
    const latin = glyphs.filter((g) => g.gi < FALLBACK_GLYPH_BASE && g.gi !== face.glyphIndex(0x20)).map((g) => g.gi);
    expect(latin).toEqual([...'500AlRayan'].map((c) => face.glyphIndex(c.codePointAt(0)!)));
    const xOf = (gi: number) => glyphs.find((g) => g.gi === gi)!.x;
    const arabic = glyphs.filter((g) => g.gi >= FALLBACK_GLYPH_BASE);
    const secondLeft = arabic[b]!.x;
    const firstLeft = arabic[a]!.x;
    expect(xOf(face.glyphIndex(0x35))).toBeLessThan(secondLeft);
    expect(xOf(face.glyphIndex(0x41))).toBeGreaterThan(secondLeft);
    expect(xOf(face.glyphIndex(0x41))).toBeLessThan(firstLeft);
    // The line starts at the right of its box (the template's "left" is the start of a line).
    const german = elementWith(renderer.layout({ ...STANDARD, brand: 'Halwa', name: 'Halva mit Pistazien' }, t), 'Halva');
    expect(german.ink!.x, 'a German name starts at the left').toBeLessThan(german.box.x + 4);
    expect(el.ink!.x + el.ink!.w, 'the Arabic name ends at the right of its box').toBeGreaterThan(el.box.x + el.box.w - 4);
  });

  it('Chinese is drawn with the CJK subset glyph for every character, in order', () => {
    const name = '风味豆豉';
    const t = LABEL_TYPES.find((lt) => lt.width >= 400)!;
    const el = elementWith(renderer.layout({ ...STANDARD, brand: 'Lao Gan Ma', name }, t), name);
    const cjk = hbFont('NotoSansCJKsc-Regular-subset.otf');
    expect(fallbackGlyphs(el)).toEqual([...name].map((c) => cjk.nominalGlyph(c.codePointAt(0)!)));
  });

  it('a Chinese name without spaces wraps between characters, never with a hyphen', () => {
    const name = '老干妈风味豆豉油制辣椒调味料香辣组合装';
    let wrapped = 0;
    for (const t of LABEL_TYPES) {
      const el = elementWith(renderer.layout({ ...STANDARD, brand: 'Lao Gan Ma', name }, t), '老干妈');
      const lines = el.text!.split('\n');
      expect(lines.filter((l) => l.endsWith('-')), t.name).toEqual([]);
      if (lines.length > 1) wrapped++;
      expect(lines.join('').replace(/…$/, ''), t.name).toBe(name.slice(0, lines.join('').replace(/…$/, '').length));
    }
    expect(wrapped, 'wrapped on the small panels').toBeGreaterThan(0);
  });

  it('the same Arabic and Chinese names render to the same bytes from a cold glyph cache', async () => {
    const t = LABEL_TYPES[0]!;
    const content = { ...STANDARD, brand: 'الرحاب', name: 'حلاوة طحينية 老干妈' };
    const other = await LabelRenderer.create();
    expect((await other.render(content, t)).hash).toBe((await renderer.render(content, t)).hash);
  });

  for (const [what, { name, cp }] of Object.entries(REFUSED)) {
    it(`${what}: refused by the renderer and at intake, naming the character`, () => {
      const esc = cp.split(' ')[0]!.replace('+', '\\+');
      expect(() => renderer.layout({ ...STANDARD, name }, LABEL_TYPES[0]!)).toThrow(new RegExp(`CONTENT_UNSUPPORTED_CHARACTER.*${esc}`));
      const event = EventSchema.parse({ id: 'e1', source: 'erp', version: 1, type: 'product', data: { gtin: '4006381333931', name } });
      const refusal = checkEventContent(event, loadPrintableSet());
      expect(refusal?.code).toBe('CONTENT_UNSUPPORTED_CHARACTER');
      expect(refusal?.reason).toContain(cp);
    });
  }

  it('a price of 0 is refused at intake with an alert unless the event says it is intended', () => {
    const printable = loadPrintableSet();
    const zero = EventSchema.parse({ id: 'p1', source: 'erp', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 0 } });
    const refusal = checkEventContent(zero, printable);
    expect(refusal?.code).toBe('PRICE_IMPLAUSIBLE');
    expect(refusal?.alert?.type).toBe('price-implausible');
    const intended = EventSchema.parse({ id: 'p2', source: 'erp', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 0, intended: true } });
    expect(checkEventContent(intended, printable)).toBeNull();
  });
});
