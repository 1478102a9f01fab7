/**
 * What a validated HQ list says, before it becomes events for a particular store: each record is a price or a
 * promotion (the contract's data types, event-schemas.ts), the file rows it came from, and optionally the one store
 * it is meant for (the `store` / `filiale` column); without a store it is meant for every store pushed to.
 *
 * Per store (`recordsForStore`):
 * - prices: a row for this store replaces the chain-wide row for the same GTIN and valid-from (a store exception
 *   to the chain price), rows for other stores are left out;
 * - promotions: a promotion's GTINs are its chain-wide rows plus this store's rows, so one promotion id can run
 *   with a different assortment per store. A promotion with no GTIN for the store is not sent there.
 */
import type { z } from 'zod';
import type { PriceDataSchema, PromotionDataSchema } from '#contracts';

export type PriceData = z.output<typeof PriceDataSchema>;
export type PromotionData = z.output<typeof PromotionDataSchema>;

export type HqRecord =
  | { type: 'price'; rows: number[]; store?: string; data: PriceData }
  | { type: 'promotion'; rows: number[]; store?: string; data: PromotionData };

export type HqListKind = 'prices' | 'promotions';

function priceKey(d: PriceData): string {
  return `${d.gtin}@${d.validFrom ?? ''}`;
}

export function recordsForStore(records: readonly HqRecord[], store: string): HqRecord[] {
  const prices = new Map<string, Extract<HqRecord, { type: 'price' }>>();
  const promotions = new Map<string, { record: Extract<HqRecord, { type: 'promotion' }>; gtins: Set<string> }>();
  for (const r of records) {
    if (r.store !== undefined && r.store !== store) continue;
    if (r.type === 'price') {
      const key = priceKey(r.data);
      const seen = prices.get(key);
      // The store's own row wins over the chain-wide one, whichever comes first in the file.
      if (!seen || (seen.store === undefined && r.store !== undefined)) prices.set(key, r);
      continue;
    }
    const seen = promotions.get(r.data.promotionId);
    if (!seen) {
      promotions.set(r.data.promotionId, { record: { type: 'promotion', rows: [...r.rows], data: { ...r.data, gtins: [...r.data.gtins] } }, gtins: new Set(r.data.gtins) });
      continue;
    }
    for (const g of r.data.gtins) {
      if (!seen.gtins.has(g)) {
        seen.gtins.add(g);
        seen.record.data.gtins.push(g);
      }
    }
    seen.record.rows = [...seen.record.rows, ...r.rows].sort((a, b) => a - b);
  }
  const out: HqRecord[] = [...prices.values(), ...[...promotions.values()].map((p) => p.record)];
  return out.sort((a, b) => a.rows[0]! - b.rows[0]!);
}

/** The store ids a list names in its store column, sorted. */
export function storesNamed(records: readonly HqRecord[]): string[] {
  return [...new Set(records.flatMap((r) => (r.store === undefined ? [] : [r.store])))].sort();
}
