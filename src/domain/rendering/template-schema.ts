/**
 * The label template format (documented in label-templates/README.md). A template is one JSON file: a name, a kind
 * (standard or promotion) and layouts, each for a list of label types, each with one element list per page.
 *
 * Prices are only ever printed by the dedicated elements (price, regular-price, unit-price, lowest-prior-price),
 * never by free text, so the legal checks on a template (template-loader.ts: PAngV §4 and §11) see every price.
 */
import { z } from 'zod';
import { FontIdSchema } from './font-chain.js';

/** A pixel count, or a percentage of the panel width (x, w) or height (y, h): 12 or "37.5%". */
export const LengthSchema = z.union([
  z.number().int().min(0).max(4096),
  z.string().regex(/^\d{1,3}(\.\d+)?%$/, 'expected a pixel count or a percentage such as "37.5%"'),
]);
export type Length = z.infer<typeof LengthSchema>;

export const BoxSchema = z.strictObject({ x: LengthSchema, y: LengthSchema, w: LengthSchema, h: LengthSchema });
export const PointSchema = z.strictObject({ x: LengthSchema, y: LengthSchema });

export const SizeRangeSchema = z
  .strictObject({
    max: z.number().int().min(6).max(400),
    min: z.number().int().min(6).max(400),
  })
  .refine((s) => s.min <= s.max, { message: 'min must not exceed max', path: ['min'] });

const AlignSchema = z.enum(['left', 'center', 'right']);
const VAlignSchema = z.enum(['top', 'middle', 'bottom']);
const ColourRoleSchema = z.enum(['ink', 'accent']);
/** Which content the element is shown for. */
const WhenSchema = z.enum(['always', 'promotion', 'no-promotion']);

/**
 * Placeholders free text may use: none of them is a price (prices only through their own elements). "{brand}"
 * hides the element when the content has no brand; "{brand?}" prints nothing in its place instead.
 */
export const TEXT_PLACEHOLDERS = ['brand', 'name', 'packSize', 'gtin', 'endsOn', 'badge'] as const;
export type TextPlaceholder = (typeof TEXT_PLACEHOLDERS)[number];
const PLACEHOLDER = /\{([^{}]*?)\??\}/g;

const TemplateTextSchema = z
  .string()
  .min(1)
  .max(200)
  .superRefine((s, ctx) => {
    for (const m of s.matchAll(PLACEHOLDER)) {
      if (!(TEXT_PLACEHOLDERS as readonly string[]).includes(m[1]!)) {
        ctx.addIssue({ code: 'custom', message: `unknown placeholder {${m[1]}}; allowed: ${TEXT_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}` });
      }
    }
  });

const common = {
  /** Optional name, shown in layout results and errors. */
  id: z.string().regex(/^[a-z0-9-]+$/).optional(),
  box: BoxSchema,
  when: WhenSchema.default('always'),
};
const textStyle = {
  font: FontIdSchema.default('sans'),
  size: SizeRangeSchema,
  align: AlignSchema.default('left'),
  valign: VAlignSchema.default('top'),
  color: ColourRoleSchema.default('ink'),
  /** BW panels: draw accent text white on black instead of plain black. */
  inverseOnBw: z.boolean().default(false),
  maxLines: z.number().int().min(1).max(12).default(1),
  lineHeight: z.number().min(0.8).max(2).default(1.1),
};

export const TextElementSchema = z.strictObject({
  type: z.literal('text'),
  ...common,
  ...textStyle,
  /** The text, or alternatives from fullest to shortest: the first that fits without cutting is printed. */
  text: z.union([TemplateTextSchema, z.array(TemplateTextSchema).min(1).max(4)]),
});
/** The price the till charges (content.priceCents), the dominant element. */
export const PriceElementSchema = z.strictObject({
  type: z.literal('price'),
  ...common,
  ...textStyle,
  font: FontIdSchema.default('sans-bold'),
  /** split: large euros, small raised cents, small "€" under them. inline: "1,99 €" on one line. */
  style: z.enum(['split', 'inline']).default('split'),
});
/** PAngV §4 unit price: "1 kg = 7,96 €", optionally after the pack size: "500 g (1 kg = 2,98 €)". */
export const UnitPriceElementSchema = z.strictObject({ type: z.literal('unit-price'), ...common, ...textStyle, withPackSize: z.boolean().default(true) });
/** The regular price a promotion is announced against: "statt 2,49 €" or "2,49 €" struck through. */
export const RegularPriceElementSchema = z.strictObject({ type: z.literal('regular-price'), ...common, ...textStyle, style: z.enum(['statt', 'strike']).default('statt') });
/** PAngV §11: "Niedrigster Preis der letzten 30 Tage: 2,29 €", or a faithful shorter wording where space is short. */
export const LowestPriorPriceElementSchema = z.strictObject({ type: z.literal('lowest-prior-price'), ...common, ...textStyle });
export const BadgeElementSchema = z.strictObject({
  type: z.literal('badge'),
  ...common,
  font: FontIdSchema.default('sans-bold'),
  size: SizeRangeSchema,
  /** Text, usually the content's badge; `fallback` when the content has none. */
  text: TemplateTextSchema.default('{badge}'),
  fallback: z.string().min(1).max(24).default('Aktion'),
  fill: ColourRoleSchema.default('accent'),
  padding: z.number().int().min(0).max(40).default(2),
});
/**
 * The reason of a reduction exempt from the §11 line (PAngV §11(4) no. 2), e.g. "wegen kurzer Haltbarkeit": a
 * template of kind "markdown" prints it where a promotion template prints the lowest prior price.
 */
export const ReductionReasonElementSchema = z.strictObject({ type: z.literal('reduction-reason'), ...common, ...textStyle });
/** The out-of-stock notice of a rule ("Zurzeit nicht vorrätig – online bestellbar"); nothing without one. */
export const NoticeElementSchema = z.strictObject({ type: z.literal('notice'), ...common, ...textStyle });
/** "Nur noch 3", "Ausverkauft", "Online verfügbar"; nothing when in stock. */
export const StockElementSchema = z.strictObject({ type: z.literal('stock'), ...common, ...textStyle });
/** EAN-13 (or EAN-8 for a GTIN-8) of the content's GTIN, black on white, whole-pixel modules, quiet zones inside the box. */
export const Ean13ElementSchema = z.strictObject({
  type: z.literal('ean13'),
  ...common,
  align: AlignSchema.default('center'),
  valign: VAlignSchema.default('middle'),
  humanReadable: z.boolean().default(true),
  maxModule: z.number().int().min(1).max(12).default(4),
});
/** QR code of the GS1 Digital Link URI https://id.gs1.org/01/{gtin14}, quiet zone of 4 modules inside the box. */
export const QrElementSchema = z.strictObject({
  type: z.literal('qr'),
  ...common,
  align: AlignSchema.default('center'),
  valign: VAlignSchema.default('middle'),
  ecLevel: z.enum(['L', 'M', 'Q', 'H']).default('M'),
  maxModule: z.number().int().min(1).max(20).default(8),
  /** What the code holds: the GS1 Digital Link (default) or the web shop's link of an out-of-stock rule. */
  data: z.enum(['digital-link', 'shop-link']).default('digital-link'),
});
export const RectElementSchema = z.strictObject({
  type: z.literal('rect'),
  ...common,
  fill: z.enum(['none', 'ink', 'accent']).default('none'),
  /** Border width in px (0: none). */
  stroke: z.number().int().min(0).max(40).default(0),
  strokeColor: ColourRoleSchema.default('ink'),
});
/** A horizontal or vertical rule from `from` to `to`, `thickness` px. */
export const LineElementSchema = z.strictObject({
  type: z.literal('line'),
  id: common.id,
  when: common.when,
  from: PointSchema,
  to: PointSchema,
  thickness: z.number().int().min(1).max(40).default(1),
  color: ColourRoleSchema.default('ink'),
});

export const ElementSchema = z.discriminatedUnion('type', [
  TextElementSchema,
  PriceElementSchema,
  UnitPriceElementSchema,
  RegularPriceElementSchema,
  LowestPriorPriceElementSchema,
  BadgeElementSchema,
  StockElementSchema,
  ReductionReasonElementSchema,
  NoticeElementSchema,
  Ean13ElementSchema,
  QrElementSchema,
  RectElementSchema,
  LineElementSchema,
]);
export type TemplateElement = z.infer<typeof ElementSchema>;
export type ElementType = TemplateElement['type'];

export const PageSchema = z.strictObject({
  /** What the page is for, e.g. "price" or "details". */
  name: z.string().max(40).optional(),
  elements: z.array(ElementSchema).min(1).max(64),
});
export type TemplatePage = z.infer<typeof PageSchema>;

export const LayoutSchema = z.strictObject({
  /** Label type names from the registry; "*" for every label type no other layout of the template lists. */
  labelTypes: z.array(z.union([z.string().regex(/^[a-z0-9-]+$/), z.literal('*')])).min(1),
  pages: z.array(PageSchema).min(1).max(8),
});
export type TemplateLayout = z.infer<typeof LayoutSchema>;

export const TemplateSchema = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().regex(/^[a-z0-9-]+$/),
  description: z.string().max(500).optional(),
  /**
   * A promotion template announces a reduction: every page with a price must state the §11 lowest prior price. A
   * markdown template announces a reduction exempt from §11 (PAngV §11(4) no. 2: perishable goods reduced for
   * imminent spoilage) and must state its reason instead; it renders only content that carries such a reason.
   */
  kind: z.enum(['standard', 'promotion', 'markdown']),
  layouts: z.array(LayoutSchema).min(1),
});
export type LabelTemplate = z.infer<typeof TemplateSchema>;

/** A template as loaded, with the file it came from. */
export interface LoadedTemplate {
  template: LabelTemplate;
  file: string;
}
