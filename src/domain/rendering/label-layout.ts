/**
 * Layout: template × content × label type × page → where every element goes and what it draws, in pixels and
 * panel colours. Pure and synchronous (fonts are parsed already); rasterisation happens afterwards (label-raster.ts).
 *
 * Every draw operation of an element lies inside the element's box, by construction: text is accepted only at a size
 * where its glyphs' ink bounds fit (text-fit.ts), codes are placed only when they fit with their quiet zones. The
 * layout result is what the tests check rendered pixels against.
 */
import type { LabelType } from '#protocol';
import { formatDateDe, formatEuro } from '../pricing/price-format.js';
import { EAN_QUIET, eanModules, QR_QUIET, qrModules } from './barcode.js';
import type { FontId, FontSet } from './fonts.js';
import { lineRect, resolveBox, resolvePoint } from './geometry.js';
import { digitalLinkUri, type EslError, gtinCheckDigitOk, type LabelContent, retailBarcodeFor } from '#contracts';
import { lowestPriorWordings, regularPriceWording, stockWording, unitPriceWordings } from './label-wording.js';
import { resolveFill, resolveText, textOn, type PanelColour } from './panel-colours.js';
import { fitSplitPrice, type PlacedText } from './price-layout.js';
import { renderError } from './rendering-errors.js';
import { fitText, type Align, type FittedText, type Rect, type VAlign } from './text-fit.js';
import { normaliseText } from './text-normalise.js';
import type { ElementType, LabelTemplate, TemplateElement, TextPlaceholder } from './template-schema.js';

/**
 * Smallest text size (px) drawn on a label type, whatever a template asks for (issue 12, D46): below it an OCR reader
 * (test/rendering/ocr-legibility.test.ts) misreads grid-fitted DejaVu at 1 bit per pixel far too often. Legally
 * required text is never set smaller (the layout is refused instead); other text is shortened or dropped (D47).
 */
export function legibleMinPx(t: LabelType): number {
  return t.diagonalInch < 2 ? LEGIBLE_MIN_SMALL_PX : LEGIBLE_MIN_PX;
}
export const LEGIBLE_MIN_PX = 10;
/** On 1.54" panels (152 px wide) a 10 px minimum leaves too little for a name; 9 px keeps the CER within 5 %. */
export const LEGIBLE_MIN_SMALL_PX = 9;
/** Kept for callers that need one figure: the smallest size any label type draws text at. */
export const LEGIBILITY_FLOOR_PX = LEGIBLE_MIN_SMALL_PX;
/** Largest size at which bold text is set in the regular weight instead (px; D46, measured by OCR). */
export const BOLD_MIN_PX = 11;
const REGULAR_OF: Partial<Record<FontId, FontId>> = { 'sans-bold': 'sans', 'condensed-bold': 'condensed' };
/** Margin of a highlight plate around its text (px). */
const PLATE_PAD = 1;

export type DrawOp =
  | { op: 'fill'; rect: Rect; colour: PanelColour }
  | {
      op: 'glyphs';
      font: FontId;
      size: number;
      colour: PanelColour;
      /** Glyph index and whole-pixel origin (x, baseline y) of every glyph drawn. */
      glyphs: { gi: number; x: number; y: number }[];
      /** The same as text runs (origin and baseline of each line), for previews and SVG export. */
      runs: { text: string; x: number; baseline: number }[];
    }
  | { op: 'modules'; x: number; y: number; cols: number; rows: number; moduleW: number; moduleH: number; bits: Uint8Array; colour: PanelColour };

export interface ElementLayout {
  index: number;
  type: ElementType;
  id?: string;
  /** The element's box in pixels (for a line: the rectangle it covers). Nothing it draws lies outside. */
  box: Rect;
  /** False when the element is not shown for this content (reason says why). */
  shown: boolean;
  reason?: string;
  /** Bounds of everything drawn, or null. */
  ink: Rect | null;
  /** The text printed, lines joined by "\n". */
  text?: string;
  size?: number;
  truncated?: boolean;
  ops: DrawOp[];
}

export interface LabelLayout {
  template: string;
  labelType: LabelType;
  page: number;
  elements: ElementLayout[];
  warnings: string[];
}

interface Ctx {
  fonts: FontSet;
  t: LabelType;
  content: LabelContent;
  template: LabelTemplate;
  page: number;
  warnings: string[];
  /** legibleMinPx(t). */
  legibleMin: number;
}

function union(a: Rect | null, b: Rect | null): Rect | null {
  if (!a) return b;
  if (!b) return a;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

function inset(r: Rect, d: number): Rect {
  return { x: r.x + d, y: r.y + d, w: Math.max(0, r.w - 2 * d), h: Math.max(0, r.h - 2 * d) };
}

function clip(r: Rect, to: Rect): Rect {
  const x = Math.max(r.x, to.x);
  const y = Math.max(r.y, to.y);
  return { x, y, w: Math.max(0, Math.min(r.x + r.w, to.x + to.w) - x), h: Math.max(0, Math.min(r.y + r.h, to.y + to.h) - y) };
}

function glyphOp(font: FontId, colour: PanelColour, parts: readonly PlacedText[]): DrawOp[] {
  // One op per size (a split price has two sizes).
  const bySize = new Map<number, Extract<DrawOp, { op: 'glyphs' }>>();
  for (const p of parts) {
    let op = bySize.get(p.size);
    if (!op) {
      op = { op: 'glyphs', font, size: p.size, colour, glyphs: [], runs: [] };
      bySize.set(p.size, op);
    }
    for (const g of p.run.glyphs) op.glyphs.push({ gi: g.gi, x: p.x + g.x, y: p.baseline + (g.y ?? 0) });
    op.runs.push({ text: p.text, x: p.x, baseline: p.baseline });
  }
  return [...bySize.values()];
}

function fittedParts(f: FittedText): PlacedText[] {
  return f.lines.map((l) => ({ text: l.text, size: f.size, x: l.x, baseline: l.baseline, run: l.run }));
}

function placeholders(c: LabelContent): Record<TextPlaceholder, string | undefined> {
  return {
    brand: c.brand,
    name: c.name,
    packSize: c.packSize,
    gtin: c.gtin,
    endsOn: c.promotion?.endsOn ? formatDateDe(c.promotion.endsOn) : undefined,
    badge: c.promotion?.badge,
  };
}

/**
 * Fills placeholders; undefined when a required one has no value (the element is then not shown). "{brand?}" is
 * optional: it becomes empty instead.
 */
function fillText(text: string, c: LabelContent): string | undefined {
  const values = placeholders(c);
  let missing = false;
  const out = text.replace(/\{([a-zA-Z]+)(\??)\}/g, (_m, key: string, optional: string) => {
    const v = values[key as TextPlaceholder];
    if ((v === undefined || v.trim() === '') && !optional) missing = true;
    return v ?? '';
  });
  const norm = normaliseText(out);
  return missing || norm === '' ? undefined : norm;
}

type TextLike = Extract<TemplateElement, { font: FontId; maxLines: number }>;

interface TextOutcome {
  ops: DrawOp[];
  ink: Rect | null;
  text: string;
  size: number;
  truncated: boolean;
}

/** Fits wordings into the element's box in its colour role (with a plate where the palette needs one). */
function layoutText(ctx: Ctx, el: TextLike, box: Rect, candidates: string[], legal: boolean, what: string, prefer: 'size' | 'wording' = 'size'): TextOutcome | null {
  const colour = resolveText(el.color, ctx.t.palette, el.inverseOnBw);
  const pad = colour.plate ? PLATE_PAD : 0;
  const area = inset(box, pad);
  const min = Math.max(el.size.min, ctx.legibleMin);
  const request = (font: FontId, sizeMax: number) =>
    fitText({
      face: ctx.fonts[font],
      candidates,
      sizeMax,
      sizeMin: min,
      floor: legal ? min : undefined,
      maxLines: el.maxLines,
      prefer,
      lineHeight: el.lineHeight,
      box: area,
      align: el.align,
      valign: el.valign,
    });
  let font = el.font;
  let fit = request(font, Math.max(el.size.max, min));
  const regular = REGULAR_OF[font];
  if (fit && regular && fit.size <= BOLD_MIN_PX) {
    // Bold below BOLD_MIN_PX closes its counters at 1 bit per pixel ("o" read as "a", "ü" as "i"): the regular
    // weight is set instead, at no larger size than the bold got (D46).
    const plain = request(regular, fit.size);
    if (plain) {
      font = regular;
      fit = plain;
    }
  }
  if (!fit) {
    if (legal) throw overflow(ctx, what, candidates[candidates.length - 1]!, box);
    ctx.warnings.push(`TEXT_DROPPED: ${what} "${candidates[0]}" cannot be set legibly (≥ ${min} px) in its ${box.w}×${box.h} box; not shown`);
    return null;
  }
  if (fit.truncated) ctx.warnings.push(`TEXT_SHORTENED: ${what} "${candidates[0]}" shortened to "${fit.lines.map((l) => l.text).join(' ')}"`);
  const ops: DrawOp[] = [];
  let ink: Rect | null = fit.ink;
  if (colour.plate && fit.ink.w > 0) {
    const plate = clip({ x: fit.ink.x - pad, y: fit.ink.y - pad, w: fit.ink.w + 2 * pad, h: fit.ink.h + 2 * pad }, box);
    ops.push({ op: 'fill', rect: plate, colour: colour.plate });
    ink = plate;
  }
  ops.push(...glyphOp(font, colour.text, fittedParts(fit)));
  return { ops, ink, text: fit.lines.map((l) => l.text).join('\n'), size: fit.size, truncated: fit.truncated };
}

function overflow(ctx: Ctx, what: string, text: string, box: Rect): EslError {
  return renderError(
    'LAYOUT_OVERFLOW',
    `template "${ctx.template.name}" on "${ctx.t.name}" page ${ctx.page}: ${what} "${text}" does not fit its ${box.w}×${box.h} box even at ${ctx.legibleMin} px`,
  );
}

/** Places a module pattern (1 px per module scaled by moduleW × moduleH) aligned in the box. */
function alignIn(box: Rect, w: number, h: number, align: Align, valign: VAlign): { x: number; y: number } {
  const x = align === 'left' ? box.x : align === 'right' ? box.x + box.w - w : box.x + Math.floor((box.w - w) / 2);
  const y = valign === 'top' ? box.y : valign === 'bottom' ? box.y + box.h - h : box.y + Math.floor((box.h - h) / 2);
  return { x, y };
}

type Outcome = Omit<ElementLayout, 'index' | 'type' | 'id' | 'box'>;
const hidden = (reason: string): Outcome => ({ shown: false, reason, ink: null, ops: [] });
const shownText = (o: TextOutcome | null, reason: string): Outcome =>
  o ? { shown: true, ink: o.ink, text: o.text, size: o.size, truncated: o.truncated, ops: o.ops } : hidden(reason);

function layoutElement(ctx: Ctx, el: TemplateElement, box: Rect): Outcome {
  const c = ctx.content;
  const promo = c.promotion;
  switch (el.type) {
    case 'text': {
      const texts = (Array.isArray(el.text) ? el.text : [el.text]).map((t) => fillText(t, c)).filter((t): t is string => t !== undefined);
      if (texts.length === 0) return hidden('a placeholder has no value');
      return shownText(layoutText(ctx, el, box, [...new Set(texts)], false, 'text', 'wording'), 'box too small for one line');
    }
    case 'price': {
      if (el.style === 'inline') return shownText(layoutText(ctx, el, box, [formatEuro(c.priceCents)], true, 'price'), '');
      const colour = resolveText(el.color, ctx.t.palette, el.inverseOnBw);
      const pad = colour.plate ? PLATE_PAD : 0;
      const fit = fitSplitPrice(ctx.fonts[el.font], c.priceCents, inset(box, pad), el.size.max, Math.max(el.size.min, ctx.legibleMin), el.align, el.valign);
      if (!fit) throw overflow(ctx, 'price', formatEuro(c.priceCents), box);
      const ops: DrawOp[] = [];
      let ink = fit.ink;
      if (colour.plate) {
        ink = clip({ x: ink.x - pad, y: ink.y - pad, w: ink.w + 2 * pad, h: ink.h + 2 * pad }, box);
        ops.push({ op: 'fill', rect: ink, colour: colour.plate });
      }
      ops.push(...glyphOp(el.font, colour.text, fit.parts));
      return { shown: true, ink, text: fit.parts.map((p) => p.text).join(' '), size: fit.size, ops };
    }
    case 'unit-price': {
      const wordings = unitPriceWordings(c, el.withPackSize);
      if (!wordings) return hidden('no unit price and no pack size');
      return shownText(layoutText(ctx, el, box, wordings, true, 'unit price'), '');
    }
    case 'regular-price': {
      if (!promo) return hidden('no promotion');
      const o = layoutText(ctx, el, box, [regularPriceWording(promo.regularPriceCents, el.style)], true, 'regular price')!;
      if (el.style === 'strike' && o.ink) {
        // Struck through at half the digit height, as thick as a digit stroke is thin.
        const thick = Math.max(1, Math.round(o.size / 12));
        const face = ctx.fonts[el.font];
        const glyphs = o.ops.find((op) => op.op === 'glyphs');
        const baseline = glyphs && glyphs.op === 'glyphs' ? glyphs.glyphs[0]!.y : o.ink.y + o.ink.h;
        const mid = baseline - Math.round((face.digitTop * o.size) / face.unitsPerEm / 2);
        const strike = clip({ x: o.ink.x - 1, y: mid - Math.floor(thick / 2), w: o.ink.w + 2, h: thick }, box);
        const colour = resolveText(el.color, ctx.t.palette, el.inverseOnBw).text;
        o.ops.push({ op: 'fill', rect: strike, colour });
        o.ink = union(o.ink, strike);
      }
      return shownText(o, '');
    }
    case 'lowest-prior-price': {
      if (!promo) return hidden('no promotion');
      return shownText(layoutText(ctx, el, box, lowestPriorWordings(promo.lowestPrior30dCents), true, 'lowest prior price (PAngV §11)'), '');
    }
    case 'badge': {
      if (!promo) return hidden('no promotion');
      const text = fillText(el.text, c) ?? normaliseText(el.fallback);
      const fill = resolveFill(el.fill, ctx.t.palette);
      const badgeFit = (font: FontId, sizeMax: number) =>
        fitText({
          face: ctx.fonts[font],
          candidates: [text],
          sizeMax,
          sizeMin: Math.max(el.size.min, ctx.legibleMin),
          maxLines: 1,
          lineHeight: 1.1,
          box: inset(box, el.padding),
          align: 'center',
          valign: 'middle',
        });
      let font = el.font;
      let fit = badgeFit(font, Math.max(el.size.max, ctx.legibleMin));
      const regular = REGULAR_OF[font];
      if (fit && regular && fit.size <= BOLD_MIN_PX) {
        // As for text (D46): a bold badge word at ≤ 11 px closes its counters ("Wochen" read "Wehen"; D71).
        const plain = badgeFit(regular, fit.size);
        if (plain) {
          font = regular;
          fit = plain;
        }
      }
      const ops: DrawOp[] = [{ op: 'fill', rect: box, colour: fill }];
      if (fit) ops.push(...glyphOp(font, textOn(fill), fittedParts(fit)));
      if (!fit) ctx.warnings.push(`TEXT_DROPPED: badge "${text}" cannot be set legibly (≥ ${ctx.legibleMin} px); plain badge shown`);
      else if (fit.truncated) ctx.warnings.push(`TEXT_SHORTENED: badge "${text}" shortened to "${fit.lines[0]?.text ?? ''}"`);
      return { shown: true, ink: box, text: fit ? text : '', size: fit?.size, truncated: fit?.truncated, ops };
    }
    case 'reduction-reason': {
      if (!promo?.exemptReason) return hidden('no exempt reduction');
      return shownText(layoutText(ctx, el, box, [promo.exemptReason], false, 'reduction reason (PAngV §11(4))'), 'box too small for one line');
    }
    case 'notice': {
      if (!c.outOfStock) return hidden('no notice');
      return shownText(layoutText(ctx, el, box, [c.outOfStock.text], false, 'notice'), 'box too small for one line');
    }
    case 'stock': {
      const text = stockWording(c.stock);
      if (!text) return hidden('nothing to say about stock');
      return shownText(layoutText(ctx, el, box, [text], false, 'stock'), 'box too small for one line');
    }
    case 'ean13': {
      const code = retailBarcodeFor(c.gtin);
      if (!code) {
        ctx.warnings.push(`GTIN_NO_RETAIL_BARCODE: GTIN ${c.gtin} ${gtinCheckDigitOk(c.gtin) ? 'has no EAN-13/EAN-8 form' : 'has a wrong check digit'}`);
        return hidden('GTIN cannot be shown as EAN-13/EAN-8');
      }
      const modules = eanModules(code);
      const quiet = EAN_QUIET[code.symbology];
      const total = modules.length + quiet.left + quiet.right;
      const mw = Math.min(el.maxModule, Math.floor(box.w / total));
      if (mw < 1) {
        ctx.warnings.push(`BARCODE_TOO_SMALL: ${code.symbology} needs ${total} px, the box is ${box.w} px wide`);
        return hidden('box narrower than one pixel per module');
      }
      const barsW = modules.length * mw;
      let barH = box.h;
      let digits: FittedText | null = null;
      if (el.humanReadable) {
        const textH = Math.max(8, Math.min(Math.round(box.h * 0.3), 8 + 6 * mw));
        if (box.h - textH - 1 >= 12) {
          const pos = alignIn(box, total * mw, box.h, el.align, el.valign);
          digits = fitText({
            face: ctx.fonts.condensed,
            candidates: [code.digits],
            sizeMax: textH,
            sizeMin: 7,
            floor: 7,
            maxLines: 1,
            lineHeight: 1,
            box: { x: pos.x + quiet.left * mw, y: box.y + box.h - textH, w: barsW, h: textH },
            align: 'center',
            valign: 'bottom',
          });
          if (digits) barH = box.h - textH - 1;
        }
      }
      if (barH < 8) return hidden('box lower than 8 px');
      const pos = alignIn(box, total * mw, digits ? box.h : barH, el.align, digits ? 'top' : el.valign);
      const bars: DrawOp = { op: 'modules', x: pos.x + quiet.left * mw, y: pos.y, cols: modules.length, rows: 1, moduleW: mw, moduleH: barH, bits: modules, colour: 'black' };
      const ops: DrawOp[] = [bars];
      let ink: Rect | null = { x: bars.x, y: bars.y, w: barsW, h: barH };
      if (digits) {
        ops.push(...glyphOp('condensed', 'black', fittedParts(digits)));
        ink = union(ink, digits.ink);
      }
      return { shown: true, ink, text: code.digits, ops };
    }
    case 'qr': {
      if (el.data === 'shop-link') {
        if (!c.outOfStock?.url) return hidden('no web shop link');
        return qrOf(ctx, el, box, c.outOfStock.url);
      }
      if (!gtinCheckDigitOk(c.gtin)) {
        ctx.warnings.push(`GTIN_CHECK_DIGIT: GTIN ${c.gtin} has a wrong check digit; no Digital Link QR`);
        return hidden('GTIN has a wrong check digit');
      }
      return qrOf(ctx, el, box, digitalLinkUri(c.gtin));
    }
    case 'rect': {
      const ops: DrawOp[] = [];
      if (el.fill !== 'none') ops.push({ op: 'fill', rect: box, colour: resolveFill(el.fill, ctx.t.palette) });
      if (el.stroke > 0) {
        const s = Math.min(el.stroke, Math.floor(box.w / 2), Math.floor(box.h / 2));
        const colour = resolveFill(el.strokeColor, ctx.t.palette);
        ops.push(
          { op: 'fill', rect: { x: box.x, y: box.y, w: box.w, h: s }, colour },
          { op: 'fill', rect: { x: box.x, y: box.y + box.h - s, w: box.w, h: s }, colour },
          { op: 'fill', rect: { x: box.x, y: box.y, w: s, h: box.h }, colour },
          { op: 'fill', rect: { x: box.x + box.w - s, y: box.y, w: s, h: box.h }, colour },
        );
      }
      return { shown: ops.length > 0, ink: ops.length > 0 ? box : null, ops };
    }
    case 'line':
      return { shown: true, ink: box, ops: [{ op: 'fill', rect: box, colour: resolveFill(el.color, ctx.t.palette) }] };
  }
}


/** A QR code of `uri`, quiet zone of 4 modules inside the box, whole-pixel modules. */
function qrOf(ctx: Ctx, el: Extract<TemplateElement, { type: 'qr' }>, box: Rect, uri: string): Outcome {
  const m = qrModules(uri, el.ecLevel);
  const n = m.size + 2 * QR_QUIET;
  const mw = Math.min(el.maxModule, Math.floor(Math.min(box.w, box.h) / n));
  if (mw < 1) {
    ctx.warnings.push(`BARCODE_TOO_SMALL: QR needs ${n} px, the box is ${box.w}×${box.h} px`);
    return hidden('box smaller than one pixel per module');
  }
  const pos = alignIn(box, n * mw, n * mw, el.align, el.valign);
  const x = pos.x + QR_QUIET * mw;
  const y = pos.y + QR_QUIET * mw;
  return {
    shown: true,
    ink: { x, y, w: m.size * mw, h: m.size * mw },
    text: uri,
    ops: [{ op: 'modules', x, y, cols: m.size, rows: m.size, moduleW: mw, moduleH: mw, bits: m.bits, colour: 'black' }],
  };
}

function elementBox(el: TemplateElement, t: LabelType): Rect {
  if (el.type === 'line') return lineRect(resolvePoint(el.from, t), resolvePoint(el.to, t), el.thickness)!;
  return resolveBox(el.box, t);
}

/** Lays out one page of a template (already validated for this label type by the loader). */
export function layoutPage(fonts: FontSet, template: LabelTemplate, elements: readonly TemplateElement[], content: LabelContent, t: LabelType, page: number): LabelLayout {
  const ctx: Ctx = { fonts, t, content, template, page, warnings: [], legibleMin: legibleMinPx(t) };
  const out: ElementLayout[] = elements.map((el, index) => {
    const box = elementBox(el, t);
    const head = { index, type: el.type, ...(el.id ? { id: el.id } : {}), box };
    const active = el.when === 'always' || (el.when === 'promotion') === Boolean(content.promotion);
    if (!active) return { ...head, ...hidden(`shown only ${el.when === 'promotion' ? 'with' : 'without'} a promotion`) };
    return { ...head, ...layoutElement(ctx, el, box) };
  });
  return { template: template.name, labelType: t, page, elements: out, warnings: ctx.warnings };
}
