/**
 * Issue 12, scripts: product names in the scripts a German store sells. Latin Extended (Turkish, Polish), Greek and
 * Cyrillic are in the bundled DejaVu faces and render on every label type and page without a .notdef glyph. Arabic
 * (right to left, joined) and Chinese are not printable yet (no shaper, no CJK face bundled): they are refused,
 * naming the character, by the renderer (CONTENT_UNSUPPORTED_CHARACTER) and at intake — never an empty box.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LABEL_TYPES } from '../../firmware-protocol/src/label-types.js';
import { checkEventContent } from '../../src/domain/events/content-plausibility.js';
import { EventSchema } from '../../src/domain/events/event-schemas.js';
import { loadFontSet } from '../../src/domain/rendering/fonts.js';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

const PRINTABLE: Record<string, { brand: string; name: string }> = {
  Turkish: { brand: 'Şölen', name: 'Çikolatalı Gofret, İçi Fındıklı' },
  Polish: { brand: 'Łowicz', name: 'Dżem truskawkowy, żółty ser, ćma' },
  Greek: { brand: 'Φάγε', name: 'Ελληνικό γιαούρτι στραγγιστό 2%' },
  Russian: { brand: 'Бабаевский', name: 'Шоколад горький, 100 г' },
};
const REFUSED: Record<string, { name: string; cp: string }> = {
  Arabic: { name: 'حلاوة طحينية', cp: 'U+062D' },
  Chinese: { name: '老干妈 风味豆豉', cp: 'U+8001' },
};

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
            const glyphs = layout.elements.flatMap((e) => e.ops.flatMap((op) => (op.op === 'glyphs' ? op.glyphs : [])));
            expect(glyphs.length).toBeGreaterThan(0);
            expect(glyphs.filter((g) => g.gi === 0), `${script} on ${t.name} page ${page}`).toEqual([]);
            const shown = layout.elements.map((e) => e.text ?? '').join(' ');
            // The name's first word is printed (whole, or shortened with a warning on the smallest panels).
            expect(shown.includes(name.split(' ')[0]!.slice(0, 4)), `${script} name on ${t.name}`).toBe(true);
            await renderer.render({ ...base, brand, name }, t, { page });
          }
        }
      }
    });
  }

  for (const [script, { name, cp }] of Object.entries(REFUSED)) {
    it(`${script}: refused by the renderer and at intake, naming the character`, async () => {
      expect(() => renderer.layout({ ...STANDARD, name }, LABEL_TYPES[0]!)).toThrow(new RegExp(`CONTENT_UNSUPPORTED_CHARACTER.*${cp.replace('+', '\\+')}`));
      const event = EventSchema.parse({ id: 'e1', source: 'erp', version: 1, type: 'product', data: { gtin: '4006381333931', name } });
      const refusal = checkEventContent(event, loadFontSet());
      expect(refusal?.code).toBe('CONTENT_UNSUPPORTED_CHARACTER');
      expect(refusal?.reason).toContain(cp);
    });
  }

  it('a price of 0 is refused at intake with an alert unless the event says it is intended', () => {
    const fonts = loadFontSet();
    const zero = EventSchema.parse({ id: 'p1', source: 'erp', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 0 } });
    const refusal = checkEventContent(zero, fonts);
    expect(refusal?.code).toBe('PRICE_IMPLAUSIBLE');
    expect(refusal?.alert?.type).toBe('price-implausible');
    const intended = EventSchema.parse({ id: 'p2', source: 'erp', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 0, intended: true } });
    expect(checkEventContent(intended, fonts)).toBeNull();
  });
});
