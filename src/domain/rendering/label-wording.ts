/**
 * The German wording labels print for prices, PAngV lines and stock, in order of preference (longest first; the
 * layout takes the first that fits). Every wording states the same fact: the short forms shorten the words, never
 * the meaning ("30-Tage-Bestpreis" would suggest a best price and is not used).
 */
import type { LabelContent } from '#contracts';
import { formatEuro, NBSP, noBreak } from '../pricing/price-format.js';

/** PAngV §11(1): the lowest total price of the 30 days before the reduction. */
export function lowestPriorWordings(cents: number): string[] {
  const eur = formatEuro(cents);
  const days = `30${NBSP}Tage`;
  return [`Niedrigster Preis der letzten ${days}: ${eur}`, `Tiefstpreis der letzten ${days}: ${eur}`, `Tiefstpreis ${days}: ${eur}`];
}

/**
 * PAngV §4 unit price, "1 kg = 7,96 €" (never broken across lines), optionally after the pack size:
 * "500 g (1 kg = 2,98 €)". The pack size alone when no unit price is due; undefined when there is neither.
 */
export function unitPriceWordings(content: LabelContent, withPackSize: boolean): string[] | undefined {
  const pack = withPackSize && content.packSize ? noBreak(content.packSize.trim()) : undefined;
  const up = content.unitPrice ? noBreak(`${content.unitPrice.per} = ${formatEuro(content.unitPrice.cents)}`) : undefined;
  if (pack && up) return [`${pack} (${up})`, up];
  if (up) return [up];
  if (pack) return [pack];
  return undefined;
}

export function regularPriceWording(cents: number, style: 'statt' | 'strike'): string {
  return style === 'statt' ? `statt ${formatEuro(cents)}` : formatEuro(cents);
}

export function stockWording(stock: LabelContent['stock']): string | undefined {
  if (!stock) return undefined;
  switch (stock.state) {
    case 'in_stock':
      return undefined;
    case 'low':
      return stock.quantity ? `Nur noch ${stock.quantity}` : 'Nur noch wenige';
    case 'out_of_stock':
      return 'Ausverkauft';
    case 'online_only':
      return 'Online verfügbar';
  }
}
