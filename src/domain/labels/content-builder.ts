/**
 * Decides what a product's label must show at a given instant: the effective price (regular price + the active
 * promotions), the PAngV §4 unit price, the §11 lowest prior price for an announced reduction, and the stock line.
 * Reads the catalogue inside the caller's transaction so one planning pass sees one consistent state.
 */
import type { Tx } from '../../persistence/database.js';
import type { LabelContent, StockState } from '../rendering/label-content.js';
import { unitPrice } from '../pricing/unit-price.js';
import { lowestPriorPrice } from '../pricing/lowest-prior-price.js';
import { effectivePriceAt, RULE_PROMOTION_PREFIX } from '../pricing/effective-price.js';

interface ProductRow {
  gtin: string;
  name: string;
  brand: string | null;
  pack_quantity: number | null;
  pack_unit: string | null;
  pack_display: string | null;
  multipack: number | null;
  drained_quantity: number | null;
  loose: number;
  active: number;
}

export interface BuiltContent {
  content: LabelContent;
  /** The instant from which the effective price has applied (for the §11 price history). */
  effectiveFrom: number;
  /** The label rule that produced the price, if one did (recorded with the price history, issue 14). */
  ruleId?: string;
}

/** Pack size as printed on a German label: "500 g", "0,75 l", "6 x 1,5 l". */
export function formatPackSize(p: Pick<ProductRow, 'pack_quantity' | 'pack_unit' | 'multipack' | 'pack_display'>): string | undefined {
  if (p.pack_display) return p.pack_display;
  if (p.pack_quantity === null || p.pack_unit === null) return undefined;
  const unit = { g: 'g', kg: 'kg', ml: 'ml', cl: 'cl', l: 'l', mm: 'mm', cm: 'cm', m: 'm', m2: 'm²', m3: 'm³', piece: 'Stück' }[p.pack_unit] ?? p.pack_unit;
  const qty = String(p.pack_quantity).replace('.', ',');
  return p.multipack && p.multipack > 1 ? `${p.multipack} x ${qty} ${unit}` : `${qty} ${unit}`;
}

/** The web shop's link for a product: {gtin} replaced ({store} was filled in by the rule engine). */
export function fillShopUrl(url: string, gtin: string): string {
  return url.replaceAll('{gtin}', encodeURIComponent(gtin));
}

export async function buildLabelContent(tx: Tx, gtin: string, now: number, template?: string | null): Promise<BuiltContent | undefined> {
  const product = await tx.get<ProductRow>('SELECT * FROM products WHERE gtin = ?', [gtin]);
  if (!product) return undefined;
  // Regular price, promotions and rule prices: the same computation as the till's feed (effective-price.ts).
  const priced = await effectivePriceAt(tx, gtin, now);
  if (!priced) return undefined;
  const regular = { cents: priced.regularCents };
  const effective = priced.effective;
  const stock = await tx.get<{ quantity: number; state: StockState }>(
    'SELECT quantity, state FROM stock WHERE gtin = ?',
    [gtin],
  );

  const content: LabelContent = {
    gtin,
    name: product.name,
    ...(product.brand ? { brand: product.brand } : {}),
    ...(formatPackSize(product) ? { packSize: formatPackSize(product) } : {}),
    priceCents: effective.cents,
    currency: 'EUR',
  };
  if (product.pack_quantity !== null && product.pack_unit !== null) {
    const up = unitPrice({
      priceCents: effective.cents,
      quantity: product.pack_quantity,
      unit: product.pack_unit as Parameters<typeof unitPrice>[0]['unit'],
      loose: product.loose === 1,
      ...(product.drained_quantity !== null ? { drainedQuantity: product.drained_quantity } : {}),
      ...(product.multipack !== null ? { multipack: product.multipack } : {}),
    });
    if (up) content.unitPrice = up;
  }
  if (effective.promotion) {
    const history = await tx.all<{ cents: number; from: number }>(
      'SELECT cents, effective_from AS "from" FROM price_history WHERE gtin = ? ORDER BY effective_from',
      [gtin],
    );
    const lowest = lowestPriorPrice(history, effective.promotion.start_at) ?? regular.cents;
    content.promotion = {
      // CJEU C-330/23: an announced reduction is measured against the lowest price of the prior 30 days, so the
      // reference ("statt") price is that price, not the list price (docs/decisions.md D12).
      regularPriceCents: lowest,
      lowestPrior30dCents: lowest,
      ...(effective.promotion.badge ? { badge: effective.promotion.badge } : {}),
      // An open-ended rule price ("solange Vorrat reicht") has no last day to print.
      ...(effective.promotion.end_at < Number.MAX_SAFE_INTEGER ? { endsOn: localDate(effective.promotion.end_at - 1) } : {}),
      // PAngV §11(4) no. 2: a short-dated markdown states its reason instead of the §11 line (template kind "markdown").
      ...(priced.rule?.kind === 'short-dated' && priced.rule.reason ? { exemptReason: priced.rule.reason } : {}),
    };
  }
  if (stock) content.stock = { state: stock.state, quantity: stock.quantity };
  const promo = effective.promotion;
  content.pricing = {
    from: effective.from,
    ...(promo && promo.end_at < Number.MAX_SAFE_INTEGER ? { until: promo.end_at } : {}),
    ...(promo && !promo.id.startsWith(RULE_PROMOTION_PREFIX) ? { promotionId: promo.id } : {}),
    ...(priced.rule ? { ruleId: priced.rule.rule_id } : {}),
  };
  if (priced.outOfStock) {
    // The out-of-stock picture replaces the price label while the rule holds, and goes on restock (issue 14).
    content.outOfStock = { text: priced.outOfStock.text, ...(priced.outOfStock.url ? { url: fillShopUrl(priced.outOfStock.url, gtin) } : {}) };
    content.template = priced.outOfStock.template;
  } else if (template) content.template = template;
  else if (content.promotion?.exemptReason) content.template = 'price-short-dated';
  return { content, effectiveFrom: effective.from, ...(priced.rule ? { ruleId: priced.rule.rule_id } : {}) };
}

/** YYYY-MM-DD of an instant in Europe/Berlin (the store zone; DST-correct through Intl). */
export function localDate(at: number, timeZone = 'Europe/Berlin'): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
