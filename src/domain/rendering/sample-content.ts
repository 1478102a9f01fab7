/** Fixed sample content (a German supermarket product) for template previews, golden images and rendering tests. */
import type { LabelContent } from '#contracts';

export const STANDARD: LabelContent = {
  gtin: '4260081723458',
  name: 'Bio-Vollmilch-Joghurt mild 3,8 % Fett',
  brand: 'Landliebe',
  packSize: '500 g',
  priceCents: 149,
  currency: 'EUR',
  unitPrice: { cents: 298, per: '1 kg' },
  stock: { state: 'low', quantity: 3 },
};

export const PROMOTION: LabelContent = {
  ...STANDARD,
  priceCents: 119,
  unitPrice: { cents: 238, per: '1 kg' },
  promotion: { regularPriceCents: 139, lowestPrior30dCents: 139, badge: 'Aktion', endsOn: '2026-11-24' },
};

/** A short-dated markdown by a label rule (issue 14): the reason instead of §11 (PAngV §11(4) no. 2). */
export const SHORT_DATED: LabelContent = {
  ...STANDARD,
  priceCents: 99,
  unitPrice: { cents: 198, per: '1 kg' },
  promotion: { regularPriceCents: 149, lowestPrior30dCents: 139, badge: 'Reduziert', exemptReason: 'wegen kurzer Haltbarkeit' },
};

/** The out-of-stock picture of a label rule, with the web shop's link. */
export const OUT_OF_STOCK: LabelContent = {
  ...STANDARD,
  stock: { state: 'out_of_stock', quantity: 0 },
  outOfStock: { text: 'Zurzeit nicht vorrätig – online bestellbar', url: 'https://shop.example.de/p/4260081723458?store=berlin-01' },
};

/** The sample content each bundled template is rendered with. */
export const SAMPLE_FOR_TEMPLATE: Record<string, LabelContent> = {
  'price-standard': STANDARD,
  'price-promotion': PROMOTION,
  'price-short-dated': SHORT_DATED,
  'out-of-stock': OUT_OF_STOCK,
};
