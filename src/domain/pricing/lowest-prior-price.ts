/**
 * Lowest prior price for an announced price reduction (PAngV §11, Art. 6a of Directive 98/6/EC).
 *
 * §11(1): the lowest total price applied to consumers during the 30 days before the reduction is applied.
 * A price counts if it was in force at any moment of that window, including a price set before the window that was
 * still in force when the window began. §11(2): for a stepwise reduction without interruption, the lowest price
 * before the first step may be stated for the whole campaign, so the window then ends at the first step.
 * A window is `days` × 24 h of epoch time; callers pass the instant the reduction takes effect.
 */
import { z } from 'zod';
import { EslError, ErrorCode } from '#contracts';

const DAY_MS = 86_400_000;

export const PriceHistoryEntrySchema = z.object({
  cents: z.number().int().nonnegative(),
  /** Epoch ms the price took effect; it stays in force until the next entry's `from`. */
  from: z.number().int(),
});
export type PriceHistoryEntry = z.infer<typeof PriceHistoryEntrySchema>;

export const LowestPriorPriceOptionsSchema = z.object({
  days: z.number().int().positive().optional(),
  stepwise: z.object({ firstStepStart: z.number().int() }).optional(),
});
export type LowestPriorPriceOptions = z.infer<typeof LowestPriorPriceOptionsSchema>;

/**
 * The lowest price in force during the `days` (default 30) days before `reductionStart` (or before
 * `stepwise.firstStepStart`). A history shorter than the window uses what is known; returns undefined only when no
 * price was in force before the window's end.
 */
export function lowestPriorPrice(
  history: readonly PriceHistoryEntry[],
  reductionStart: number,
  opts: LowestPriorPriceOptions = {},
): number | undefined {
  const h = z.array(PriceHistoryEntrySchema).safeParse(history);
  const o = LowestPriorPriceOptionsSchema.safeParse(opts);
  if (!h.success || !o.success || !Number.isSafeInteger(reductionStart)) {
    const issues = [...(h.error?.issues ?? []), ...(o.error?.issues ?? [])].map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new EslError(ErrorCode.LOWEST_PRIOR_PRICE_INVALID_INPUT, `LOWEST_PRIOR_PRICE_INVALID_INPUT: ${issues.join('; ') || `reductionStart ${reductionStart} is not an epoch ms`}`);
  }
  const days = o.data.days ?? 30;
  const windowEnd = o.data.stepwise ? Math.min(o.data.stepwise.firstStepStart, reductionStart) : reductionStart;
  const windowStart = windowEnd - days * DAY_MS;
  // Stable sort: of two entries with the same `from`, the later one in the input is the one in force.
  const sorted = h.data.map((e, i) => ({ ...e, i })).sort((a, b) => a.from - b.from || a.i - b.i);
  let lowest: number | undefined;
  for (let k = 0; k < sorted.length; k++) {
    const e = sorted[k]!;
    const until = sorted[k + 1]?.from ?? Number.POSITIVE_INFINITY;
    // In force during [from, until); counts if that interval meets [windowStart, windowEnd).
    if (until <= e.from || e.from >= windowEnd || until <= windowStart) continue;
    if (lowest === undefined || e.cents < lowest) lowest = e.cents;
  }
  return lowest;
}
