/**
 * The effective-price feed for the till and the web shop (issue 14, docs/decisions.md D51): the one writer of
 * `price_feed`. Whenever the effective price of a product changes — a price event, a promotion, a label rule — a
 * row is appended and the same row goes to `…/out/prices` from the durable outbox (QoS 1), in one transaction.
 *
 * A change at a known instant (a promotion's start, a rule's switch minute) is announced ahead, with that instant as
 * `effectiveFrom`, as soon as it lies within the horizon (the labels' pre-staging lead, D13): the till switches at
 * the instant the labels' timed display does. An announcement that no longer holds (a promotion cancelled before
 * its start) is corrected by a row for the same instant. A consumer applies rows in `seq` order; for an instant, the
 * row with the highest seq wins. `seq` is the cursor of `GET /api/v1/prices?since=`.
 */
import { z } from 'zod';
import type { Database, Tx } from '../../persistence/database.js';
import { enqueueManyLater } from '../outbox/outbox.js';
import { effectiveFromRows, pricingRowsMany, type EffectiveAt } from '../pricing/effective-price.js';
import { lastAutoincrement } from '../../persistence/autoincrement.js';

export const PriceFeedEntrySchema = z.object({
  seq: z.number().int(),
  gtin: z.string(),
  priceCents: z.number().int(),
  regularPriceCents: z.number().int(),
  /** The till charges priceCents from this instant (ISO 8601, UTC). */
  effectiveFrom: z.string(),
  promotionId: z.string().nullable(),
  ruleId: z.string().nullable(),
  /** A short-dated markdown's reason (PAngV §11(4) no. 2), else null. */
  reason: z.string().nullable(),
});
export type PriceFeedEntry = z.infer<typeof PriceFeedEntrySchema>;

/** A row of `price_feed` (its one writer is this module). */
export interface FeedRow {
  seq: number;
  gtin: string;
  cents: number;
  regular_cents: number;
  effective_from: number;
  promotion_id: string | null;
  rule_id: string | null;
  reason: string | null;
}

export function toEntry(r: FeedRow): PriceFeedEntry {
  return {
    seq: r.seq,
    gtin: r.gtin,
    priceCents: r.cents,
    regularPriceCents: r.regular_cents,
    effectiveFrom: new Date(r.effective_from).toISOString(),
    promotionId: r.promotion_id,
    ruleId: r.rule_id,
    reason: r.reason,
  };
}

/** `IN (SELECT value FROM json_each(?1))`: the products of a refresh as one bound parameter. */
const IN_GTINS = 'IN (SELECT value FROM json_each(?1))';

/** Every product's boundaries in (now, now + horizon], and its rows already announced for after now. */
const BOUNDARIES = `
  SELECT gtin, valid_from AS at FROM prices WHERE gtin ${IN_GTINS} AND valid_from > ?2 AND valid_from <= ?3
  UNION SELECT i.gtin, p.start_at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin ${IN_GTINS} AND p.start_at > ?2 AND p.start_at <= ?3
  UNION SELECT i.gtin, p.end_at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin ${IN_GTINS} AND p.end_at > ?2 AND p.end_at <= ?3
  UNION SELECT gtin, start_at FROM rule_effects WHERE gtin ${IN_GTINS} AND status = 'active' AND start_at > ?2 AND start_at <= ?3
  UNION SELECT gtin, end_at FROM rule_effects WHERE gtin ${IN_GTINS} AND end_at > ?2 AND end_at <= ?3
  UNION SELECT gtin, effective_from FROM price_feed WHERE gtin ${IN_GTINS} AND effective_from > ?2`;

/** What the till was told for instant ?2, per product: the row with the latest effective_from ≤ ?2, the highest seq on a tie. */
const TILL_AT = `
  SELECT f.* FROM json_each(?1) g JOIN price_feed f ON f.seq =
    (SELECT seq FROM price_feed WHERE gtin = g.value AND effective_from <= ?2 ORDER BY effective_from DESC, seq DESC LIMIT 1)`;

/** Products with a price boundary in (from, to]: their announcement is due. */
export async function gtinsWithBoundaries(tx: Tx, from: number, to: number): Promise<string[]> {
  const rows = await tx.all<{ gtin: string }>(
    `SELECT gtin FROM prices WHERE valid_from > ?1 AND valid_from <= ?2
     UNION SELECT i.gtin FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE (p.start_at > ?1 AND p.start_at <= ?2) OR (p.end_at > ?1 AND p.end_at <= ?2)
     UNION SELECT gtin FROM rule_effects WHERE (start_at > ?1 AND start_at <= ?2) OR (end_at > ?1 AND end_at <= ?2)`,
    { 1: from, 2: to } as unknown as Record<string, number>,
  );
  return rows.map((r) => r.gtin);
}

/** What the till is told for an effective price (a feed row without its product, instant and number). */
export function tillValues(eff: EffectiveAt): Pick<FeedRow, 'cents' | 'regular_cents' | 'promotion_id' | 'rule_id' | 'reason'> {
  const promo = eff.effective.promotion;
  return {
    cents: eff.effective.cents,
    regular_cents: eff.regularCents,
    promotion_id: promo && !eff.rule ? promo.id : null,
    rule_id: eff.rule?.rule_id ?? null,
    reason: eff.rule?.kind === 'short-dated' ? eff.rule.reason : null,
  };
}

/** Whether the till was already told these values (then nothing is appended). */
export function sameTillValues(a: ReturnType<typeof tillValues>, b: ReturnType<typeof tillValues>): boolean {
  return a.cents === b.cents && a.regular_cents === b.regular_cents && a.promotion_id === b.promotion_id && a.rule_id === b.rule_id && a.reason === b.reason;
}

/**
 * Brings the feed of `gtins` up to date within the transaction: each product's price now and at every boundary up to
 * `now + horizonMs`. Appends only what differs from what the till was told; returns the rows appended.
 *
 * D122: the products go together, a few statements per distinct instant instead of ~9 per product (a pass of the
 * rule engine held the database queue for ~150 trips to sqlite for 16 products, and the till's feed ran ~15 minutes
 * behind a 50,000-product price list, D55). Instants are worked in ascending order and a row appended for one is
 * written before the next instant's reads (Tx.runLater flushes ahead of them), so a product's later instant compares
 * against what it was just told, as before.
 */
export async function refreshPriceFeedManyTx(tx: Tx, gtins: readonly string[], now: number, horizonMs: number): Promise<number> {
  if (gtins.length === 0) return 0;
  const unique = [...new Set(gtins)];
  // Every product at `now`; a product at each of its boundaries too (UNION: each (product, instant) once).
  const byInstant = new Map<number, string[]>([[now, unique]]);
  for (const r of await tx.all<{ gtin: string; at: number }>(BOUNDARIES, { 1: JSON.stringify(unique), 2: now, 3: now + horizonMs } as unknown as Record<string, string | number>)) {
    let list = byInstant.get(r.at);
    if (!list) byInstant.set(r.at, (list = []));
    list.push(r.gtin);
  }
  let seq: number | undefined;
  let appended = 0;
  for (const t of [...byInstant.keys()].sort((a, b) => a - b)) {
    const at = byInstant.get(t)!;
    const rows = await pricingRowsMany(tx, at, t);
    const till = new Map<string, FeedRow>();
    for (const r of await tx.all<FeedRow>(TILL_AT, { 1: JSON.stringify(at), 2: t } as unknown as Record<string, string | number>)) till.set(r.gtin, r);
    const out: FeedRow[] = [];
    for (const gtin of at) {
      const eff = effectiveFromRows(rows.get(gtin)!);
      if (!eff) continue;
      const want = tillValues(eff);
      const told = till.get(gtin);
      if (told && sameTillValues(told, want)) continue;
      // Now: since when the price really holds (never before what the till already has). Ahead: exactly the boundary.
      const from = t === now ? Math.max(eff.effective.from, told?.effective_from ?? 0) : t;
      seq ??= await lastAutoincrement(tx, 'price_feed');
      out.push({ seq: ++seq, gtin, effective_from: from, ...want });
    }
    if (out.length === 0) continue;
    tx.runLater(
      `INSERT INTO price_feed (seq, gtin, cents, regular_cents, effective_from, promotion_id, rule_id, reason, created_at)
       SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6, value->>7, ? FROM json_each(?)`,
      [now, JSON.stringify(out.map((r) => [r.seq, r.gtin, r.cents, r.regular_cents, r.effective_from, r.promotion_id, r.rule_id, r.reason]))],
    );
    enqueueManyLater(
      tx,
      out.map((r) => ({ id: `price-${r.seq}`, topic: 'out/prices', payload: toEntry(r) })),
      now,
    );
    appended += out.length;
  }
  return appended;
}

/** The feed after a cursor, in order (the HTTP consumer's poll). */
export async function priceFeedSince(db: Database, since: number, limit: number): Promise<{ entries: PriceFeedEntry[]; cursor: number }> {
  const rows = await db.all<FeedRow>('SELECT * FROM price_feed WHERE seq > ? ORDER BY seq LIMIT ?', [since, limit]);
  return { entries: rows.map(toEntry), cursor: rows.length > 0 ? rows[rows.length - 1]!.seq : since };
}
