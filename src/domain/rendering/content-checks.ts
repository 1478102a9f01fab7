/**
 * Checks on label content wherever it enters (issue 12, D48):
 *
 * - A character that no bundled font has would be drawn as an empty box (.notdef) on a shelf: refused, naming it,
 *   at intake (content-plausibility.ts) and again in the renderer for every caller (planner, previews). "Bundled"
 *   is the whole fallback chain (fonts.ts, D68/D69): DejaVu, then Noto Sans Arabic/Hebrew and the Noto Sans CJK
 *   subset, read from their cmaps, so what passes is exactly what the shaper can draw.
 * - Posted content (preview API): a promotion whose reference ("statt") price is above the PAngV §11 lowest price
 *   of the prior 30 days would announce a larger reduction than the law allows (D12, CJEU C-330/23); a promotion
 *   price at or above its reference is no reduction. Both refused (CONTENT_INCOHERENT).
 */
import type { Printable } from './printable-set.js';
import type { LabelContent } from '#contracts';
import { renderError } from './rendering-errors.js';
import { normaliseText } from './text-normalise.js';

/** "U+1F36B 🍫" — how a refused character is named in errors. */
export function describeCodePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${String.fromCodePoint(cp)}`;
}

/**
 * Code points of `text` (after label normalisation) that some face's chain lacks. Every chain must have it: a
 * template may set any field in any of them. Right-to-left letters count only in a shaped Noto face (DejaVu's
 * unjoined Arabic is never used); explicit bidi controls are refused (fonts.ts hasGlyph, printable-set.ts).
 */
export function unsupportedCharacters(printable: Printable, text: string): number[] {
  const out = new Set<number>();
  for (const ch of normaliseText(text)) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x20) continue;
    if (!printable.has(cp)) out.add(cp);
  }
  return [...out];
}

/** The text fields of label content that are printed as given. */
function printedFields(c: LabelContent): [string, string][] {
  const out: [string, string][] = [['name', c.name]];
  if (c.brand) out.push(['brand', c.brand]);
  if (c.packSize) out.push(['packSize', c.packSize]);
  if (c.promotion?.badge) out.push(['promotion.badge', c.promotion.badge]);
  return out;
}

/** Throws renderError CONTENT_UNSUPPORTED_CHARACTER: every caller of the renderer is covered. */
export function assertPrintable(printable: Printable, c: LabelContent): void {
  for (const [field, value] of printedFields(c)) {
    const bad = unsupportedCharacters(printable, value);
    if (bad.length > 0) {
      throw renderError('CONTENT_UNSUPPORTED_CHARACTER', `${field} "${value}" has characters no bundled font has: ${bad.map(describeCodePoint).join(', ')}`);
    }
  }
}

/**
 * Why posted label content contradicts itself, or null. Checked where content enters from outside the pipeline (the
 * preview API); the pipeline's content builder sets the reference price to the §11 price itself (D12).
 */
export function coherenceProblem(c: LabelContent): string | null {
  const p = c.promotion;
  if (p && p.regularPriceCents > p.lowestPrior30dCents) {
    return `promotion reference price ${p.regularPriceCents} ct is above the PAngV §11 lowest price of the prior 30 days (${p.lowestPrior30dCents} ct); the reference must not exceed it (D12)`;
  }
  if (p && c.priceCents >= p.regularPriceCents) return `promotion price ${c.priceCents} ct is not below its reference price ${p.regularPriceCents} ct`;
  return null;
}
