/**
 * What a label must show, decided by the domain and independent of any panel: the renderer turns it into planes.
 * Money is in integer cents (EUR), never floats. The content is stored beside every hash the edge renders, so the
 * audit can say what a label displays ("2,49 €") from the hash the label acknowledged.
 */
import { z } from 'zod';

export const UnitPriceSchema = z.object({
  cents: z.number().int().nonnegative(),
  /** PAngV §5 reference quantity, as printed: "1 kg", "100 g", "1 l", "100 ml", "1 m", "1 m²", "1 m³", "1 Stück". */
  per: z.enum(['1 kg', '100 g', '1 l', '100 ml', '1 m', '1 m²', '1 m³']),
});
export type UnitPrice = z.infer<typeof UnitPriceSchema>;

export const StockStateSchema = z.enum(['in_stock', 'low', 'out_of_stock', 'online_only']);
export type StockState = z.infer<typeof StockStateSchema>;

export const LabelContentSchema = z.object({
  gtin: z.string().regex(/^\d{8,14}$/),
  name: z.string().min(1).max(200),
  brand: z.string().max(100).optional(),
  /** Pack size as printed, e.g. "500 g", "0,75 l", "6 x 1,5 l". */
  packSize: z.string().max(40).optional(),
  /** The price the till charges now, in cents. */
  priceCents: z.number().int().nonnegative(),
  currency: z.literal('EUR'),
  /** PAngV §4 unit price; absent where not required (not sold by measure, or equal to the price). */
  unitPrice: UnitPriceSchema.optional(),
  /** Present while an announced reduction is active (PAngV §11). */
  promotion: z
    .object({
      /** The regular (reference) price the reduction is announced against. */
      regularPriceCents: z.number().int().nonnegative(),
      /** Lowest total price of the 30 days before the reduction (PAngV §11(1)); required by law. */
      lowestPrior30dCents: z.number().int().nonnegative(),
      badge: z.string().max(24).optional(),
      /** Last day of the promotion as a local date, YYYY-MM-DD. */
      endsOn: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
      /**
       * A reduction exempt from the §11 line (PAngV §11(4) no. 2: perishable goods reduced for imminent spoilage):
       * the label prints this reason instead, and only through a template of kind "markdown".
       */
      exemptReason: z.string().min(1).max(60).optional(),
    })
    .optional(),
  /** The out-of-stock picture of a rule (issue 14): its wording and the web shop's link, printed as a QR code. */
  outOfStock: z.object({ text: z.string().min(1).max(80), url: z.string().max(300).optional() }).optional(),
  /** Where the price came from (not printed): for the shelf feed and the audit ("by rule … since …"). */
  pricing: z
    .object({
      from: z.number().int(),
      until: z.number().int().optional(),
      promotionId: z.string().max(80).optional(),
      ruleId: z.string().max(80).optional(),
    })
    .optional(),
  stock: z
    .object({
      state: StockStateSchema,
      quantity: z.number().int().nonnegative().optional(),
    })
    .optional(),
  /** Template name in label-templates/ (default: "price-standard", or "price-promotion" when promotion is set). */
  template: z.string().regex(/^[a-z0-9-]+$/).optional(),
});
export type LabelContent = z.infer<typeof LabelContentSchema>;
