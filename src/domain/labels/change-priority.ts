/**
 * Dispatch priority of a change (0 = first): a label that shows a wrong price goes before stock and promotion
 * changes, and those before cosmetic ones (a renamed product, a new template).
 */
import type { LabelContent } from '#contracts';

export const Priority = { WRONG_PRICE: 0, STOCK_OR_PROMOTION: 1, COSMETIC: 2 } as const;

export function changePriority(shown: LabelContent | undefined, next: LabelContent): number {
  if (!shown || shown.gtin !== next.gtin || shown.priceCents !== next.priceCents) return Priority.WRONG_PRICE;
  if (JSON.stringify(shown.promotion) !== JSON.stringify(next.promotion) || JSON.stringify(shown.stock) !== JSON.stringify(next.stock)) {
    return Priority.STOCK_OR_PROMOTION;
  }
  return Priority.COSMETIC;
}
