/**
 * A varied sample of German supermarket products the templates were not tuned on: umlauts and ß, i/j dots, commas
 * in pack sizes and prices, long and short names, brands with diacritics, every unit-price reference, promotions
 * with validity dates. Used by the OCR legibility test (an independent reader) and its bench record.
 */
import type { LabelContent } from '../../src/domain/rendering/label-content.js';

type P = Omit<LabelContent, 'currency'>;

const products: P[] = [
  { gtin: '4008400401621', brand: 'Käserei Weidenau', name: 'Bergkäse würzig, 12 Monate gereift', packSize: '200 g', priceCents: 349, unitPrice: { cents: 1745, per: '1 kg' } },
  { gtin: '4000417025005', brand: 'Müller', name: 'Milchreis Original Zimt', packSize: '200 g', priceCents: 79, unitPrice: { cents: 395, per: '1 kg' } },
  { gtin: '4006040001237', brand: 'Bäckerei Schäfer', name: 'Dinkel-Vollkornbrötchen, 6 Stück', packSize: '6 x 60 g', priceCents: 229, unitPrice: { cents: 636, per: '1 kg' } },
  { gtin: '4011800512309', brand: 'Hofgut Öhringen', name: 'Frische Weidemilch 3,8 % Fett', packSize: '1 l', priceCents: 119, stock: { state: 'low', quantity: 4 } },
  { gtin: '4306188045129', brand: 'Rügenwalder Mühle', name: 'Vegetarische Mühlen Würstchen', packSize: '180 g', priceCents: 299, unitPrice: { cents: 1661, per: '1 kg' } },
  { gtin: '4008258143018', brand: 'Weißenburger', name: 'Apfelsaft naturtrüb, Direktsaft', packSize: '0,75 l', priceCents: 189, unitPrice: { cents: 252, per: '1 l' } },
  { gtin: '4001686315446', brand: 'Haribo', name: 'Goldbären Fruchtgummi', packSize: '175 g', priceCents: 129, unitPrice: { cents: 737, per: '1 kg' } },
  { gtin: '4104420208490', brand: 'Alnatura', name: 'Bio Haferflocken zart', packSize: '500 g', priceCents: 149, unitPrice: { cents: 298, per: '1 kg' } },
  { gtin: '4005500041236', brand: 'Bärenmarke', name: 'Die Ergiebige Kaffeesahne 10 %', packSize: '340 g', priceCents: 159, unitPrice: { cents: 468, per: '1 kg' }, stock: { state: 'out_of_stock' } },
  { gtin: '4000521006327', brand: 'Spreewälder', name: 'Gewürzgurken mild, knackig', packSize: '670 g', priceCents: 219, unitPrice: { cents: 327, per: '1 kg' } },
  { gtin: '4002359011200', brand: 'Zwiesel Glühwein', name: 'Heidelbeer-Glühwein fruchtig', packSize: '1 l', priceCents: 399, unitPrice: { cents: 399, per: '1 l' } },
  { gtin: '4009337486917', brand: 'Frosch', name: 'Zitronen Spülmittel', packSize: '750 ml', priceCents: 169, unitPrice: { cents: 23, per: '100 ml' }, stock: { state: 'online_only' } },
];

const promotions: NonNullable<LabelContent['promotion']>[] = [
  { regularPriceCents: 449, lowestPrior30dCents: 399, badge: 'Aktion', endsOn: '2026-12-06' },
  { regularPriceCents: 99, lowestPrior30dCents: 89, badge: 'Angebot', endsOn: '2026-12-13' },
  { regularPriceCents: 279, lowestPrior30dCents: 259, badge: 'Wochenpreis', endsOn: '2026-11-29' },
  { regularPriceCents: 149, lowestPrior30dCents: 139, endsOn: '2026-12-31' },
];

/** The product as a regular label. */
export const OCR_STANDARD: LabelContent[] = products.map((p) => ({ ...p, currency: 'EUR' }));

/** The product on promotion; the reference ("statt") price is the §11 lowest price of the prior 30 days (D12). */
export const OCR_PROMOTION: LabelContent[] = products.map((p, i) => {
  const promo = promotions[i % promotions.length]!;
  const reference = p.priceCents + 30 + (i % 4) * 20;
  return { ...p, currency: 'EUR', promotion: { ...promo, regularPriceCents: reference, lowestPrior30dCents: reference } };
});
