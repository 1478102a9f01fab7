/**
 * Decides what a product's label must show at a given instant: the effective price (regular price + the active
 * promotions), the PAngV §4 unit price, the §11 lowest prior price for an announced reduction, and the stock line.
 * Reads the catalogue inside the caller's transaction so one planning pass sees one consistent state.
 */
import type { Tx } from '../../persistence/database.js';
import type { LabelContent, StockState } from '../rendering/label-content.js';
import { unitPrice } from '../pricing/unit-price.js';
import { lowestPriorPrice } from '../pricing/lowest-prior-price.js';
import { resolveEffectivePrice, type PromotionRow } from '../pricing/price-resolver.js';

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
}

/** Pack size as printed on a German label: "500 g", "0,75 l", "6 x 1,5 l". */
export function formatPackSize(p: Pick<ProductRow, 'pack_quantity' | 'pack_unit' | 'multipack' | 'pack_display'>): string | undefined {
  if (p.pack_display) return p.pack_display;
  if (p.pack_quantity === null || p.pack_unit === null) return undefined;
  const unit = { g: 'g', kg: 'kg', ml: 'ml', cl: 'cl', l: 'l', mm: 'mm', cm: 'cm', m: 'm', m2: 'm²', m3: 'm³', piece: 'Stück' }[p.pack_unit] ?? p.pack_unit;
  const qty = String(p.pack_quantity).replace('.', ',');
  return p.multipack && p.multipack > 1 ? `${p.multipack} x ${qty} ${unit}` : `${qty} ${unit}`;
}

export async function buildLabelContent(tx: Tx, gtin: string, now: number, template?: string | null): Promise<BuiltContent | undefined> {
  const product = await tx.get<ProductRow>('SELECT * FROM products WHERE gtin = ?', [gtin]);
  if (!product) return undefined;
  const regular = await tx.get<{ cents: number; valid_from: number }>(
    'SELECT cents, valid_from FROM prices WHERE gtin = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1',
    [gtin, now],
  );
  if (!regular) return undefined;
  const promotions = await tx.all<PromotionRow>(
    `SELECT p.id, p.badge, p.start_at, p.end_at, p.promo_cents, p.percent_off FROM promotions p
     JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ? AND p.start_at <= ? AND p.end_at > ?`,
    [gtin, now, now],
  );
  // The regular price applies again from the end of the last promotion that ended (for the §11 history).
  const ended = await tx.get<{ at: number | null }>(
    `SELECT max(p.end_at) AS at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ? AND p.end_at <= ?`,
    [gtin, now],
  );
  const regularFrom = Math.max(regular.valid_from, ended?.at ?? 0);
  const effective = resolveEffectivePrice({ regularCents: regular.cents, regularFrom, promotions });
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
      endsOn: localDate(effective.promotion.end_at - 1),
    };
  }
  if (stock) content.stock = { state: stock.state, quantity: stock.quantity };
  if (template) content.template = template;
  return { content, effectiveFrom: effective.from };
}

/** YYYY-MM-DD of an instant in Europe/Berlin (the store zone; DST-correct through Intl). */
export function localDate(at: number, timeZone = 'Europe/Berlin'): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}
