/**
 * Renders label content into the colour planes a panel shows (§6.1) and their content hash (§3.4).
 *
 * Pipeline: template choice → layout (label-layout.ts: measured with opentype.js on the shipped fonts) → raster
 * (label-raster.ts: glyph bitmaps rasterised once by sharp/librsvg and reused, codes and fills drawn as whole-pixel
 * rectangles, every pixel one palette colour) → planes → hash. Same input, same bytes, on any machine: the fonts ship
 * with the project, glyph outlines are placed at exact coordinates, and nothing depends on the host's fonts or
 * locale. After warm-up a render is plain JavaScript over small buffers; sharp is only called for glyphs not yet
 * seen (one atlas per render at most).
 */
import { contentHash, type ContentHash, LABEL_TYPES, type LabelType } from '#protocol';
import { assertPrintable } from './content-checks.js';
import { loadFontSet, type FontSet } from './fonts.js';
import { fontSetPrintable, type Printable } from './printable-set.js';
import { GlyphRasterCache } from './glyph-raster-cache.js';
import { LabelContentSchema, type LabelContent } from '#contracts';
import { layoutPage, type LabelLayout } from './label-layout.js';
import { renderPlanes } from './label-raster.js';
import { BUNDLED_TEMPLATE_DIR } from './package-root.js';
import { formatPath, renderError } from './rendering-errors.js';
import { layoutFor, loadTemplates } from './template-loader.js';
import type { LoadedTemplate } from './template-schema.js';

export { planesToPng, pngToPlanes } from './planes-png.js';

export interface RenderedLabel {
  labelTypeId: number;
  page: number;
  template: string;
  planes: Uint8Array;
  hash: ContentHash;
  /** Things the label could not show (e.g. no barcode for a GTIN with a wrong check digit); empty normally. */
  warnings: string[];
}

export interface RenderOptions {
  /** Page index, 0-based (default 0). */
  page?: number;
  /** Template name; overrides content.template. */
  template?: string;
}

export interface LabelRendererOptions {
  /** Template directories, later ones override earlier ones by name. Default: [BUNDLED_TEMPLATE_DIR]. */
  templateDirs?: string[];
  /** The label types templates are checked against (default: the protocol registry). */
  labelTypes?: readonly LabelType[];
}

export { BUNDLED_TEMPLATE_DIR };

export class LabelRenderer {
  private readonly glyphs = new GlyphRasterCache();
  /** The renderer asks the fonts it draws with (the intake asks a PrintableSet of the same cmaps, D136). */
  private readonly printable: Printable;

  private constructor(
    private readonly templates: ReadonlyMap<string, LoadedTemplate>,
    private readonly fonts: FontSet,
    private readonly labelTypes: readonly LabelType[],
  ) {
    this.printable = fontSetPrintable(fonts);
  }

  static async create(opts: LabelRendererOptions = {}): Promise<LabelRenderer> {
    const labelTypes = opts.labelTypes ?? LABEL_TYPES;
    const templates = await loadTemplates(opts.templateDirs ?? [BUNDLED_TEMPLATE_DIR], labelTypes);
    return new LabelRenderer(templates, loadFontSet(), labelTypes);
  }

  templateNames(): string[] {
    return [...this.templates.keys()].sort();
  }

  /** The file a template was loaded from (to show which directory won). */
  templateFile(name: string): string | undefined {
    return this.templates.get(name)?.file;
  }

  /** Number of pages the template defines for a label type. */
  pageCount(labelType: LabelType, template: string): number {
    return this.resolve(template, labelType).pages.length;
  }

  /** Template choice: explicit option, else content.template, else price-promotion with a promotion, else price-standard. */
  static templateFor(content: LabelContent, opts: RenderOptions = {}): string {
    return opts.template ?? content.template ?? (content.promotion ? 'price-promotion' : 'price-standard');
  }

  /** Where every element goes and what it draws; what render() paints. */
  layout(content: LabelContent, labelType: LabelType, opts: RenderOptions = {}): LabelLayout {
    const parsed = LabelContentSchema.safeParse(content);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw renderError('CONTENT_INVALID', `${formatPath(issue.path) || 'content'}: ${issue.message}`);
    }
    if (!this.labelTypes.some((t) => t.id === labelType.id && t.name === labelType.name && t.width === labelType.width && t.height === labelType.height && t.palette === labelType.palette)) {
      throw renderError('TEMPLATE_NO_LAYOUT', `label type ${labelType.id} "${labelType.name}" is not in the label-type registry`);
    }
    assertPrintable(this.printable, parsed.data);
    const name = LabelRenderer.templateFor(parsed.data, opts);
    const layout = this.resolve(name, labelType);
    const page = opts.page ?? 0;
    const elements = layout.pages[page]?.elements;
    if (!Number.isInteger(page) || !elements) {
      throw renderError('PAGE_OUT_OF_RANGE', `template "${name}" defines ${layout.pages.length} page(s) for "${labelType.name}", page ${page} requested`);
    }
    const template = this.templates.get(name)!.template;
    if (template.kind === 'markdown' && parsed.data.promotion && !parsed.data.promotion.exemptReason) {
      // Only a reduction exempt under PAngV §11(4) no. 2 may go without the §11 line; any other needs a promotion template.
      throw renderError('TEMPLATE_NOT_EXEMPT', `template "${name}" omits the PAngV §11 line and is only for markdowns with a reason (§11(4) no. 2); this reduction has none`);
    }
    return layoutPage(this.fonts, template, elements, parsed.data, labelType, page);
  }

  async render(content: LabelContent, labelType: LabelType, opts: RenderOptions = {}): Promise<RenderedLabel> {
    const layout = this.layout(content, labelType, opts);
    const planes = await renderPlanes(layout, this.fonts, this.glyphs);
    return { labelTypeId: labelType.id, page: layout.page, template: layout.template, planes, hash: contentHash(planes), warnings: layout.warnings };
  }

  /** Glyph cache figures (for benchmarks and monitoring). */
  stats(): { glyphsCached: number; glyphsRasterised: number; atlases: number } {
    return { glyphsCached: this.glyphs.size, glyphsRasterised: this.glyphs.rasterised, atlases: this.glyphs.atlases };
  }

  private resolve(name: string, labelType: LabelType) {
    const loaded = this.templates.get(name);
    if (!loaded) throw renderError('TEMPLATE_NOT_FOUND', `no template "${name}"; known: ${this.templateNames().join(', ')}`);
    const layout = layoutFor(loaded.template, labelType);
    if (!layout) throw renderError('TEMPLATE_NO_LAYOUT', `template "${name}" (${loaded.file}) has no layout for label type "${labelType.name}"`);
    return layout;
  }
}
