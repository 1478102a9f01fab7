/**
 * Long German names on the smallest labels: wrapped and shrunk, never cut mid-glyph, and no pixel of anything drawn
 * outside the element boxes of the layout (nor the panel).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelTypeByName, LABEL_TYPES, type LabelType } from '#protocol';
import { loadFontFace } from '../../src/domain/rendering/fonts.js';
import type { LabelContent } from '#contracts';
import { legibleMinPx, type LabelLayout } from '../../src/domain/rendering/label-layout.js';
import { BUNDLED_TEMPLATE_DIR, LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { unpackPlanes } from '../../src/domain/rendering/planes.js';
import { fitText, type FitRequest } from '../../src/domain/rendering/text-fit.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

let renderer: LabelRenderer;
beforeAll(async () => {
  renderer = await LabelRenderer.create();
});

const LONG_NAMES = [
  'Bio-Vollmilch-Joghurt mild 3,8 % Fett im Glas, 500 g',
  'Original Thüringer Rostbratwurst grob, 10 Stück à 100 g',
  'Feinkost-Heringsfilets in Sahne-Meerrettich-Soße nach Hausfrauenart',
];
const ABSURD = 'Rindfleischetikettierungsüberwachungsaufgabenübertragungsgesetzkonforme Spezialverpackung mit außergewöhnlich langem Produktnamen, der auf kein Etikett passt';

/** Set pixels that lie in no shown element's box. */
function strayPixels(planes: Uint8Array, layout: LabelLayout): { x: number; y: number }[] {
  const t = layout.labelType;
  const px = unpackPlanes(planes, t);
  const boxes = layout.elements.filter((e) => e.shown).map((e) => e.box);
  const stray: { x: number; y: number }[] = [];
  for (let y = 0; y < t.height; y++) {
    for (let x = 0; x < t.width; x++) {
      if (px[y * t.width + x] === 0) continue;
      if (!boxes.some((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h)) stray.push({ x, y });
    }
  }
  return stray;
}

function expectContained(layout: LabelLayout): void {
  const t = layout.labelType;
  for (const el of layout.elements) {
    expect(el.box.x >= 0 && el.box.y >= 0 && el.box.x + el.box.w <= t.width && el.box.y + el.box.h <= t.height, `${el.type} box inside the panel`).toBe(true);
    if (!el.ink) continue;
    const { ink, box } = el;
    expect(ink.x >= box.x && ink.y >= box.y && ink.x + ink.w <= box.x + box.w && ink.y + ink.h <= box.y + box.h, `${el.type} ink inside its box`).toBe(true);
  }
}

const SMALL = ['epd-154-bw', 'epd-213-bwr', 'epd-213-bw'].map((n) => labelTypeByName(n)!);

describe('long German names on small labels', () => {
  for (const t of SMALL) {
    for (const base of [STANDARD, PROMOTION]) {
      const template = base.promotion ? 'price-promotion' : 'price-standard';
      it.each(LONG_NAMES)(`${template} on ${t.name}: %s`, async (name) => {
        const content: LabelContent = { ...base, name, brand: 'Meine Landmetzgerei Müller' };
        const layout = renderer.layout(content, t);
        expectContained(layout);
        const nameEl = layout.elements.find((e) => e.type === 'text' && e.text?.replace(/-\n/g, '-').replace(/\n/g, ' ').includes(name.slice(0, 8)));
        expect(nameEl?.shown, 'name shown').toBe(true);
        // Never below the legible minimum of the label type (D46).
        expect(nameEl!.size!).toBeGreaterThanOrEqual(legibleMinPx(t));
        const printed = nameEl!.text!.replace(/-\n/g, '-').replace(/\n/g, ' ');
        if (nameEl!.truncated) {
          // Too long to set legibly (the promotion template leaves the name two small lines): cut with "…" at whole
          // glyphs, and the label says so (D47).
          expect(printed.endsWith('…')).toBe(true);
          expect(layout.warnings.some((w) => w.startsWith('TEXT_SHORTENED: text "') && w.includes(name.slice(0, 12)))).toBe(true);
        } else {
          // Wrapped and shrunk, not cut: the printed lines put together give the whole name back.
          expect(printed).toContain(name);
          expect(layout.warnings.filter((w) => w.startsWith('TEXT_SHORTENED'))).toEqual([]);
        }
        const out = await renderer.render(content, t);
        expect(strayPixels(out.planes, layout)).toEqual([]);
      });
    }
  }

  it.each(SMALL.map((t) => [t.name, t] as [string, LabelType]))('cuts an absurdly long name with "…" at whole glyphs on %s, still inside its box', async (_n, t) => {
    const content: LabelContent = { ...STANDARD, name: ABSURD };
    const layout = renderer.layout(content, t);
    expectContained(layout);
    const nameEl = layout.elements.find((e) => e.type === 'text' && e.text?.startsWith('Rindfleisch'))!;
    expect(nameEl.truncated).toBe(true);
    expect(nameEl.text!.endsWith('…')).toBe(true);
    // Every printed character comes from the name (forced breaks add "-", the cut adds "…").
    const printed = nameEl.text!.replace(/-\n/g, '').replace(/\n/g, ' ').replace(/…$/, '');
    expect(ABSURD.replace(/-/g, '').startsWith(printed.replace(/-/g, '').trimEnd())).toBe(true);
    const out = await renderer.render(content, t);
    expect(strayPixels(out.planes, layout)).toEqual([]);
  });

  it('keeps every element of the sample content inside its box on every label type and page', async () => {
    for (const t of LABEL_TYPES) {
      for (const content of [STANDARD, PROMOTION]) {
        const template = content.promotion ? 'price-promotion' : 'price-standard';
        for (let page = 0; page < renderer.pageCount(t, template); page++) {
          const layout = renderer.layout(content, t, { page });
          expectContained(layout);
          // The sample has every field: only elements tied to the other promotion state are hidden.
          for (const el of layout.elements) if (!el.shown) expect(el.reason, `${template} ${t.name} p${page} ${el.type}`).toMatch(/promotion/);
          const out = await renderer.render(content, t, { page });
          expect(strayPixels(out.planes, layout), `${template} ${t.name} p${page}`).toEqual([]);
        }
      }
    }
  });

  it.each(LABEL_TYPES.map((t) => [t.name, t] as [string, LabelType]))('fits a four-digit price and long unit price on %s', async (_n, t) => {
    const content: LabelContent = {
      ...PROMOTION,
      priceCents: 999_999,
      unitPrice: { cents: 1_999_998, per: '1 kg' },
      promotion: { ...PROMOTION.promotion!, regularPriceCents: 1_299_999, lowestPrior30dCents: 1_099_999 },
    };
    for (const c of [content, { ...content, promotion: undefined }]) {
      const layout = renderer.layout(c, t);
      expectContained(layout);
      const price = layout.elements.find((e) => e.type === 'price')!;
      expect(price.text).toBe('9.999, 99 €');
      const out = await renderer.render(c, t);
      expect(strayPixels(out.planes, layout)).toEqual([]);
    }
  });
});

describe('legally required text is never cut', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'esl-tpl-'));
    const tiny = {
      name: 'tiny-promo',
      kind: 'promotion',
      layouts: [
        {
          labelTypes: ['*'],
          pages: [
            {
              elements: [
                { type: 'price', box: { x: 0, y: 0, w: 100, h: 40 }, size: { max: 30, min: 10 } },
                { type: 'unit-price', box: { x: 0, y: 40, w: 100, h: 14 }, size: { max: 10, min: 8 } },
                { type: 'lowest-prior-price', box: { x: 0, y: 60, w: 40, h: 10 }, size: { max: 10, min: 8 } },
              ],
            },
          ],
        },
      ],
    };
    writeFileSync(path.join(dir, 'tiny-promo.json'), JSON.stringify(tiny));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses the layout (LAYOUT_OVERFLOW) instead of truncating the §11 line', async () => {
    const r = await LabelRenderer.create({ templateDirs: [BUNDLED_TEMPLATE_DIR, dir] });
    expect(() => r.layout({ ...PROMOTION, template: 'tiny-promo' }, labelTypeByName('epd-29-bwr')!)).toThrow(/LAYOUT_OVERFLOW.*tiny-promo.*lowest prior price/);
  });
});

describe('fitText', () => {
  const face = loadFontFace('sans');
  const req = (text: string | string[], w: number, h: number, extra: Partial<FitRequest> = {}): FitRequest => ({
    face,
    candidates: Array.isArray(text) ? text : [text],
    sizeMax: 14,
    sizeMin: 9,
    maxLines: 2,
    lineHeight: 1.05,
    box: { x: 0, y: 0, w, h },
    align: 'left',
    valign: 'top',
    ...extra,
  });

  it('never breaks a number from its unit or "à" from its number', () => {
    for (const w of [60, 70, 80, 90, 100, 110, 120]) {
      const fit = fitText(req('Fett 3,8 % Rostbratwurst 10 Stück à 100 g', w, 200, { maxLines: 6 }));
      const lines = fit!.lines.map((l) => l.text);
      for (const l of lines) {
        expect(l).not.toMatch(/^(%|Stück|g|à)\b/);
        expect(l).not.toMatch(/(3,8|10|à|100)$/);
      }
    }
  });

  it('breaks after the hyphen of a compound and keeps the hyphen', () => {
    const fit = fitText(req('Bio-Vollmilch-Joghurt', 90, 40, { sizeMax: 12, sizeMin: 12 }));
    expect(fit!.lines[0]!.text.endsWith('-')).toBe(true);
    expect(fit!.lines.map((l) => l.text).join('')).toBe('Bio-Vollmilch-Joghurt');
  });

  it('prefers the larger size over the longer wording, the longer wording at equal size', () => {
    const long = 'Niedrigster Preis der letzten 30 Tage: 1,39 €';
    const short = 'Tiefstpreis 30 Tage: 1,39 €';
    // 210 px: the short wording fits at 14 px (201 px with small-text tracking, D45), the long one (336 px) does not.
    const narrow = fitText(req([long, short], 210, 14, { maxLines: 1 }))!;
    expect(narrow.candidate).toBe(1);
    const wide = fitText(req([long, short], 400, 14, { maxLines: 1 }))!;
    expect(wide.candidate).toBe(0);
    expect(wide.size).toBe(narrow.size);
  });

  it('returns null for legally required text that cannot fit down to the floor', () => {
    expect(fitText(req('Niedrigster Preis der letzten 30 Tage: 1,39 €', 30, 10, { floor: 7 }))).toBeNull();
  });
});
