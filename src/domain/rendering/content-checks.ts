/**
 * Checks on label content wherever it enters (issue 12, D48):
 *
 * - A character that no bundled font has would be drawn as an empty box (.notdef) on a shelf: refused, naming it,
 *   at intake (content-plausibility.ts) and again in the renderer for every caller (planner, previews).
 * - Posted content (preview API): a promotion whose reference ("statt") price is above the PAngV §11 lowest price
 *   of the prior 30 days would announce a larger reduction than the law allows (D12, CJEU C-330/23); a promotion
 *   price at or above its reference is no reduction. Both refused (CONTENT_INCOHERENT).
 */
import type { FontSet } from './fonts.js';
import type { LabelContent } from './label-content.js';
import { renderError } from './rendering-errors.js';
import { normaliseText } from './text-shaper.js';

/** "U+4E2D 中" — how a refused character is named in errors. */
export function describeCodePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} ${String.fromCodePoint(cp)}`;
}

/**
 * Code points of `text` (after label normalisation) that some bundled face lacks. Every face must have it: a
 * template may set any field in any of them.
 */
export function unsupportedCharacters(fonts: FontSet, text: string): number[] {
  const out = new Set<number>();
  for (const ch of normaliseText(text)) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x20) continue;
    if (needsShaping(cp)) {
      // DejaVu has some Arabic and Hebrew letters, but the renderer sets glyphs left to right without joining: an
      // Arabic name would be printed unjoined and backwards. Refused until a shaper is wired in (issue 12).
      out.add(cp);
      continue;
    }
    for (const face of Object.values(fonts)) {
      if (!face.hasGlyph(cp)) {
        out.add(cp);
        break;
      }
    }
  }
  return [...out];
}

/** Right-to-left and joining scripts (Hebrew, Arabic, Syriac, Thaana, NKo, their presentation forms). */
function needsShaping(cp: number): boolean {
  return (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) || (cp >= 0xfe70 && cp <= 0xfeff) || (cp >= 0x200e && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e);
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
export function assertPrintable(fonts: FontSet, c: LabelContent): void {
  for (const [field, value] of printedFields(c)) {
    const bad = unsupportedCharacters(fonts, value);
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
