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
  const regularFrom = Math.max(regular.valid_from, ended?.at ?? 0);
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
