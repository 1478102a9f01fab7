/**
 * The one computation of a product's effective price at an instant, shared by the label content (content-builder.ts)
 * and the till / web-shop feed (price-feed.ts), so shelf and till can never disagree about a price: the regular
 * price, the active promotions and the active rule prices (low-stock, short-dated), lowest wins (D8).
 *
 * A rule price takes part as a promotion with the id "rule:{ruleId}"; a short-dated markdown carries its reason
 * (PAngV §11(4) no. 2), and the out-of-stock picture rides along (it sets no price).
 */
import type { Tx } from '../../persistence/database.js';
import { resolveEffectivePrice, type EffectivePrice, type PromotionRow } from './price-resolver.js';

export interface RuleEffectRow {
  rule_id: string;
  kind: string;
  cents: number | null;
  start_at: number;
  end_at: number | null;
  reason: string | null;
  badge: string | null;
  detail: string | null;
}

export interface EffectiveAt {
  regularCents: number;
  effective: EffectivePrice;
  /** The rule whose price is in force (when a rule price won). */
  rule?: RuleEffectRow;
  /** An out-of-stock rule in force: its picture. */
  outOfStock?: { ruleId: string; text: string; url?: string; template: string };
}

export const RULE_PROMOTION_PREFIX = 'rule:';

/** The catalogue rows a product's effective price at an instant is computed from (effectiveFromRows). */
export interface PricingRows {
  /** The regular price row in force (latest valid_from ≤ the instant). */
  regular: { cents: number; valid_from: number } | undefined;
  /** Promotions of the product active at the instant (any order: the resolver orders them). */
  promotions: PromotionRow[];
  /** Active rule effects of the product at the instant, by rule_id. */
  rules: RuleEffectRow[];
  /** The end of the last promotion or rule price that ended by the instant, if any. */
  endedAt: number | null;
}

/**
 * One product's effective price at an instant, statement by statement: the definition pricingRowsMany must equal
 * (test/labels/plan-batching.test.ts) and the one-product path of the feed's specification (test/rules/
 * price-feed-batch.test.ts). The edge itself reads many products at once (D60, D122).
 */
export async function effectivePriceAt(tx: Tx, gtin: string, at: number): Promise<EffectiveAt | undefined> {
  const regular = await tx.get<{ cents: number; valid_from: number }>('SELECT cents, valid_from FROM prices WHERE gtin = ? AND valid_from <= ? ORDER BY valid_from DESC LIMIT 1', [gtin, at]);
  if (!regular) return undefined;
  const promotions = await tx.all<PromotionRow>(
    `SELECT p.id, p.badge, p.start_at, p.end_at, p.promo_cents, p.percent_off FROM promotions p
     JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ? AND p.start_at <= ? AND p.end_at > ?`,
    [gtin, at, at],
  );
  const rules = await tx.all<RuleEffectRow>(
    `SELECT rule_id, kind, cents, start_at, end_at, reason, badge, detail FROM rule_effects
     WHERE gtin = ? AND status = 'active' AND start_at <= ? AND (end_at IS NULL OR end_at > ?) ORDER BY rule_id`,
    [gtin, at, at],
  );
  // The regular price applies again from the end of the last promotion or rule price that ended (§11 history).
  const ended = await tx.get<{ at: number | null }>(
    `SELECT max(at) AS at FROM (
       SELECT max(p.end_at) AS at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ?1 AND p.end_at <= ?2
       UNION ALL SELECT max(end_at) FROM rule_history WHERE gtin = ?1 AND cents IS NOT NULL AND end_at <= ?2)`,
    { 1: gtin, 2: at } as unknown as Record<string, number>,
  );
  return effectiveFromRows({ regular, promotions, rules, endedAt: ended?.at ?? null });
}

/** `IN (SELECT value FROM json_each(?1))`: a chunk's products as one bound parameter. */
const IN_GTINS = 'IN (SELECT value FROM json_each(?1))';

/**
 * The rows of effectivePriceAt for many products at once: the same conditions, one statement per table for the whole
 * set instead of four per product (the planner builds a chunk's contents with it, D60). Every product of `gtins` has
 * an entry; one without a regular price in force has `regular: undefined`.
 */
export async function pricingRowsMany(tx: Tx, gtins: readonly string[], at: number): Promise<Map<string, PricingRows>> {
  const out = new Map<string, PricingRows>();
  for (const g of gtins) out.set(g, { regular: undefined, promotions: [], rules: [], endedAt: null });
  if (out.size === 0) return out;
  const params = { 1: JSON.stringify([...out.keys()]), 2: at } as unknown as Record<string, string | number>;
  // (gtin, valid_from) is the primary key: the row at the latest valid_from is the one ORDER BY … LIMIT 1 returns.
  const regular = await tx.all<{ gtin: string; cents: number; valid_from: number }>(
    `SELECT p.gtin, p.cents, p.valid_from FROM prices p
     JOIN (SELECT gtin, max(valid_from) AS vf FROM prices WHERE gtin ${IN_GTINS} AND valid_from <= ?2 GROUP BY gtin) m
       ON p.gtin = m.gtin AND p.valid_from = m.vf`,
    params,
  );
  for (const r of regular) out.get(r.gtin)!.regular = { cents: r.cents, valid_from: r.valid_from };
  const promotions = await tx.all<PromotionRow & { gtin: string }>(
    `SELECT i.gtin, p.id, p.badge, p.start_at, p.end_at, p.promo_cents, p.percent_off FROM promotions p
     JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin ${IN_GTINS} AND p.start_at <= ?2 AND p.end_at > ?2`,
    params,
  );
  for (const { gtin, ...p } of promotions) out.get(gtin)!.promotions.push(p);
  const rules = await tx.all<RuleEffectRow & { gtin: string }>(
    `SELECT gtin, rule_id, kind, cents, start_at, end_at, reason, badge, detail FROM rule_effects
     WHERE gtin ${IN_GTINS} AND status = 'active' AND start_at <= ?2 AND (end_at IS NULL OR end_at > ?2) ORDER BY gtin, rule_id`,
    params,
  );
  for (const { gtin, ...r } of rules) out.get(gtin)!.rules.push(r);
  const ended = await tx.all<{ gtin: string; at: number | null }>(
    `SELECT gtin, max(at) AS at FROM (
       SELECT i.gtin AS gtin, max(p.end_at) AS at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id
         WHERE i.gtin ${IN_GTINS} AND p.end_at <= ?2 GROUP BY i.gtin
       UNION ALL SELECT gtin, max(end_at) FROM rule_history WHERE gtin ${IN_GTINS} AND cents IS NOT NULL AND end_at <= ?2 GROUP BY gtin)
     GROUP BY gtin`,
    params,
  );
  for (const r of ended) out.get(r.gtin)!.endedAt = r.at;
  return out;
}

/** The effective price from a product's rows (the one computation of shelf and till, D8). */
export function effectiveFromRows(rows: PricingRows): EffectiveAt | undefined {
  const { regular, promotions, rules } = rows;
  if (!regular) return undefined;
  const regularFrom = Math.max(regular.valid_from, rows.endedAt ?? 0);
  const candidates: PromotionRow[] = [...promotions];
  for (const r of rules) {
    if (r.cents === null) continue;
    candidates.push({ id: `${RULE_PROMOTION_PREFIX}${r.rule_id}`, badge: r.badge, start_at: r.start_at, end_at: r.end_at ?? Number.MAX_SAFE_INTEGER, promo_cents: r.cents, percent_off: null });
  }
  const effective = resolveEffectivePrice({ regularCents: regular.cents, regularFrom, promotions: candidates });
  const out: EffectiveAt = { regularCents: regular.cents, effective };
  const winner = effective.promotion?.id;
  if (winner?.startsWith(RULE_PROMOTION_PREFIX)) {
    const rule = rules.find((r) => `${RULE_PROMOTION_PREFIX}${r.rule_id}` === winner);
    if (rule) out.rule = rule;
  }
  const oos = rules.find((r) => r.kind === 'out-of-stock');
  if (oos) {
    const d = JSON.parse(oos.detail ?? '{}') as { text?: string; url?: string; template?: string };
    out.outOfStock = { ruleId: oos.rule_id, text: d.text ?? 'Zurzeit nicht vorrätig', template: d.template ?? 'out-of-stock', ...(d.url ? { url: d.url } : {}) };
  }
  return out;
}
