/**
 * Protocol bytes benchmark: what a price change costs on the radio. For every bundled label type it renders the
 * demo store's catalogue (simulator/stores/demo-store.json) with the real renderer, then renders it again after a
 * price-only change (−10 %, rounded to cents; the unit price follows, as PAngV §4 requires) and reports per label
 * type the medians over the catalogue of:
 *
 * - raw plane bytes (§6.1) and their bytes on air (§9.5, `bytesOnAir`);
 * - the best FULL image (§6.2: RAW / RLE / ZLIB, `encodeImage` with kinds [FULL]) of the new label;
 * - the best delta (§6.3: DELTA_XOR / DELTA_REGION against the old image) of the same change;
 * - the ratio delta / full, and how often each encoding and kind won;
 * - ZLIB vs RLE (PackBits) on the full images (and on the deltas);
 * - the CTX encoding (§6.6) against the best of RAW / RLE / ZLIB, for full images and deltas, with the ratio, and
 *   what `chooseEncoding` sends a label that decodes CTX (and how long that choice takes, ms per label);
 * - the whole transfer exchange of that choice (§9.5.2, `exchangeCost`: offer, block requests, parts,
 *   RADIO_XFER_DONE) with RADIO_PENDING, with a compact RADIO_OFFER without data, and with RADIO_OFFER carrying
 *   part 0 (§9.10), in bytes, frames and the reference store's byte-equivalents (`boundCost`: 4 ms = 20 B a frame).
 *
 * Every encoded payload is decoded again with `applyImage` (as a label would, §6.4) and checked against the new
 * planes, so no figure counts bytes that would not rebuild the image.
 *
 *   npm run build && node dist/bench/protocol-bytes.js
 *
 * Prints one JSON object per line ({"bench":"protocol-bytes", ...}), then a table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  LABEL_TYPES,
  ImageEncoding,
  ImageKind,
  ApCapability,
  LabelDecoder,
  applyImage,
  boundCost,
  bytesOnAir,
  chooseEncoding,
  exchangeCost,
  radioOfferHeaderBytes,
  type ExchangeCost,
  encodeImage,
  imageBytes,
  partialRefreshApplies,
  type EncodedImage,
  type LabelType,
} from '#protocol';
import { LabelRenderer } from '../src/domain/rendering/label-renderer.js';
import type { LabelContent } from '#contracts';
import { PACKAGE_ROOT } from '../src/domain/rendering/package-root.js';
import { unitPrice, type MeasureUnit } from '../src/domain/pricing/unit-price.js';
import { formatPackSize } from '../src/domain/labels/content-builder.js';
import { ProductSchema, type Product } from '../simulator/src/store-file.js';

const STORE_FILE = path.join(PACKAGE_ROOT, 'simulator', 'stores', 'demo-store.json');
/** The price change under test: −10 %, rounded to whole cents. */
const PRICE_FACTOR = 0.9;
/** Label mix of the reference store (/work/shared/reference-store.md), for one weighted figure per label. */
const REFERENCE_MIX: Readonly<Record<string, number>> = {
  'epd-29-bwr': 0.6,
  'epd-213-bwr': 0.2,
  'epd-154-bw': 0.1,
  'epd-42-bwry': 0.08,
  'epd-75-bwr': 0.02,
};

const ENCODING_NAME: Record<ImageEncoding, string> = {
  [ImageEncoding.RAW]: 'RAW',
  [ImageEncoding.RLE]: 'RLE',
  [ImageEncoding.ZLIB]: 'ZLIB',
  [ImageEncoding.CTX]: 'CTX',
};
/** What the labels of before §6.6 decode, and what an AP and a label with CTX announce (§5.1, §5.3). */
const LEGACY_ENCODINGS = [ImageEncoding.RAW, ImageEncoding.RLE, ImageEncoding.ZLIB];
const AP_ALL = ApCapability.DELTA_XOR | ApCapability.DELTA_REGION | ApCapability.RLE | ApCapability.ZLIB | ApCapability.CTX;
const LABEL_CTX = LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX;
const KIND_NAME: Record<ImageKind, string> = { [ImageKind.FULL]: 'FULL', [ImageKind.DELTA_XOR]: 'DELTA_XOR', [ImageKind.DELTA_REGION]: 'DELTA_REGION' };
/** The store file's pack units → the unit-price module's (as the demo seeds them, demo/src/demo.ts). */
const UNIT: Record<Product['packSize']['unit'], MeasureUnit> = { g: 'g', kg: 'kg', ml: 'ml', l: 'l', m: 'm', 'm²': 'm2', Stück: 'piece' };

/** The three ways to offer a transfer (§9.5.2): RADIO_PENDING; RADIO_OFFER without data; RADIO_OFFER with part 0. */
const EXCHANGES = ['pending', 'offer_no_data', 'offer'] as const;
type Exchange = (typeof EXCHANGES)[number];

function exchangeOf(e: EncodedImage, how: Exchange): ExchangeCost {
  const shape = { ...e, totalSize: e.payload.length, displayAt: 0, page: 0 };
  const pending = exchangeCost(shape, false);
  if (how === 'pending') return pending;
  // The compact header alone: the pending exchange with the offer's header in place of the 52-byte descriptor.
  if (how === 'offer_no_data') return { bytes: pending.bytes - 52 + radioOfferHeaderBytes(shape), frames: pending.frames };
  return exchangeCost(shape, true);
}

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'protocol-bytes', ...o })}\n`);
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function count(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}

/** What the edge would put on the label, from the store file's product at a given price. */
function contentFor(p: Product, priceCents: number): LabelContent {
  const unit = UNIT[p.packSize.unit];
  const perUnit = unitPrice({ priceCents, quantity: p.packSize.quantity, unit, loose: p.loose });
  const packSize = formatPackSize({ pack_quantity: p.packSize.quantity, pack_unit: unit, multipack: null, pack_display: null });
  return {
    gtin: p.gtin,
    name: p.name,
    ...(p.brand ? { brand: p.brand } : {}),
    ...(packSize ? { packSize } : {}),
    priceCents,
    currency: 'EUR',
    ...(perUnit ? { unitPrice: perUnit } : {}),
  };
}

/** Decodes `enc` as a label showing `base` would (§6.4) and insists on getting `target` back. */
function verify(t: LabelType, enc: EncodedImage, base: Uint8Array | null, target: Uint8Array, what: string): void {
  const out = applyImage({ labelType: t, kind: enc.kind, encoding: enc.encoding, region: enc.region, payload: enc.payload, current: base, baseHash: enc.baseHash, targetHash: enc.targetHash });
  if (Buffer.compare(out, target) !== 0) throw new Error(`${t.name} ${what}: decoded image differs from the rendered one`);
}

interface LabelFigures {
  full: EncodedImage;
  delta: EncodedImage;
  region: EncodedImage;
  fullRle: number;
  fullZlib: number;
  deltaRle: number;
  deltaZlib: number;
  partial: boolean;
  ctxFull: EncodedImage;
  ctxDelta: EncodedImage;
  /** What chooseEncoding sends a CTX label behind a CTX AP, and the ms the choice took. */
  chosen: EncodedImage;
  chooseMs: number;
}

function measure(t: LabelType, before: Uint8Array, after: Uint8Array): LabelFigures {
  const full = encodeImage({ labelType: t, target: after, kinds: [ImageKind.FULL], encodings: LEGACY_ENCODINGS });
  const delta = encodeImage({ labelType: t, target: after, base: before, kinds: [ImageKind.DELTA_XOR, ImageKind.DELTA_REGION], encodings: LEGACY_ENCODINGS });
  const region = encodeImage({ labelType: t, target: after, base: before, kinds: [ImageKind.DELTA_REGION], encodings: LEGACY_ENCODINGS });
  const ctxFull = encodeImage({ labelType: t, target: after, kinds: [ImageKind.FULL], encodings: [ImageEncoding.CTX] });
  const ctxDelta = encodeImage({ labelType: t, target: after, base: before, kinds: [ImageKind.DELTA_XOR, ImageKind.DELTA_REGION], encodings: [ImageEncoding.CTX] });
  const c0 = performance.now();
  const chosen = chooseEncoding({ ap: AP_ALL, label: LABEL_CTX }, t, after, before);
  const chooseMs = performance.now() - c0;
  verify(t, full, null, after, 'FULL');
  verify(t, delta, before, after, 'delta');
  verify(t, region, before, after, 'DELTA_REGION');
  verify(t, ctxFull, null, after, 'CTX FULL');
  verify(t, ctxDelta, before, after, 'CTX delta');
  verify(t, chosen, before, after, 'chosen');
  const size = (kinds: ImageKind[], enc: ImageEncoding) => encodeImage({ labelType: t, target: after, base: before, kinds, encodings: [enc] }).payload.length;
  const deltas = [ImageKind.DELTA_XOR, ImageKind.DELTA_REGION];
  return {
    full,
    delta,
    region,
    fullRle: size([ImageKind.FULL], ImageEncoding.RLE),
    fullZlib: size([ImageKind.FULL], ImageEncoding.ZLIB),
    deltaRle: size(deltas, ImageEncoding.RLE),
    deltaZlib: size(deltas, ImageEncoding.ZLIB),
    partial: partialRefreshApplies(t, region.kind, region.region, before, after),
    ctxFull,
    ctxDelta,
    chosen,
    chooseMs,
  };
}

const t0 = performance.now();
const products = z.array(ProductSchema).parse((JSON.parse(readFileSync(STORE_FILE, 'utf8')) as { products: unknown }).products);
const renderer = await LabelRenderer.create();
let renders = 0;
let renderMs = 0;
let unchanged = 0;

interface Row {
  type: string;
  raw: number;
  rawAir: number;
  full: number;
  fullAir: number;
  delta: number;
  deltaAir: number;
  ratio: number;
  ratioAir: number;
  rle: number;
  zlib: number;
  fullWin: Record<string, number>;
  deltaWin: Record<string, number>;
  ctxFull: number;
  ctxFullAir: number;
  ctxDelta: number;
  ctxDeltaAir: number;
  chosen: number;
  chosenAir: number;
  chooseMs: number;
  /** Medians of the chosen delta's exchange, per way to offer it: bytes, frames, byte-equivalents of the bound. */
  xDelta: Record<Exchange, { bytes: number; frames: number; bound: number }>;
  xFull: Record<Exchange, { bytes: number; frames: number; bound: number }>;
}
const rows: Row[] = [];

for (const t of LABEL_TYPES) {
  const figures: LabelFigures[] = [];
  for (const p of products) {
    const newCents = Math.round(p.regularPriceCents * PRICE_FACTOR);
    const r0 = performance.now();
    const before = await renderer.render(contentFor(p, p.regularPriceCents), t);
    const after = await renderer.render(contentFor(p, newCents), t);
    renderMs += performance.now() - r0;
    renders += 2;
    if (before.hash === after.hash) {
      // A price change the label cannot show would be a renderer bug; count it rather than skew the medians.
      unchanged++;
      continue;
    }
    figures.push(measure(t, before.planes, after.planes));
  }
  const raw = imageBytes(t);
  const exchanges = (pick: (f: LabelFigures) => EncodedImage) =>
    Object.fromEntries(
      EXCHANGES.map((how) => {
        const costs = figures.map((f) => exchangeOf(pick(f), how));
        return [how, { bytes: median(costs.map((c) => c.bytes)), frames: median(costs.map((c) => c.frames)), bound: median(costs.map((c) => boundCost(c))) }];
      }),
    ) as Record<Exchange, { bytes: number; frames: number; bound: number }>;
  const full = figures.map((f) => f.full.payload.length);
  const delta = figures.map((f) => f.delta.payload.length);
  const row: Row = {
    type: t.name,
    raw,
    rawAir: bytesOnAir(raw),
    full: median(full),
    fullAir: median(full.map((n) => bytesOnAir(n))),
    delta: median(delta),
    deltaAir: median(delta.map((n) => bytesOnAir(n))),
    ratio: median(figures.map((f) => f.delta.payload.length / f.full.payload.length)),
    ratioAir: median(figures.map((f) => bytesOnAir(f.delta.payload.length) / bytesOnAir(f.full.payload.length))),
    rle: median(figures.map((f) => f.fullRle)),
    zlib: median(figures.map((f) => f.fullZlib)),
    fullWin: count(figures.map((f) => ENCODING_NAME[f.full.encoding])),
    deltaWin: count(figures.map((f) => `${KIND_NAME[f.delta.kind]}/${ENCODING_NAME[f.delta.encoding]}`)),
    ctxFull: median(figures.map((f) => f.ctxFull.payload.length)),
    ctxFullAir: median(figures.map((f) => bytesOnAir(f.ctxFull.payload.length))),
    ctxDelta: median(figures.map((f) => f.ctxDelta.payload.length)),
    ctxDeltaAir: median(figures.map((f) => bytesOnAir(f.ctxDelta.payload.length))),
    chosen: median(figures.map((f) => f.chosen.payload.length)),
    chosenAir: median(figures.map((f) => bytesOnAir(f.chosen.payload.length))),
    chooseMs: median(figures.map((f) => f.chooseMs)),
    xDelta: exchanges((f) => f.chosen),
    xFull: exchanges((f) => f.ctxFull),
  };
  rows.push(row);
  emit({
    labelType: t.name,
    labelTypeId: t.id,
    size: `${t.width}x${t.height}`,
    palette: t.palette,
    labels: figures.length,
    raw_bytes: row.raw,
    raw_on_air: row.rawAir,
    full_bytes_median: row.full,
    full_on_air_median: row.fullAir,
    delta_bytes_median: row.delta,
    delta_on_air_median: row.deltaAir,
    ratio_delta_full_median: +row.ratio.toFixed(3),
    ratio_delta_full_on_air_median: +row.ratioAir.toFixed(3),
    full_winners: row.fullWin,
    delta_winners: row.deltaWin,
    delta_beats_full: figures.filter((f) => f.delta.payload.length < f.full.payload.length).length,
    full_rle_median: row.rle,
    full_zlib_median: row.zlib,
    ratio_zlib_rle_full_median: +median(figures.map((f) => f.fullZlib / f.fullRle)).toFixed(3),
    delta_rle_median: median(figures.map((f) => f.deltaRle)),
    delta_zlib_median: median(figures.map((f) => f.deltaZlib)),
    region_delta_bytes_median: median(figures.map((f) => f.region.payload.length)),
    region_area_share_median: +median(figures.map((f) => (f.region.region.width * f.region.region.height) / (Math.ceil(t.width / 8) * 8 * t.height))).toFixed(3),
    partial_refresh_labels: figures.filter((f) => f.partial).length,
    ctx_full_bytes_median: row.ctxFull,
    ctx_full_on_air_median: row.ctxFullAir,
    ratio_ctx_zlib_full_median: +median(figures.map((f) => f.ctxFull.payload.length / f.full.payload.length)).toFixed(3),
    ctx_delta_bytes_median: row.ctxDelta,
    ctx_delta_on_air_median: row.ctxDeltaAir,
    ratio_ctx_zlib_delta_median: +median(figures.map((f) => f.ctxDelta.payload.length / f.delta.payload.length)).toFixed(3),
    ctx_delta_winners: count(figures.map((f) => KIND_NAME[f.ctxDelta.kind])),
    chosen_bytes_median: row.chosen,
    chosen_on_air_median: row.chosenAir,
    chosen_winners: count(figures.map((f) => `${KIND_NAME[f.chosen.kind]}/${ENCODING_NAME[f.chosen.encoding]}`)),
    choose_ms_median: +row.chooseMs.toFixed(2),
    // §9.5.2 / §9.10: the whole exchange of the chosen delta and of a CTX full image, per way to offer it.
    exchange_delta: row.xDelta,
    exchange_full: row.xFull,
    decoded_and_compared: true,
  });
}

// One figure per label for the reference store's mix (medians weighted by the mix; types outside it are left out).
const mixed = (pick: (r: Row) => number) => rows.reduce((a, r) => a + (REFERENCE_MIX[r.type] ?? 0) * pick(r), 0);
const mixFull = mixed((r) => r.fullAir);
const mixDelta = mixed((r) => r.deltaAir);
emit({
  metric: 'reference_mix_on_air_per_label',
  raw: Math.round(mixed((r) => r.rawAir)),
  full: Math.round(mixFull),
  delta: Math.round(mixDelta),
  ratio_delta_full: +(mixDelta / mixFull).toFixed(3),
  ctx_full: Math.round(mixed((r) => r.ctxFullAir)),
  ctx_delta: Math.round(mixed((r) => r.ctxDeltaAir)),
  chosen_delta: Math.round(mixed((r) => r.chosenAir)),
  ratio_ctx_zlib_full: +(mixed((r) => r.ctxFullAir) / mixFull).toFixed(3),
  ratio_ctx_zlib_delta: +(mixed((r) => r.ctxDeltaAir) / mixDelta).toFixed(3),
  // §9.5.2 whole exchange per label (bytes, frames, reference-bound byte-equivalents), chosen delta and CTX full.
  exchange_delta: Object.fromEntries(EXCHANGES.map((h) => [h, { bytes: Math.round(mixed((r) => r.xDelta[h].bytes)), frames: +mixed((r) => r.xDelta[h].frames).toFixed(2), bound: Math.round(mixed((r) => r.xDelta[h].bound)) }])),
  exchange_full: Object.fromEntries(EXCHANGES.map((h) => [h, { bytes: Math.round(mixed((r) => r.xFull[h].bytes)), frames: +mixed((r) => r.xFull[h].frames).toFixed(2), bound: Math.round(mixed((r) => r.xFull[h].bound)) }])),
  mix: REFERENCE_MIX,
});
const wallS = (performance.now() - t0) / 1000;
emit({
  metric: 'run',
  products: products.length,
  label_types: LABEL_TYPES.length,
  renders,
  unchanged_after_price_change: unchanged,
  render_ms_mean: +(renderMs / renders).toFixed(2),
  wall_s: +wallS.toFixed(1),
  price_change: `-${Math.round((1 - PRICE_FACTOR) * 100)} %`,
});

// ---- readable table ----------------------------------------------------------------------------------------
const fmtWin = (w: Record<string, number>) =>
  Object.entries(w)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const header = ['label type', 'raw B', 'raw air', 'full B', 'full air', 'delta B', 'delta air', 'Δ/full', 'Δ/full air', 'RLE full', 'ZLIB full', 'full won', 'delta won'];
const body = rows.map((r) => [
  r.type,
  String(r.raw),
  String(r.rawAir),
  String(r.full),
  String(r.fullAir),
  String(r.delta),
  String(r.deltaAir),
  r.ratio.toFixed(3),
  r.ratioAir.toFixed(3),
  String(r.rle),
  String(r.zlib),
  fmtWin(r.fullWin),
  fmtWin(r.deltaWin),
]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i >= 11 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log('');
console.log(`Price-only change (−10 %) on ${products.length} products of the demo store; medians per label type (B = payload bytes, air = bytes on air §9.5).`);
console.log(line(header));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const b of body) console.log(line(b));
const header2 = ['label type', 'ZLIB full B', 'air', 'CTX full B', 'air', 'CTX/ZLIB', 'ZLIB Δ B', 'air', 'CTX Δ B', 'air', 'CTX/ZLIB', 'sent Δ air', 'choose ms'];
const body2 = rows.map((r) => [
  r.type,
  String(r.full),
  String(r.fullAir),
  String(r.ctxFull),
  String(r.ctxFullAir),
  (r.ctxFull / r.full).toFixed(3),
  String(r.delta),
  String(r.deltaAir),
  String(r.ctxDelta),
  String(r.ctxDeltaAir),
  (r.ctxDelta / r.delta).toFixed(3),
  String(r.chosenAir),
  r.chooseMs.toFixed(2),
]);
const widths2 = header2.map((h, i) => Math.max(h.length, ...body2.map((b) => b[i]!.length)));
const line2 = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths2[i]!) : c.padStart(widths2[i]!))).join('  ');
console.log('');
console.log('ZLIB (best of RAW/RLE/ZLIB, today) vs CTX (§6.6), medians; "sent" = what chooseEncoding sends a CTX label (partial refresh preferred).');
console.log(line2(header2));
console.log(widths2.map((w) => '-'.repeat(w)).join('  '));
for (const b of body2) console.log(line2(b));
console.log(`Reference store mix, CTX: full ${Math.round(mixed((r) => r.ctxFullAir))} B on air per label, delta ${Math.round(mixed((r) => r.ctxDeltaAir))} (sent ${Math.round(mixed((r) => r.chosenAir))}).`);
console.log(`Reference store mix, bytes on air per label: raw ${Math.round(mixed((r) => r.rawAir))}, full ${Math.round(mixFull)}, delta ${Math.round(mixDelta)} (delta/full ${(mixDelta / mixFull).toFixed(3)}).`);
console.log(`${renders} renders, ${(renderMs / renders).toFixed(1)} ms each on average; ${wallS.toFixed(1)} s in all.`);
// §9.5.2 / §9.10 The whole exchange of what a CTX label is sent (a region delta here), per way to offer it.
const header3 = ['label type', 'Δ B', 'PENDING B/frames', '≈B', 'OFFER no data', '≈B', 'OFFER + part 0', '≈B', 'offer/pending ≈B', 'CTX full PENDING ≈B', 'OFFER ≈B'];
const xf = (x: { bytes: number; frames: number }) => `${x.bytes} / ${x.frames}`;
const body3 = rows.map((r) => [
  r.type,
  String(r.chosen),
  xf(r.xDelta.pending),
  String(r.xDelta.pending.bound),
  xf(r.xDelta.offer_no_data),
  String(r.xDelta.offer_no_data.bound),
  xf(r.xDelta.offer),
  String(r.xDelta.offer.bound),
  (r.xDelta.offer.bound / r.xDelta.pending.bound).toFixed(3),
  String(r.xFull.pending.bound),
  String(r.xFull.offer.bound),
]);
const widths3 = header3.map((h, i) => Math.max(h.length, ...body3.map((b) => b[i]!.length)));
const line3 = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths3[i]!) : c.padStart(widths3[i]!))).join('  ');
console.log('');
console.log('Whole transfer exchange (§9.5.2, both directions, offer to RADIO_XFER_DONE), medians: bytes / frames, ≈B = byte-equivalents of the reference bound (payload + 20 B per frame).');
console.log(line3(header3));
console.log(widths3.map((w) => '-'.repeat(w)).join('  '));
for (const b of body3) console.log(line3(b));
const mixX = (h: Exchange) => `${Math.round(mixed((r) => r.xDelta[h].bytes))} B in ${mixed((r) => r.xDelta[h].frames).toFixed(2)} frames (≈${Math.round(mixed((r) => r.xDelta[h].bound))} B)`;
console.log(`Reference store mix, a price change's exchange per label: RADIO_PENDING ${mixX('pending')}; RADIO_OFFER without data ${mixX('offer_no_data')}; RADIO_OFFER with part 0 ${mixX('offer')}.`);
