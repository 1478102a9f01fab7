/**
 * The full shelf export in the field layout of a common local-inventory feed (the local product inventory feed of
 * Google Merchant Center: store_code, id, price, sale_price, sale_price_effective_date, availability, quantity,
 * pickup_method, pickup_sla), as JSON or CSV. The mapping is documented in docs/omnichannel-feed.md. Pure.
 */
import type { ShelfFeedEntry } from './shelf-feed.js';

export const LOCAL_INVENTORY_FIELDS = ['store_code', 'id', 'gtin', 'price', 'sale_price', 'sale_price_effective_date', 'availability', 'quantity', 'pickup_method', 'pickup_sla'] as const;
export type LocalInventoryRow = Record<(typeof LOCAL_INVENTORY_FIELDS)[number], string>;

/** "1.49 EUR": the feed's price format (a dot, the currency code). */
function money(cents: number): string {
  return `${(cents / 100).toFixed(2)} EUR`;
}

function availability(e: ShelfFeedEntry): string {
  if (e.outOfStockPicture || e.stockState === 'out_of_stock' || e.quantity === 0) return 'out_of_stock';
  if (e.stockState === 'low') return 'limited_availability';
  if (e.stockState === 'online_only') return 'on_display_to_order';
  return 'in_stock';
}

export function toLocalInventory(storeCode: string, entries: readonly ShelfFeedEntry[]): LocalInventoryRow[] {
  return entries.map((e) => {
    const reduced = e.regularPriceCents !== null && e.regularPriceCents > e.priceCents;
    const until = e.promotion?.until;
    return {
      store_code: storeCode,
      id: e.gtin,
      gtin: e.gtin,
      price: money(reduced ? e.regularPriceCents! : e.priceCents),
      sale_price: reduced ? money(e.priceCents) : '',
      // ISO 8601 interval start/end; a reduction without a known end ("solange Vorrat reicht") has none.
      sale_price_effective_date: reduced && until ? `${e.since}/${until}` : '',
      availability: availability(e),
      quantity: e.quantity === null ? '' : String(e.quantity),
      pickup_method: e.pickup ? 'buy' : 'not supported',
      pickup_sla: e.pickup ? 'same day' : '',
    };
  });
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** RFC 4180 CSV with a header line. */
export function localInventoryCsv(rows: readonly LocalInventoryRow[]): string {
  const lines = [LOCAL_INVENTORY_FIELDS.join(',')];
  for (const r of rows) lines.push(LOCAL_INVENTORY_FIELDS.map((f) => csvField(r[f])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
