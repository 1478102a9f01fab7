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

/**
 * The 8 pixels 8·bx + 1 … 8·bx + 8 of the row at byte offset `off` of `buf` (§6.1 MSB first: bit 7 is pixel 8·bx + 1):
 * the pixels x + 1 that the context of the byte's pixels x reads. Pixel 8·bx + 8 is 0 past the row's end (§6.6.4).
 */
function nextPixels(buf: Uint8Array, off: number, bx: number, rowBytes: number): number {
  return ((buf[off + bx]! << 1) | (bx + 1 < rowBytes ? buf[off + bx + 1]! >> 7 : 0)) & 0xff;
}

/** Pixels 8·bx − 1 and 8·bx of the row at `off`, as bits 1 and 0: a context's start before pixel 8·bx (0 outside the row). */
function pixelsAround(buf: Uint8Array, off: number, bx: number, rowBytes: number): number {
  const left = bx > 0 ? buf[off + bx - 1]! & 1 : 0;
  const first = bx < rowBytes ? buf[off + bx]! >> 7 : 0;
  return (left << 1) | first;
}

/**
 * §6.6.4 FULL: every plane, row by row, into `work` (all zero at the start when decoding). Encoding reads the pixels
 * from `target` (then equal to `work` at the end).
 */
function codeFull(g: CtxGeometry, work: Uint8Array, target: Uint8Array | null, coder: BitCoder, cx: Uint8Array): void {
  const rb = g.rowBytes;
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
      // A byte of the row at a time (D162): the context's rows are read once per 8 pixels and row y is written once
      // per byte, as the firmware would; pixels outside the panel are 0 (§6.6.4).
      let c1 = off1 < 0 ? 0 : work[off1]! >> 7; // row y−1, pixels x−1 … x+1 (x − 1 < 0 is 0)
      let c0 = 0; // row y, pixels x−2, x−1
      for (let bx = 0; bx < rb; bx++) {
        const up = off1 < 0 ? 0 : nextPixels(work, off1, bx, rb); // row y−1 from pixel 8·bx + 1 on
        const up2 = off2 < 0 ? 0 : work[off2 + bx]!;
        const crossByte = offX < 0 ? 0 : work[offX + bx]!;
        const want = coder.encoding ? target![off0 + bx]! : 0;
        let out = 0;
        for (let sh = 7; sh >= 0; sh--) {
          c1 = ((c1 << 1) | ((up >> sh) & 1)) & 0x7;
          // §6.6.4 context, bit 6 … 0: cross; (x, y−2); (x−1..x+1, y−1); (x−2, y), (x−1, y).
          const ctx = (((crossByte >> sh) & 1) << 6) | (((up2 >> sh) & 1) << 5) | (c1 << 2) | c0;
          const d = coder.bit(cx, ctx, (want >> sh) & 1);
          out |= d << sh;
          c0 = ((c0 << 1) | d) & 0x3;
        }
        work[off0 + bx] = out;
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
      // A byte at a time, as in codeFull (D162); the rectangle's columns are whole bytes (§6.3.2).
      let tc0 = bx0 > 0 ? work[off + bx0 - 1]! & 1 : 0; // new (x−1, y): left of the rectangle, old = new
      let tc1 = offUp < 0 ? 0 : pixelsAround(work, offUp, bx0, rb); // new (x−1 … x+1, y−1)
      let rc0 = pixelsAround(lines, cur, bx0, rb); // old (x−1 … x+1, y)
      for (let bx = bx0; bx < bx1; bx++) {
        const upNew = offUp < 0 ? 0 : nextPixels(work, offUp, bx, rb);
        const rowOld = nextPixels(lines, cur, bx, rb);
        const upOld = y >= 1 ? lines[prev + bx]! : 0;
        const downOld = offDown < 0 ? 0 : work[offDown + bx]!;
        const crossByte = offX < 0 ? 0 : work[offX + bx]!;
        const want = coder.encoding ? target![off + bx]! : 0;
        let out = 0;
        for (let sh = 7; sh >= 0; sh--) {
          tc1 = ((tc1 << 1) | ((upNew >> sh) & 1)) & 0x7;
          rc0 = ((rc0 << 1) | ((rowOld >> sh) & 1)) & 0x7;
          // §6.6.5 context, bit 9 … 0: cross; old (x, y−1); old (x−1..x+1, y); old (x, y+1); new (x−1..x+1, y−1); new (x−1, y).
          const ctx =
            (((crossByte >> sh) & 1) << 9) | (((upOld >> sh) & 1) << 8) | (rc0 << 5) | (((downOld >> sh) & 1) << 4) | (tc1 << 1) | tc0;
          const d = coder.bit(cx, ctx, (want >> sh) & 1);
          out |= d << sh;
          tc0 = d;
        }
        work[off + bx] = out;
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
