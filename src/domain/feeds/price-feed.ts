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
import { enqueue } from '../outbox/outbox.js';
import { effectivePriceAt } from '../pricing/effective-price.js';

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

interface FeedRow {
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

const BOUNDARIES = `
  SELECT valid_from AS at FROM prices WHERE gtin = ?1 AND valid_from > ?2 AND valid_from <= ?3
  UNION SELECT p.start_at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ?1 AND p.start_at > ?2 AND p.start_at <= ?3
  UNION SELECT p.end_at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ?1 AND p.end_at > ?2 AND p.end_at <= ?3
  UNION SELECT start_at FROM rule_effects WHERE gtin = ?1 AND status = 'active' AND start_at > ?2 AND start_at <= ?3
  UNION SELECT end_at FROM rule_effects WHERE gtin = ?1 AND end_at > ?2 AND end_at <= ?3
  UNION SELECT effective_from FROM price_feed WHERE gtin = ?1 AND effective_from > ?2`;

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

/**
 * Brings the feed of one product up to date within the transaction: the price now and at every boundary up to
 * `now + horizonMs`. Appends only what differs from what the till was told; returns the rows appended.
 */
export async function refreshPriceFeedTx(tx: Tx, gtin: string, now: number, horizonMs: number): Promise<number> {
  const instants = [
    now,
    ...(await tx.all<{ at: number }>(BOUNDARIES, { 1: gtin, 2: now, 3: now + horizonMs } as unknown as Record<string, number>)).map((r) => r.at),
  ];
  let appended = 0;
  for (const t of [...new Set(instants)].sort((a, b) => a - b)) {
    const eff = await effectivePriceAt(tx, gtin, t);
    if (!eff) continue;
    const promo = eff.effective.promotion;
    const want = {
      cents: eff.effective.cents,
      regular_cents: eff.regularCents,
      promotion_id: promo && !eff.rule ? promo.id : null,
      rule_id: eff.rule?.rule_id ?? null,
      reason: eff.rule?.kind === 'short-dated' ? eff.rule.reason : null,
    };
    // What the till was told for instant t: the row with the latest effective_from ≤ t, the highest seq on a tie.
    const till = await tx.get<FeedRow>('SELECT * FROM price_feed WHERE gtin = ? AND effective_from <= ? ORDER BY effective_from DESC, seq DESC LIMIT 1', [gtin, t]);
    if (till && till.cents === want.cents && till.regular_cents === want.regular_cents && till.promotion_id === want.promotion_id && till.rule_id === want.rule_id && till.reason === want.reason) continue;
    // Now: since when the price really holds (never before what the till already has). Ahead: exactly the boundary.
    const from = t === now ? Math.max(eff.effective.from, till?.effective_from ?? 0) : t;
    const r = await tx.run(
      'INSERT INTO price_feed (gtin, cents, regular_cents, effective_from, promotion_id, rule_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [gtin, want.cents, want.regular_cents, from, want.promotion_id, want.rule_id, want.reason, now],
    );
    const entry = toEntry({ seq: r.lastID, gtin, effective_from: from, ...want });
    await enqueue(tx, { id: `price-${r.lastID}`, topic: 'out/prices', payload: entry }, now);
    appended++;
  }
  return appended;
}

/** The feed after a cursor, in order (the HTTP consumer's poll). */
export async function priceFeedSince(db: Database, since: number, limit: number): Promise<{ entries: PriceFeedEntry[]; cursor: number }> {
  const rows = await db.all<FeedRow>('SELECT * FROM price_feed WHERE seq > ? ORDER BY seq LIMIT ?', [since, limit]);
  return { entries: rows.map(toEntry), cursor: rows.length > 0 ? rows[rows.length - 1]!.seq : since };
}
