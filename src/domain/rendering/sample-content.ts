/** Fixed sample content (a German supermarket product) for template previews, golden images and rendering tests. */
import type { LabelContent } from './label-content.js';

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

/** The sample content each bundled template is rendered with. */
export const SAMPLE_FOR_TEMPLATE: Record<string, LabelContent> = {
  'price-standard': STANDARD,
  'price-promotion': PROMOTION,
};
