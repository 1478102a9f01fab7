/**
 * The CTX image encoding (README.md §6.6): context-modelled adaptive binary arithmetic coding of the colour
 * planes, built for shelf labels. FULL images are coded pixel by pixel with a 12-pixel causal template (§6.6.4,
 * the generic-region idea of JBIG2); deltas are coded inside the changed rectangle with the picture the label
 * already shows as extra context (§6.6.5, JBIG2 generic refinement), so unchanged strokes cost almost nothing;
 * every plane after black also sees the black pixel at the same place (cross-plane context). Whole rows that
 * repeat (the row above, resp. the old row) cost one decision each (typical prediction, §6.6.4–§6.6.5).
 *
 * Encoder and decoder run the same traversal (`codePlanes`), so they cannot drift apart; the decoder works in
 * place on the label's frame buffer with the fixed-size state of `CtxDecoderState` (§6.6.6).
 */
import { ProtocolError } from './errors.js';
import { MqDecoder, MqEncoder } from './mq-coder.js';

/** §6.6.2 Header byte 0: the template set. Only 0 is defined; a label refuses others (UNSUPPORTED_FEATURE). */
export const CTX_TEMPLATE_SET = 0;
/** §6.6.6 Bits of a pixel context, and the contexts of the pixel model. */
export const CTX_CONTEXT_BITS = 10;
export const CTX_PIXEL_CONTEXTS = 1 << CTX_CONTEXT_BITS;
/** §6.6.4–§6.6.5 Two more contexts: the row-repeat decisions of FULL and of deltas. */
export const CTX_ROW_CONTEXT_FULL = CTX_PIXEL_CONTEXTS;
export const CTX_ROW_CONTEXT_DELTA = CTX_PIXEL_CONTEXTS + 1;
export const CTX_CONTEXTS = CTX_PIXEL_CONTEXTS + 2;
/** §6.6.6 The widest row a label decodes: 100 bytes = 800 pixels (epd-75-bwr). */
export const CTX_MAX_ROW_BYTES = 100;
/** §6.6.6 MQ decoder registers (A, C as two halves, CT, the byte position) rounded up, as on a 32-bit MCU. */
export const CTX_REGISTER_BYTES = 16;

/**
 * §6.6.6 Everything the decoder keeps beyond the frame buffer: one byte per context and two line buffers holding
 * the old rows y−1 and y while row y is overwritten in place. Allocated once per label, never resized.
 */
export class CtxDecoderState {
  readonly contexts = new Uint8Array(CTX_CONTEXTS);
  readonly lines = new Uint8Array(2 * CTX_MAX_ROW_BYTES);
}
/** §6.6.6 Working RAM of the decoder beyond the frame buffer, in bytes (1,242: ≤ 8 KiB). */
export const CTX_DECODER_STATE_BYTES = CTX_CONTEXTS + 2 * CTX_MAX_ROW_BYTES + CTX_REGISTER_BYTES;

/** The geometry the codec needs: §6.1 planes, each `height` rows of `rowBytes` bytes; pixels per row = 8·rowBytes. */
export interface CtxGeometry {
  rowBytes: number;
  height: number;
  planes: number;
}

/** §6.6.5 The rectangle a delta codes, in pixels; x and width multiples of 8 (§6.3.2). */
export interface CtxRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface BitCoder {
  readonly encoding: boolean;
  bit(cx: Uint8Array, i: number, d: number): number;
}

class EncodeBits implements BitCoder {
  readonly encoding = true;
  constructor(readonly mq: MqEncoder) {}
  bit(cx: Uint8Array, i: number, d: number): number {
    this.mq.encode(cx, i, d);
    return d;
  }
}

class DecodeBits implements BitCoder {
  readonly encoding = false;
  constructor(readonly mq: MqDecoder) {}
  bit(cx: Uint8Array, i: number): number {
    return this.mq.decode(cx, i);
  }
}

/** Pixel x of the row at byte offset `off` of `buf` (§6.1 MSB first); 0 outside the row or for off < 0. */
function px(buf: Uint8Array, off: number, rowBytes: number, x: number): number {
  if (off < 0 || x < 0 || x >= rowBytes << 3) return 0;
  return (buf[off + (x >> 3)]! >> (7 - (x & 7))) & 1;
}

function setPx(buf: Uint8Array, off: number, x: number, d: number): void {
  const i = off + (x >> 3);
  const m = 0x80 >> (x & 7);
  buf[i] = d ? buf[i]! | m : buf[i]! & ~m;
}

/**
 * §6.6.4 FULL: every plane, row by row, into `work` (all zero at the start when decoding). Encoding reads the pixels
 * from `target` (then equal to `work` at the end).
 */
function codeFull(g: CtxGeometry, work: Uint8Array, target: Uint8Array | null, coder: BitCoder, cx: Uint8Array): void {
  const rb = g.rowBytes;
  const w = rb << 3;
  const planeSize = rb * g.height;
  for (let p = 0; p < g.planes; p++) {
    const base = p * planeSize;
    for (let y = 0; y < g.height; y++) {
      const off0 = base + y * rb;
      const off1 = y >= 1 ? off0 - rb : -1;
      const off2 = y >= 2 ? off0 - 2 * rb : -1;
      // Typical prediction: 1 = this row repeats the row above (an all-white row above the first).
      let repeat = 0;
      if (coder.encoding) {
        repeat = 1;
        for (let i = 0; i < rb; i++) {
          if (target![off0 + i] !== (off1 < 0 ? 0 : target![off1 + i])) {
            repeat = 0;
            break;
          }
        }
      }
      if (coder.bit(cx, CTX_ROW_CONTEXT_FULL, repeat)) {
        if (off1 < 0) work.fill(0, off0, off0 + rb);
        else work.copyWithin(off0, off1, off1 + rb);
        continue;
      }
      const offX = p > 0 ? y * rb : -1; // black plane, same row: the cross-plane pixel
      let c1 = px(work, off1, rb, 0);
      let c0 = 0;
      for (let x = 0; x < w; x++) {
        c1 = ((c1 << 1) | px(work, off1, rb, x + 1)) & 0x7;
        const cross = offX >= 0 ? px(work, offX, rb, x) : 0;
        // §6.6.4 context, bit 6 … 0: cross; (x, y−2); (x−1..x+1, y−1); (x−2, y), (x−1, y).
        const ctx = (cross << 6) | (px(work, off2, rb, x) << 5) | (c1 << 2) | c0;
        const d = coder.bit(cx, ctx, coder.encoding ? px(target!, off0, rb, x) : 0);
        if (d) setPx(work, off0, x, 1);
        c0 = ((c0 << 1) | d) & 0x3;
      }
    }
  }
}

/**
 * §6.6.5 Deltas: rows r.y … r.y+r.height−1 and columns r.x … r.x+r.width−1 of every plane of `work`, which holds
 * the old picture and is overwritten in place. The old rows y−1 and y are kept in `lines` (§6.6.6) because row y−1
 * and the left part of row y are already new when pixel (x, y) is coded.
 */
function codeDelta(g: CtxGeometry, r: CtxRect, work: Uint8Array, target: Uint8Array | null, coder: BitCoder, cx: Uint8Array, lines: Uint8Array): void {
  const rb = g.rowBytes;
  const planeSize = rb * g.height;
  const prev = 0;
  const cur = CTX_MAX_ROW_BYTES;
  const x0 = r.x;
  const x1 = r.x + r.width;
  const bx0 = x0 >> 3;
  const bx1 = x1 >> 3;
  for (let p = 0; p < g.planes; p++) {
    const base = p * planeSize;
    // Old row r.y − 1 lies outside the rectangle: old and new are the same there.
    if (r.y >= 1) lines.set(work.subarray(base + (r.y - 1) * rb, base + r.y * rb), prev);
    else lines.fill(0, prev, prev + rb);
    for (let y = r.y; y < r.y + r.height; y++) {
      const off = base + y * rb;
      const offUp = y >= 1 ? off - rb : -1;
      const offDown = y + 1 < g.height ? off + rb : -1;
      if (y > r.y) lines.copyWithin(prev, cur, cur + rb);
      lines.set(work.subarray(off, off + rb), cur);
      // Typical prediction: 1 = inside the rectangle this row is unchanged.
      let same = 0;
      if (coder.encoding) {
        same = 1;
        for (let i = off + bx0; i < off + bx1; i++) {
          if (target![i] !== work[i]) {
            same = 0;
            break;
          }
        }
      }
      if (coder.bit(cx, CTX_ROW_CONTEXT_DELTA, same)) continue;
      const offX = p > 0 ? y * rb : -1;
      const prevOff = y >= 1 ? prev : -1;
      let tc0 = px(work, off, rb, x0 - 1);
      let tc1 = (px(work, offUp, rb, x0 - 1) << 1) | px(work, offUp, rb, x0);
      let rc0 = (px(lines, cur, rb, x0 - 1) << 1) | px(lines, cur, rb, x0);
      for (let x = x0; x < x1; x++) {
        tc1 = ((tc1 << 1) | px(work, offUp, rb, x + 1)) & 0x7;
        rc0 = ((rc0 << 1) | px(lines, cur, rb, x + 1)) & 0x7;
        const cross = offX >= 0 ? px(work, offX, rb, x) : 0;
        // §6.6.5 context, bit 9 … 0: cross; old (x, y−1); old (x−1..x+1, y); old (x, y+1); new (x−1..x+1, y−1); new (x−1, y).
        const ctx = (cross << 9) | (px(lines, prevOff, rb, x) << 8) | (rc0 << 5) | (px(work, offDown, rb, x) << 4) | (tc1 << 1) | tc0;
        const d = coder.bit(cx, ctx, coder.encoding ? px(target!, off, rb, x) : 0);
        setPx(work, off, x, d);
        tc0 = d;
      }
    }
  }
}

export function checkRect(g: CtxGeometry, r: CtxRect): void {
  const ok =
    [r.x, r.y, r.width, r.height].every((v) => Number.isInteger(v) && v >= 0) &&
    r.x % 8 === 0 &&
    r.width % 8 === 0 &&
    r.x + r.width <= g.rowBytes * 8 &&
    r.y + r.height <= g.height;
  if (!ok) throw new ProtocolError('IMAGE_DECODE_FAILED', 'CTX rectangle is not byte-aligned or lies outside the panel', { rect: { ...r } });
}

/**
 * §6.6 Encodes `target` (all planes): FULL when `base` is null, else a delta of the rectangle `rect` over `base`.
 * The reference encoder: it runs the decoder's own traversal, so it cannot drift from it. The edge encodes with
 * ctx-encoder.ts (same bytes, faster, D41); tests compare the two.
 */
export function ctxEncodeReference(g: CtxGeometry, target: Uint8Array, base: Uint8Array | null, rect: CtxRect | null): Uint8Array {
  const mq = new MqEncoder();
  const coder = new EncodeBits(mq);
  const cx = new Uint8Array(CTX_CONTEXTS);
  if (base === null) {
    codeFull(g, new Uint8Array(target.length), target, coder, cx);
  } else {
    const r = rect ?? { x: 0, y: 0, width: g.rowBytes * 8, height: g.height };
    checkRect(g, r);
    codeDelta(g, r, new Uint8Array(base), target, coder, cx, new Uint8Array(2 * CTX_MAX_ROW_BYTES));
  }
  const body = mq.finish();
  const out = new Uint8Array(1 + body.length);
  out[0] = CTX_TEMPLATE_SET;
  out.set(body, 1);
  return out;
}

/**
 * §6.6 Decodes `payload` into `frame` in place with the fixed state `state`: FULL (`rect` null) overwrites all
 * planes; a delta overwrites the rectangle, reading the old picture from `frame` itself. Exactly
 * Σ planes × rows (1 + pixels) decisions at most, whatever the payload: time is bounded by the panel size.
 * Throws ProtocolError IMAGE_DECODE_FAILED (empty payload, bad rectangle, row wider than CTX_MAX_ROW_BYTES) or
 * IMAGE_UNSUPPORTED (unknown template set).
 */
export function ctxDecode(g: CtxGeometry, payload: Uint8Array, frame: Uint8Array, rect: CtxRect | null, state: CtxDecoderState): void {
  if (payload.length < 1) throw new ProtocolError('IMAGE_DECODE_FAILED', 'CTX payload has no header', { length: payload.length });
  if (payload[0] !== CTX_TEMPLATE_SET) {
    throw new ProtocolError('IMAGE_UNSUPPORTED', `CTX template set ${payload[0]} is not defined`, { templateSet: payload[0] });
  }
  if (g.rowBytes > CTX_MAX_ROW_BYTES) {
    throw new ProtocolError('IMAGE_UNSUPPORTED', `CTX rows of ${g.rowBytes} bytes exceed ${CTX_MAX_ROW_BYTES}`, { rowBytes: g.rowBytes });
  }
  if (frame.length !== g.rowBytes * g.height * g.planes) {
    throw new ProtocolError('IMAGE_SIZE_MISMATCH', `frame has ${frame.length} bytes`, { length: frame.length });
  }
  state.contexts.fill(0);
  const coder = new DecodeBits(new MqDecoder(payload, 1));
  if (rect === null) {
    frame.fill(0);
    codeFull(g, frame, null, coder, state.contexts);
  } else {
    checkRect(g, rect);
    codeDelta(g, rect, frame, null, coder, state.contexts, state.lines);
  }
}
