/**
 * CTX encode speed (D41): the edge's encoder (firmware-protocol/src/ctx-encoder.ts) against the reference encoder
 * that runs the decoder's traversal (ctx-codec.ts `ctxEncodeReference`, what the edge used before), on rendered
 * labels of every bundled label type — the FULL image and the region delta of a price change (−10 %) — and the
 * whole §6.6.1 choice (`chooseEncoding`) per price change, also with the pictures' hashes given as the edge gives them
 * (D149: `choice_ms_known_hashes`). Both encoders' bytes are compared on every label. Also what a label spends decoding
 * them (`ctxDecode`, the simulator's virtual labels, D162): `decode_full_ms` and `decode_region_ms`, each also as a ratio
 * to the edge's encoder of the same picture in the same run (`decode_full_per_encode`), so builds compare on a noisy
 * machine; every decoded frame is checked against the picture.
 *
 *   npm run bench -- ctx-encode        [--labels 200]
 *
 * stdout: one JSON line per label type and one summary line ({"bench":"ctx-encode", …}).
 */
import {
  ApCapability,
  CtxDecoderState,
  LABEL_TYPES,
  LabelDecoder,
  PALETTE_PLANES,
  changedRegion,
  chooseEncoding,
  ctxEncode,
  ctxDecode,
  ctxEncodeReference,
  type CtxGeometry,
  type LabelType,
} from '#protocol';
import { LabelRenderer } from '../src/domain/rendering/label-renderer.js';
import { products } from './render-catalogue.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const N = arg('labels', 200);
const REPEAT = 5;

const geometry = (t: LabelType): CtxGeometry => ({ rowBytes: Math.ceil(t.width / 8), height: t.height, planes: PALETTE_PLANES[t.palette].length });
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/**
 * Best of REPEAT runs of fn over every item, CPU ms per item (process CPU time, not wall time: on a shared machine
 * wall time mostly measures the neighbours).
 */
function time<T>(items: readonly T[], fn: (x: T) => unknown): number {
  let best = Infinity;
  for (let r = 0; r < REPEAT; r++) {
    const t0 = process.cpuUsage();
    for (const x of items) fn(x);
    const u = process.cpuUsage(t0);
    best = Math.min(best, (u.user + u.system) / 1000 / items.length);
  }
  return best;
}

const renderer = await LabelRenderer.create();
const catalogue = products(N, 7);
const caps = {
  ap: ApCapability.RLE | ApCapability.ZLIB | ApCapability.CTX | ApCapability.DELTA_XOR | ApCapability.DELTA_REGION,
  label: LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX,
};
const totals = { ref: 0, fast: 0, choose: 0, chooseRef: 0, known: 0, labels: 0, decodeFull: 0, decodeRegion: 0, encodeFull: 0 };
const state = new CtxDecoderState();
for (const t of LABEL_TYPES) {
  const g = geometry(t);
  const pairs: { before: Uint8Array; after: Uint8Array; hashes: { target: string; base: string } }[] = [];
  for (const c of catalogue) {
    const b = await renderer.render(c, t);
    const a = await renderer.render({ ...c, priceCents: Math.max(1, Math.round(c.priceCents * 0.9)) }, t);
    pairs.push({ before: b.planes, after: a.planes, hashes: { target: a.hash, base: b.hash } });
  }
  let mismatches = 0;
  for (const p of pairs) {
    const r = changedRegion(t, p.before, p.after);
    if (!same(ctxEncode(g, p.after, null, null), ctxEncodeReference(g, p.after, null, null))) mismatches++;
    if (!same(ctxEncode(g, p.after, p.before, r), ctxEncodeReference(g, p.after, p.before, r))) mismatches++;
    const known = chooseEncoding(caps, t, p.after, p.before, p.hashes);
    const hashed = chooseEncoding(caps, t, p.after, p.before);
    if (!same(known.payload, hashed.payload) || known.targetHash !== hashed.targetHash || known.baseHash !== hashed.baseHash) mismatches++;
  }
  // What a label decodes: the FULL picture into a blank frame, the delta into the old picture.
  const coded = pairs.map((p) => {
    const rect = changedRegion(t, p.before, p.after);
    return { ...p, rect, full: ctxEncode(g, p.after, null, null), region: ctxEncode(g, p.after, p.before, rect), frame: new Uint8Array(p.after.length) };
  });
  for (const c of coded) {
    ctxDecode(g, c.full, c.frame, null, state);
    if (!same(c.frame, c.after)) mismatches++;
    c.frame.set(c.before);
    ctxDecode(g, c.region, c.frame, c.rect, state);
    if (!same(c.frame, c.after)) mismatches++;
  }
  const decodeFull = time(coded, (c) => ctxDecode(g, c.full, c.frame, null, state));
  const decodeRegion = time(coded, (c) => {
    c.frame.set(c.before);
    ctxDecode(g, c.region, c.frame, c.rect, state);
  });
  const fullRef = time(pairs, (p) => ctxEncodeReference(g, p.after, null, null));
  const fullFast = time(pairs, (p) => ctxEncode(g, p.after, null, null));
  const regionRef = time(pairs, (p) => ctxEncodeReference(g, p.after, p.before, changedRegion(t, p.before, p.after)));
  const regionFast = time(pairs, (p) => ctxEncode(g, p.after, p.before, changedRegion(t, p.before, p.after)));
  // What the edge did per price change before D41: FULL and region delta with the reference encoder (+ RAW).
  const chooseRef = time(pairs, (p) => {
    ctxEncodeReference(g, p.after, null, null);
    ctxEncodeReference(g, p.after, p.before, changedRegion(t, p.before, p.after));
  });
  const choose = time(pairs, (p) => chooseEncoding(caps, t, p.after, p.before));
  const chooseKnown = time(pairs, (p) => chooseEncoding(caps, t, p.after, p.before, p.hashes));
  totals.ref += chooseRef * pairs.length;
  totals.choose += choose * pairs.length;
  totals.known += chooseKnown * pairs.length;
  totals.labels += pairs.length;
  totals.decodeFull += decodeFull * pairs.length;
  totals.decodeRegion += decodeRegion * pairs.length;
  totals.encodeFull += fullFast * pairs.length;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'ctx-encode',
      labelType: t.name,
      labels: pairs.length,
      bytes_identical: mismatches === 0,
      full_ms_reference: +fullRef.toFixed(3),
      full_ms: +fullFast.toFixed(3),
      full_speedup: +(fullRef / fullFast).toFixed(2),
      region_ms_reference: +regionRef.toFixed(3),
      region_ms: +regionFast.toFixed(3),
      region_speedup: +(regionRef / regionFast).toFixed(2),
      choice_ms_before: +chooseRef.toFixed(3),
      choice_ms: +choose.toFixed(3),
      choice_speedup: +(chooseRef / choose).toFixed(2),
      choice_ms_known_hashes: +chooseKnown.toFixed(3),
      known_hashes_speedup: +(choose / chooseKnown).toFixed(2),
      decode_full_ms: +decodeFull.toFixed(3),
      decode_full_per_encode: +(decodeFull / fullFast).toFixed(2),
      decode_region_ms: +decodeRegion.toFixed(3),
      decode_region_per_encode: +(decodeRegion / regionFast).toFixed(2),
    })}\n`,
  );
  if (mismatches > 0) process.exitCode = 1;
}
process.stdout.write(
  `${JSON.stringify({ bench: 'ctx-encode', summary: true, labels: totals.labels, choice_ms_before_mean: +(totals.ref / totals.labels).toFixed(3), choice_ms_mean: +(totals.choose / totals.labels).toFixed(3), choice_speedup: +(totals.ref / totals.choose).toFixed(2), choice_ms_known_hashes_mean: +(totals.known / totals.labels).toFixed(3), known_hashes_speedup: +(totals.choose / totals.known).toFixed(2), decode_full_ms_mean: +(totals.decodeFull / totals.labels).toFixed(3), decode_region_ms_mean: +(totals.decodeRegion / totals.labels).toFixed(3), decode_full_per_encode: +(totals.decodeFull / totals.encodeFull).toFixed(2) })}\n`,
);
