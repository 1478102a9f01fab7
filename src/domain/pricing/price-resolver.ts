/**
 * The effective price of a product at an instant: its regular price, or the price of an active promotion.
 *
 * Precedence when several promotions are active (docs/decisions.md D8): the lowest resulting price wins — the
 * customer gets the best price, and the till, which applies the same rule, charges it; on a tie the promotion that
 * started first wins, so the label does not flip between equal offers.
 */
export interface PromotionRow {
  id: string;
  badge: string | null;
  start_at: number;
  end_at: number;
  promo_cents: number | null;
  percent_off: number | null;
}

export interface EffectivePrice {
  cents: number;
  /** The instant from which this price has applied. */
  from: number;
  promotion?: PromotionRow;
}

export function promotionPrice(regularCents: number, p: Pick<PromotionRow, 'promo_cents' | 'percent_off'>): number {
  if (p.promo_cents !== null) return p.promo_cents;
  // Percentage reductions round half up to the cent, as tills do.
  return Math.round((regularCents * (100 - (p.percent_off ?? 0))) / 100);
}

export function resolveEffectivePrice(input: { regularCents: number; regularFrom: number; promotions: PromotionRow[] }): EffectivePrice {
  let best: EffectivePrice = { cents: input.regularCents, from: input.regularFrom };
  const sorted = [...input.promotions].sort((a, b) => a.start_at - b.start_at || a.id.localeCompare(b.id));
  for (const p of sorted) {
    const cents = promotionPrice(input.regularCents, p);
    // A "promotion" that does not reduce the price is not an announced reduction: ignore it.
    if (cents < best.cents) best = { cents, from: Math.max(p.start_at, input.regularFrom), promotion: p };
  }
  return best;
}
