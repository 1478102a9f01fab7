/**
 * A varied sample of German supermarket products the templates were not tuned on: umlauts and ß, i/j dots, commas
 * in pack sizes and prices, long and short names, brands with diacritics, every unit-price reference, promotions
 * with validity dates. Used by the OCR legibility test (an independent reader) and its bench record.
 */
import type { LabelContent } from '#contracts';

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

/**
 * A second sample, written for D73 after the grid-fitting rules of D71 were chosen and never used to tune them:
 * the renderer's error rate on it shows whether those rules fit German labels or only the products above. Other
 * letters and shapes on purpose: ß and capital umlauts in names, "100 g" and "100 ml" references, m and m², long
 * compound nouns, digits 0–9 in every position, brands of one short word and of three words.
 */
const holdout: P[] = [
  { gtin: '4009233003297', brand: 'Kühne', name: 'Gurkensticks süß-sauer', packSize: '330 g', priceCents: 189, unitPrice: { cents: 573, per: '1 kg' } },
  { gtin: '4311501490211', brand: 'Gut & Günstig', name: 'Fruchtjoghurt Erdbeere 3,5 %', packSize: '4 x 150 g', priceCents: 135, unitPrice: { cents: 225, per: '1 kg' } },
  { gtin: '4061458028714', brand: 'Ölmühle Solling', name: 'Bio Walnussöl kaltgepresst', packSize: '250 ml', priceCents: 749, unitPrice: { cents: 300, per: '100 ml' } },
  { gtin: '4017100706004', brand: 'Leibniz', name: 'Butterkeks Vollkorn', packSize: '200 g', priceCents: 169, unitPrice: { cents: 85, per: '100 g' } },
  { gtin: '4000582185399', brand: 'Brauerei Rothaus', name: 'Tannenzäpfle Pils, Glasflasche', packSize: '0,33 l', priceCents: 99, unitPrice: { cents: 300, per: '1 l' } },
  { gtin: '4305615418254', brand: 'Zewa', name: 'Küchenrolle Wisch & Weg, 4 Rollen', packSize: '4 Stück', priceCents: 349 },
  { gtin: '4388844009813', brand: 'Meßmer', name: 'Ostfriesen-Tee, 25 Beutel', packSize: '43,75 g', priceCents: 259, unitPrice: { cents: 5920, per: '1 kg' } },
  { gtin: '4316268596381', brand: 'Toom', name: 'Abdeckfolie extra stark, 4 x 5 m', packSize: '20 m²', priceCents: 599, unitPrice: { cents: 30, per: '1 m²' } },
  { gtin: '4104060023118', brand: 'Dr. Oetker', name: 'Götterspeise Waldmeister', packSize: '12 g', priceCents: 49, unitPrice: { cents: 408, per: '100 g' } },
  { gtin: '4001724819806', brand: 'Tegernseer', name: 'Spezial Weißbier alkoholfrei', packSize: '0,5 l', priceCents: 119, unitPrice: { cents: 238, per: '1 l' }, stock: { state: 'low', quantity: 2 } },
  { gtin: '4250241207850', brand: 'Erdinger', name: 'Brezn mit grobem Salz', packSize: '6 x 90 g', priceCents: 279, unitPrice: { cents: 517, per: '1 kg' } },
  { gtin: '4008167102915', brand: 'Jacobs', name: 'Krönung Kaffee gemahlen', packSize: '500 g', priceCents: 699, unitPrice: { cents: 1398, per: '1 kg' }, stock: { state: 'online_only' } },
];

const holdoutPromotions: NonNullable<LabelContent['promotion']>[] = [
  { regularPriceCents: 0, lowestPrior30dCents: 0, badge: 'Knüller', endsOn: '2027-01-09' },
  { regularPriceCents: 0, lowestPrior30dCents: 0, badge: 'Sonderpreis', endsOn: '2026-12-24' },
  { regularPriceCents: 0, lowestPrior30dCents: 0, endsOn: '2027-02-28' },
];

/** The held-out products as regular labels (D73). */
export const OCR_HOLDOUT_STANDARD: LabelContent[] = holdout.map((p) => ({ ...p, currency: 'EUR' }));

/** The held-out products on promotion (reference = §11 price, D12). */
export const OCR_HOLDOUT_PROMOTION: LabelContent[] = holdout.map((p, i) => {
  const promo = holdoutPromotions[i % holdoutPromotions.length]!;
  const reference = p.priceCents + 40 + (i % 3) * 30;
  return { ...p, currency: 'EUR', promotion: { ...promo, regularPriceCents: reference, lowestPrior30dCents: reference } };
});
