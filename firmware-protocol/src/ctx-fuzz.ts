/**
 * Decoder fuzz of the CTX encoding (README.md §2.3, §6.6.7): random and mutated payloads against the decoder a
 * label runs. Shared by the test suite (a few thousand inputs) and `npm run fuzz:codec` (the full million).
 * Every input must either decode or fail with a ProtocolError; anything else escaping is a finding.
 */
import { ProtocolError } from './errors.js';
import { CtxDecoderState, ctxDecode, type CtxGeometry, type CtxRect } from './ctx-codec.js';
import { ctxEncode } from './ctx-encoder.js';

export interface FuzzResult {
  inputs: number;
  decoded: number;
  protocolErrors: number;
  /** Inputs where something other than a ProtocolError escaped (must be 0), with the first one. */
  escapes: number;
  firstEscape?: string;
  maxInputMs: number;
  totalMs: number;
}

/** xorshift32: the fuzz is reproducible from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

/**
 * Runs `n` inputs on the geometries given: a third random bytes (0–300 of them), two thirds valid payloads with
 * 1–4 bytes flipped, cut or extended; half of them FULL, half deltas of a random rectangle (sometimes an invalid
 * one). One fixed CtxDecoderState serves every input, as on a label.
 */
export function fuzzCtxDecoder(n: number, seed: number, geometries: readonly CtxGeometry[]): FuzzResult {
  const random = rng(seed);
  const int = (k: number) => Math.floor(random() * k);
  const state = new CtxDecoderState();
  const seeds = geometries.map((g) => {
    const planes = new Uint8Array(g.rowBytes * g.height * g.planes);
    for (let i = 0; i < 40; i++) {
      const y = int(g.height);
      const x = int(g.rowBytes);
      for (let k = 0; k < 1 + int(12); k++) planes[Math.min(planes.length - 1, (y + k) * g.rowBytes + x + int(g.planes) * g.rowBytes * g.height)] = int(256);
    }
    const other = new Uint8Array(planes);
    for (let i = 0; i < 20; i++) other[int(other.length)] = int(256);
    return { g, planes, full: ctxEncode(g, planes, null, null), delta: ctxEncode(g, other, planes, null) };
  });
  const result: FuzzResult = { inputs: 0, decoded: 0, protocolErrors: 0, escapes: 0, maxInputMs: 0, totalMs: 0 };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = seeds[int(seeds.length)]!;
    const { g } = s;
    const delta = random() < 0.5;
    let payload: Uint8Array;
    if (random() < 1 / 3) {
      payload = new Uint8Array(int(301));
      for (let k = 0; k < payload.length; k++) payload[k] = int(256);
      if (random() < 0.7 && payload.length > 0) payload[0] = 0; // mostly a valid header, to reach the coder
    } else {
      const src = delta ? s.delta : s.full;
      const cut = random() < 0.2 ? int(src.length + 1) : src.length;
      payload = new Uint8Array(cut + (random() < 0.2 ? int(16) : 0));
      payload.set(src.subarray(0, cut));
      for (let k = 0; k < 1 + int(4); k++) if (payload.length > 0) {
        const at = int(payload.length);
        payload[at] = payload[at]! ^ (1 << int(8));
      }
    }
    const w = g.rowBytes * 8;
    let rect: CtxRect | null = null;
    if (delta) {
      const x = 8 * int(g.rowBytes + 1);
      const y = int(g.height + 1);
      rect = random() < 0.9 ? { x, y, width: 8 * int((w - x) / 8 + 1), height: int(g.height - y + 1) } : { x: x + 3, y, width: w, height: g.height };
    }
    const frame = delta ? new Uint8Array(s.planes) : new Uint8Array(s.planes.length);
    const a = performance.now();
    try {
      ctxDecode(g, payload, frame, rect, state);
      result.decoded++;
    } catch (e) {
      if (e instanceof ProtocolError) result.protocolErrors++;
      else {
        result.escapes++;
        result.firstEscape ??= `${String(e)} on ${Buffer.from(payload).toString('hex')}`;
      }
    }
    const ms = performance.now() - a;
    if (ms > result.maxInputMs) result.maxInputMs = ms;
    result.inputs++;
  }
  result.totalMs = performance.now() - t0;
  return result;
}
