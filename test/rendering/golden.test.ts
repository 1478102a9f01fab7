/**
 * Golden images: every bundled template × every registry label type × every page, rendered from fixed sample
 * content, must hash to the stored content hash, and the stored PNG must decode to the same planes.
 * Regenerate after an intended change with `npm run golden` (UPDATE_GOLDEN=1) and review the PNGs; that also
 * rewrites label-templates/schema/template.schema.json from the zod schema.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LABEL_TYPES } from '#protocol';
import { BUNDLED_TEMPLATE_DIR, LabelRenderer, planesToPng, pngToPlanes } from '../../src/domain/rendering/label-renderer.js';
import { TemplateSchema } from '../../src/domain/rendering/template-schema.js';
import { SAMPLE_FOR_TEMPLATE } from '../../src/domain/rendering/sample-content.js';

const GOLDEN_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden');
const HASHES = path.join(GOLDEN_DIR, 'hashes.json');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

let renderer: LabelRenderer;
let stored: Record<string, string> = {};
const rendered: Record<string, string> = {};

beforeAll(async () => {
  renderer = await LabelRenderer.create();
  stored = existsSync(HASHES) ? (JSON.parse(readFileSync(HASHES, 'utf8')) as Record<string, string>) : {};
});

const TEMPLATES = Object.keys(SAMPLE_FOR_TEMPLATE);
const cases = TEMPLATES.flatMap((template) => LABEL_TYPES.map((t) => ({ template, t })));

describe('golden images', () => {
  it('covers every bundled template', () => {
    expect(renderer.templateNames()).toEqual([...TEMPLATES].sort());
  });

  it.each(cases)('$template on $t.name', async ({ template, t }) => {
    const pages = renderer.pageCount(t, template);
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThanOrEqual(t.pages);
    if (t.pages > 1) expect(pages).toBeGreaterThan(1);
    for (let page = 0; page < pages; page++) {
      const key = `${template}/${t.name}-p${page}`;
      const out = await renderer.render(SAMPLE_FOR_TEMPLATE[template]!, t, { template, page });
      expect(out.warnings).toEqual([]);
      rendered[key] = out.hash;
      const pngFile = path.join(GOLDEN_DIR, `${key}.png`);
      if (UPDATE) {
        mkdirSync(path.dirname(pngFile), { recursive: true });
        writeFileSync(pngFile, await planesToPng(out.planes, t));
        continue;
      }
      expect(out.hash, `${key}: rendered hash differs from test/golden/hashes.json (npm run golden after an intended change)`).toBe(stored[key]);
      const fromPng = await pngToPlanes(readFileSync(pngFile), t);
      expect(Buffer.from(fromPng).equals(Buffer.from(out.planes)), `${key}: golden PNG decodes to other planes`).toBe(true);
    }
  });

  it('stores exactly the rendered set', () => {
    if (UPDATE) {
      const sorted = Object.fromEntries(Object.entries(rendered).sort(([a], [b]) => a.localeCompare(b)));
      writeFileSync(HASHES, `${JSON.stringify(sorted, null, 2)}\n`);
      return;
    }
    expect(Object.keys(rendered).sort()).toEqual(Object.keys(stored).sort());
  });

  it('ships the JSON Schema of the template format (label-templates/schema/template.schema.json, for editors)', () => {
    const file = path.join(BUNDLED_TEMPLATE_DIR, 'schema', 'template.schema.json');
    const schema = `${JSON.stringify(z.toJSONSchema(TemplateSchema, { io: 'input', unrepresentable: 'any' }), null, 2)}\n`;
    if (UPDATE) writeFileSync(file, schema);
    else expect(readFileSync(file, 'utf8'), 'template.schema.json is stale: npm run golden').toBe(schema);
  });
});
