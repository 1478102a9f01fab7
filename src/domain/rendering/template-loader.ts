/**
 * Loads label templates from a list of directories: every `<name>.json` in a directory is a template; a template in
 * a later directory replaces the one of the same name from an earlier directory (the bundled templates come first,
 * a store's own directory after them, so a store can add or override templates without touching the code).
 *
 * A template is refused with a templateError naming the file, the field path and the problem when it is not the
 * documented format (TEMPLATE_INVALID), when a page shows a price without the unit price (TEMPLATE_PANGV_4), or when
 * a promotion page lacks the lowest price of the prior 30 days (TEMPLATE_PANGV_11).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LABEL_TYPES, type LabelType } from '#protocol';
import { insideRect, lineRect, resolveBox, resolvePoint } from './geometry.js';
import { formatPath, templateError } from './rendering-errors.js';
import { TemplateSchema, type LabelTemplate, type LoadedTemplate, type TemplateElement, type TemplateLayout } from './template-schema.js';

/** Parses and validates one template file's text. */
export function parseTemplate(text: string, file: string, registry: readonly LabelType[] = LABEL_TYPES): LabelTemplate {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw templateError('TEMPLATE_INVALID', file, '', `not valid JSON: ${(e as Error).message}`);
  }
  const parsed = TemplateSchema.safeParse(json);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
    throw templateError('TEMPLATE_INVALID', file, formatPath(first!.path), `${first!.message}${more}`);
  }
  const template = parsed.data;
  const base = path.basename(file, '.json');
  if (template.name !== base) throw templateError('TEMPLATE_INVALID', file, 'name', `name "${template.name}" must match the file name "${base}.json"`);
  checkLayouts(template, file, registry);
  template.layouts.forEach((layout, li) => layout.pages.forEach((page, pi) => checkPangv(template, page.elements, file, `layouts[${li}].pages[${pi}].elements`)));
  return template;
}

/** The label types each layout applies to: its listed ones, and for "*" every registry type no layout lists. */
export function layoutTargets(template: LabelTemplate, registry: readonly LabelType[] = LABEL_TYPES): LabelType[][] {
  const listed = new Set(template.layouts.flatMap((l) => l.labelTypes.filter((n) => n !== '*')));
  return template.layouts.map((l) =>
    registry.filter((t) => l.labelTypes.includes(t.name) || (l.labelTypes.includes('*') && !listed.has(t.name))),
  );
}

/** The layout of `template` for a label type, if any. */
export function layoutFor(template: LabelTemplate, t: LabelType): TemplateLayout | undefined {
  return template.layouts.find((l) => l.labelTypes.includes(t.name)) ?? template.layouts.find((l) => l.labelTypes.includes('*'));
}

function checkLayouts(template: LabelTemplate, file: string, registry: readonly LabelType[]): void {
  const seen = new Map<string, string>();
  template.layouts.forEach((layout, li) => {
    layout.labelTypes.forEach((name, ni) => {
      const at = `layouts[${li}].labelTypes[${ni}]`;
      if (name !== '*' && !registry.some((t) => t.name === name)) {
        throw templateError('TEMPLATE_INVALID', file, at, `unknown label type "${name}"; known: ${registry.map((t) => t.name).join(', ')}`);
      }
      const prev = seen.get(name);
      if (prev) throw templateError('TEMPLATE_INVALID', file, at, `label type "${name}" already has a layout at ${prev}`);
      seen.set(name, at);
    });
  });
  const targets = layoutTargets(template, registry);
  template.layouts.forEach((layout, li) => {
    for (const t of targets[li]!) {
      if (layout.pages.length > t.pages) {
        throw templateError('TEMPLATE_INVALID', file, `layouts[${li}].pages`, `label type "${t.name}" stores ${t.pages} page(s), the layout defines ${layout.pages.length}`);
      }
      const panel = { x: 0, y: 0, w: t.width, h: t.height };
      layout.pages.forEach((page, pi) =>
        page.elements.forEach((el, ei) => {
          const at = `layouts[${li}].pages[${pi}].elements[${ei}]`;
          if (el.type === 'line') {
            const r = lineRect(resolvePoint(el.from, t), resolvePoint(el.to, t), el.thickness);
            if (!r) throw templateError('TEMPLATE_INVALID', file, `${at}.to`, `a line must be horizontal or vertical (on "${t.name}")`);
            if (!insideRect(r, panel)) throw templateError('TEMPLATE_INVALID', file, at, `line lies outside the ${t.width}×${t.height} panel of "${t.name}"`);
            return;
          }
          const box = resolveBox(el.box, t);
          if (box.w <= 0 || box.h <= 0 || !insideRect(box, panel)) {
            throw templateError('TEMPLATE_INVALID', file, `${at}.box`, `box ${box.x},${box.y} ${box.w}×${box.h} is empty or outside the ${t.width}×${t.height} panel of "${t.name}"`);
          }
        }),
      );
    }
  });
}

const ANNOUNCES_REDUCTION = new Set<TemplateElement['type']>(['regular-price', 'badge']);

/** PAngV §4: a price comes with its unit price. §11: an announced reduction comes with the lowest prior price. */
function checkPangv(template: LabelTemplate, elements: readonly TemplateElement[], file: string, at: string): void {
  const prices = elements.filter((e) => e.type === 'price');
  for (const p of prices) {
    const covered = elements.some((e) => e.type === 'unit-price' && (e.when === 'always' || e.when === p.when));
    if (!covered) {
      throw templateError('TEMPLATE_PANGV_4', file, at, `template "${template.name}": a page that shows the price must show the unit price too (PAngV §4): add an element of type "unit-price"`);
    }
  }
  const announces = elements.some(
    (e) => e.when !== 'no-promotion' && (ANNOUNCES_REDUCTION.has(e.type) || (template.kind !== 'standard' && e.type === 'price')),
  );
  if (template.kind === 'markdown') {
    // PAngV §11(4) no. 2: the exemption is for a stated reason; the page says it where §11 would stand.
    if (announces && !elements.some((e) => e.type === 'reduction-reason' && e.when !== 'no-promotion')) {
      throw templateError(
        'TEMPLATE_PANGV_11',
        file,
        at,
        `template "${template.name}": a markdown page (exempt from §11 under PAngV §11(4) no. 2) must state the reason of the reduction: add an element of type "reduction-reason"`,
      );
    }
    return;
  }
  const states = elements.some((e) => e.type === 'lowest-prior-price' && e.when !== 'no-promotion');
  if (announces && !states) {
    throw templateError(
      'TEMPLATE_PANGV_11',
      file,
      at,
      `template "${template.name}": a page announcing a price reduction must state the lowest price of the prior 30 days (PAngV §11): add an element of type "lowest-prior-price"`,
    );
  }
}

/** Loads every template of every directory; later directories override earlier ones by name. */
export async function loadTemplates(dirs: readonly string[], registry: readonly LabelType[] = LABEL_TYPES): Promise<Map<string, LoadedTemplate>> {
  const out = new Map<string, LoadedTemplate>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    } catch (e) {
      throw templateError('TEMPLATE_DIR_UNREADABLE', dir, '', (e as Error).message);
    }
    for (const n of names) {
      const file = path.join(dir, n);
      const template = parseTemplate(await readFile(file, 'utf8'), file, registry);
      out.set(template.name, { template, file });
    }
  }
  return out;
}
