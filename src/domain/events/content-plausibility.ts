/**
 * Content checks at intake (issue 12, docs/decisions.md D48), after the schema and before anything is stored:
 *
 * - Printed text (product name, brand, pack size as printed, promotion badge) must be printable: a character that no
 *   bundled font has (D70: the cmaps of DejaVu and the Noto fallbacks) is refused with CONTENT_UNSUPPORTED_CHARACTER
 *   naming it (U+1F36B 🍫), never an empty box on a
 *   shelf. The renderer checks again for content from other paths (rendering/content-checks.ts).
 * - A price of 0 (regular or promotion) is refused with PRICE_IMPLAUSIBLE and raises a store alert, unless the event
 *   says it is intended (`intended: true`, e.g. a free give-away): a 0 from a broken ERP export must not reach the
 *   shelf as "0,00 €".
 */
import { EdgeErrorCode, type EdgeEvent, type SingleEvent } from '#contracts';
import { describeCodePoint, unsupportedCharacters } from '../rendering/content-checks.js';
import type { Printable } from '../rendering/printable-set.js';

export interface ContentRefusal {
  code: string;
  reason: string;
  /** A store alert to raise with the refusal (out/alerts), when the refusal is something a person must look at. */
  alert?: { type: string; gtin?: string; detail: string };
}

type Leaf = SingleEvent;

function leaves(e: EdgeEvent): Leaf[] {
  return e.type === 'batch' ? e.data.events : [e];
}

function printedText(e: Leaf): [string, string][] {
  if (e.type === 'product') {
    const out: [string, string][] = [['name', e.data.name]];
    if (e.data.brand) out.push(['brand', e.data.brand]);
    if (e.data.packSize?.display) out.push(['packSize.display', e.data.packSize.display]);
    return out;
  }
  if (e.type === 'promotion' && e.data.badge) return [['badge', e.data.badge]];
  return [];
}

/** The first reason to refuse the event, or null. */
export function checkEventContent(event: EdgeEvent, printable: Printable): ContentRefusal | null {
  for (const e of leaves(event)) {
    for (const [field, value] of printedText(e)) {
      const bad = unsupportedCharacters(printable, value);
      if (bad.length > 0) {
        return {
          code: EdgeErrorCode.CONTENT_UNSUPPORTED_CHARACTER,
          reason: `${e.type} ${e.id}: ${field} "${value}" has characters no bundled font can print: ${bad.map(describeCodePoint).join(', ')}`,
        };
      }
    }
    if (e.type === 'price' && e.data.priceCents === 0 && e.data.intended !== true) {
      const detail = `price event ${e.id} sets GTIN ${e.data.gtin} to 0,00 €; not applied (send intended: true if it is meant)`;
      return { code: EdgeErrorCode.PRICE_IMPLAUSIBLE, reason: detail, alert: { type: 'price-implausible', gtin: e.data.gtin, detail } };
    }
    if (e.type === 'promotion' && e.data.promoPriceCents === 0 && e.data.intended !== true && e.data.cancelled !== true) {
      const detail = `promotion ${e.data.promotionId} (event ${e.id}) sets a promotion price of 0,00 €; not applied (send intended: true if it is meant)`;
      return { code: EdgeErrorCode.PRICE_IMPLAUSIBLE, reason: detail, alert: { type: 'price-implausible', detail } };
    }
  }
  return null;
}
