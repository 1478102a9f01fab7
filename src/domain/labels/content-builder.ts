/**
 * Decides what a product's label must show at a given instant: the effective price (regular price + the active
 * promotions), the PAngV §4 unit price, the §11 lowest prior price for an announced reduction, and the stock line.
 * Reads the catalogue inside the caller's transaction so one planning pass sees one consistent state.
 */
import type { Tx } from '../../persistence/database.js';
import type { LabelContent, StockState } from '#contracts';
import { unitPrice } from '../pricing/unit-price.js';
import { lowestPriorPrice } from '../pricing/lowest-prior-price.js';
import { effectiveFromRows, pricingRowsMany, RULE_PROMOTION_PREFIX, type EffectiveAt } from '../pricing/effective-price.js';

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
  return (await buildLabelContents(tx, [{ gtin, template: template ?? null }], now)).get(contentKey(gtin, template));
}

/** The key of a (product, template) pair in buildLabelContents' answer. */
export function contentKey(gtin: string, template?: string | null): string {
  return `${gtin}|${template ?? ''}`;
}

/** `IN (SELECT value FROM json_each(?))`: a chunk's products as one bound parameter. */
const IN_SET = 'IN (SELECT value FROM json_each(?))';

/**
 * The contents of many labels at one instant, read with one statement per table for the whole set (D60): a planner
 * chunk of 256 labels costs ~8 statements on the one sqlite queue instead of ~7 per product, and builds exactly what
 * buildLabelContent builds one at a time (it is this function with one entry). Keyed by contentKey(gtin, template);
 * a product without a row or a price in force maps to undefined.
 */
export async function buildLabelContents(tx: Tx, wanted: readonly { gtin: string; template: string | null }[], now: number): Promise<Map<string, BuiltContent | undefined>> {
  const out = new Map<string, BuiltContent | undefined>();
  const gtins = [...new Set(wanted.map((w) => w.gtin))];
  if (gtins.length === 0) return out;
  const set = JSON.stringify(gtins);
  const products = new Map((await tx.all<ProductRow>(`SELECT * FROM products WHERE gtin ${IN_SET}`, [set])).map((p) => [p.gtin, p]));
  // Regular price, promotions and rule prices: the same computation as the till's feed (effective-price.ts).
  const pricing = await pricingRowsMany(tx, gtins, now);
  const stock = new Map((await tx.all<{ gtin: string; quantity: number; state: StockState }>(`SELECT gtin, quantity, state FROM stock WHERE gtin ${IN_SET}`, [set])).map((r) => [r.gtin, r]));
  const priced = new Map<string, EffectiveAt>();
  for (const g of gtins) {
    const eff = products.has(g) ? effectiveFromRows(pricing.get(g)!) : undefined;
    if (eff) priced.set(g, eff);
  }
  // The §11 history only of products in a promotion; (gtin, effective_from) is its key, so the per-product order is
  // the one the single-product query returns.
  const promoted = [...priced].filter(([, p]) => p.effective.promotion).map(([g]) => g);
  const history = new Map<string, { cents: number; from: number }[]>();
  if (promoted.length > 0) {
    const rows = await tx.all<{ gtin: string; cents: number; from: number }>(
      `SELECT gtin, cents, effective_from AS "from" FROM price_history WHERE gtin ${IN_SET} ORDER BY gtin, effective_from`,
      [JSON.stringify(promoted)],
    );
    for (const { gtin, cents, from } of rows) {
      let h = history.get(gtin);
      if (!h) history.set(gtin, (h = []));
      h.push({ cents, from });
    }
  }
  for (const w of wanted) {
    const key = contentKey(w.gtin, w.template);
    if (out.has(key)) continue;
    const product = products.get(w.gtin);
    const p = priced.get(w.gtin);
    out.set(key, product && p ? contentFrom(product, p, stock.get(w.gtin), history.get(w.gtin) ?? [], w.template) : undefined);
  }
  return out;
}

function contentFrom(product: ProductRow, priced: EffectiveAt, stock: { quantity: number; state: StockState } | undefined, history: { cents: number; from: number }[], template: string | null): BuiltContent {
  const gtin = product.gtin;
  const regular = { cents: priced.regularCents };
  const effective = priced.effective;

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
  let f = dateFormats.get(timeZone);
  if (!f) dateFormats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(at);
}

/** One formatter per zone: constructing an Intl.DateTimeFormat costs ~0.1 ms, formatting with one ~µs (D60). */
const dateFormats = new Map<string, Intl.DateTimeFormat>();
