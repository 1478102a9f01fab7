/**
 * Template validation: a broken template is refused with a stable code, its file, the field path and the problem;
 * promotion templates without the PAngV §11 line and price pages without the §4 unit price are refused; a store's
 * directory adds and overrides templates.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelTypeByName } from '#protocol';
import { BUNDLED_TEMPLATE_DIR, LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { EslError } from '#contracts';
import { loadTemplates, parseTemplate } from '../../src/domain/rendering/template-loader.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

type Json = Record<string, unknown>;
const bundled = (name: string): Json => JSON.parse(readFileSync(path.join(BUNDLED_TEMPLATE_DIR, `${name}.json`), 'utf8')) as Json;

interface El {
  type: string;
  [k: string]: unknown;
}
interface Tpl {
  name: string;
  layouts: { labelTypes: string[]; pages: { elements: El[] }[] }[];
  [k: string]: unknown;
}

function refused(json: unknown, file = '/stores/0042/templates/price-promotion.json'): { code: string; file: string; path: string; detail: string; message: string } {
  try {
    parseTemplate(JSON.stringify(json), file);
  } catch (e) {
    expect(e).toBeInstanceOf(EslError);
    const err = e as EslError;
    return { code: err.code, message: err.message, ...(err.details as { file: string; path: string; detail: string }) };
  }
  throw new Error('template was accepted');
}

describe('template validation', () => {
  it('accepts the bundled templates', async () => {
    const loaded = await loadTemplates([BUNDLED_TEMPLATE_DIR]);
    expect([...loaded.keys()].sort()).toEqual(['out-of-stock', 'price-promotion', 'price-short-dated', 'price-standard']);
  });

  it('refuses a promotion template without the lowest-30-day element (PAngV §11), naming template and path', () => {
    const t = bundled('price-promotion') as unknown as Tpl;
    t.layouts[3]!.pages[0]!.elements = t.layouts[3]!.pages[0]!.elements.filter((e) => e.type !== 'lowest-prior-price');
    const err = refused(t);
    expect(err.code).toBe('TEMPLATE_PANGV_11');
    expect(err.file).toBe('/stores/0042/templates/price-promotion.json');
    expect(err.path).toBe('layouts[3].pages[0].elements');
    expect(err.message).toContain('price-promotion');
    expect(err.message).toContain('layouts[3].pages[0].elements');
    expect(err.message).toMatch(/PAngV §11/);
  });

  it('refuses a §11 element shown only without a promotion', () => {
    const t = bundled('price-promotion') as unknown as Tpl;
    for (const e of t.layouts[0]!.pages[0]!.elements) if (e.type === 'lowest-prior-price') e.when = 'no-promotion';
    expect(refused(t).code).toBe('TEMPLATE_PANGV_11');
  });

  it('refuses a "statt" price in a standard template without the §11 line', () => {
    const t = bundled('price-standard') as unknown as Tpl;
    t.layouts[0]!.pages[0]!.elements.push({ type: 'regular-price', box: { x: 0, y: 0, w: 50, h: 12 }, size: { max: 10, min: 8 } });
    const err = refused(t, '/x/price-standard.json');
    expect(err.code).toBe('TEMPLATE_PANGV_11');
    expect(err.path).toBe('layouts[0].pages[0].elements');
  });

  it('refuses a price page without the unit price (PAngV §4)', () => {
    const t = bundled('price-standard') as unknown as Tpl;
    t.layouts[1]!.pages[0]!.elements = t.layouts[1]!.pages[0]!.elements.filter((e) => e.type !== 'unit-price');
    const err = refused(t, '/x/price-standard.json');
    expect(err.code).toBe('TEMPLATE_PANGV_4');
    expect(err.path).toBe('layouts[1].pages[0].elements');
  });

  it.each([
    ['a size range upside down', (t: Tpl) => (t.layouts[0]!.pages[0]!.elements[0]!.size = { max: 8, min: 12 }), 'layouts[0].pages[0].elements[0].size.min', /min must not exceed max/],
    ['an unknown element type', (t: Tpl) => (t.layouts[0]!.pages[0]!.elements[1]!.type = 'price-tag'), 'layouts[0].pages[0].elements[1].type', /./],
    ['a misspelt field', (t: Tpl) => (t.layouts[0]!.pages[0]!.elements[0]!.colour = 'accent'), 'layouts[0].pages[0].elements[0]', /colour/],
    ['an unknown placeholder', (t: Tpl) => (t.layouts[0]!.pages[0]!.elements[0]!.text = '{price}'), 'layouts[0].pages[0].elements[0].text', /unknown placeholder \{price\}/],
    ['an unknown label type', (t: Tpl) => (t.layouts[0]!.labelTypes = ['epd-99-bw']), 'layouts[0].labelTypes[0]', /unknown label type "epd-99-bw"/],
    ['a label type with two layouts', (t: Tpl) => (t.layouts[1]!.labelTypes = ['epd-154-bw']), 'layouts[1].labelTypes[0]', /already has a layout/],
    ['more pages than the label stores', (t: Tpl) => t.layouts[0]!.pages.push(t.layouts[0]!.pages[0]!), 'layouts[0].pages', /stores 1 page/],
    ['a box outside the panel', (t: Tpl) => (t.layouts[0]!.pages[0]!.elements[0]!.box = { x: 100, y: 0, w: 60, h: 10 }), 'layouts[0].pages[0].elements[0].box', /outside the 152×152 panel/],
    ['a bad percentage', (t: Tpl) => (t.layouts[0]!.pages[0]!.elements[0]!.box = { x: '10 %', y: 0, w: 60, h: 10 }), 'layouts[0].pages[0].elements[0].box.x', /percentage/],
    ['a name that is not the file name', (t: Tpl) => (t.name = 'price-other'), 'name', /must match the file name/],
  ])('refuses %s with TEMPLATE_INVALID and the field path', (_what, mutate, expectedPath, problem) => {
    const t = bundled('price-standard') as unknown as Tpl;
    mutate(t);
    const err = refused(t, '/x/price-standard.json');
    expect(err.code).toBe('TEMPLATE_INVALID');
    expect(err.path).toBe(expectedPath);
    expect(err.detail).toMatch(problem);
    expect(err.message).toContain('/x/price-standard.json');
  });

  it('refuses a file that is not JSON', () => {
    expect(() => parseTemplate('{ "name": ', '/x/broken.json')).toThrow(/TEMPLATE_INVALID: \/x\/broken\.json: not valid JSON/);
  });
});

describe('store template directories', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'esl-store-tpl-'));
    // Override: the store's standard label without the barcode; addition: a clearance template.
    const std = bundled('price-standard') as unknown as Tpl;
    for (const l of std.layouts) for (const p of l.pages) p.elements = p.elements.filter((e) => e.type !== 'ean13');
    std.description = 'store 0042';
    writeFileSync(path.join(dir, 'price-standard.json'), JSON.stringify(std));
    const clearance = bundled('price-standard') as unknown as Tpl;
    clearance.name = 'clearance';
    writeFileSync(path.join(dir, 'clearance.json'), JSON.stringify(clearance));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds and overrides templates, later directories winning', async () => {
    const r = await LabelRenderer.create({ templateDirs: [BUNDLED_TEMPLATE_DIR, dir] });
    expect(r.templateNames()).toEqual(['clearance', 'out-of-stock', 'price-promotion', 'price-short-dated', 'price-standard']);
    expect(r.templateFile('price-standard')).toBe(path.join(dir, 'price-standard.json'));
    expect(r.templateFile('price-promotion')).toBe(path.join(BUNDLED_TEMPLATE_DIR, 'price-promotion.json'));
    const t = labelTypeByName('epd-29-bwr')!;
    expect(r.layout(STANDARD, t).elements.some((e) => e.type === 'ean13')).toBe(false);
    expect((await r.render({ ...STANDARD, template: 'clearance' }, t)).template).toBe('clearance');
  });

  it('chooses price-promotion for a promotion, price-standard otherwise, content.template over both', async () => {
    const r = await LabelRenderer.create();
    const t = labelTypeByName('epd-213-bwr')!;
    expect((await r.render(STANDARD, t)).template).toBe('price-standard');
    expect((await r.render(PROMOTION, t)).template).toBe('price-promotion');
    expect((await r.render({ ...PROMOTION, template: 'price-standard' }, t)).template).toBe('price-standard');
    await expect(r.render({ ...STANDARD, template: 'nope' }, t)).rejects.toThrow(/TEMPLATE_NOT_FOUND/);
    await expect(r.render(STANDARD, t, { page: 2 })).rejects.toThrow(/PAGE_OUT_OF_RANGE/);
    await expect(r.render({ ...STANDARD, priceCents: -1 }, t)).rejects.toThrow(/CONTENT_INVALID: priceCents/);
  });

  it('reports an unreadable directory', async () => {
    await expect(loadTemplates([path.join(dir, 'missing')])).rejects.toThrow(/TEMPLATE_DIR_UNREADABLE/);
  });
});
