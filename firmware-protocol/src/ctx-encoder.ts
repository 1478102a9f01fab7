/**
 * The CTX encoder of the edge (README.md §6.6), written for speed: the same decisions, contexts and MQ coder as the
 * shared traversal of ctx-codec.ts (`ctxEncodeReference`), byte for byte, but without the coder indirection the
 * decoder's traversal needs, and with a byte budget (below). Every row the context reads is copied once into a scratch
 * buffer with a zero byte on each side, so a pixel is one shift and mask even at x − 1 < 0 and x + 1 ≥ width (§6.6.4:
 * pixels outside the panel are 0). The edge encodes every transfer (and tries several encodings per transfer,
 * encoding-choice.ts); the label only decodes, with ctxDecode. D41 has the measurement; test/ctx-encoder.test.ts
 * proves the output equal to the reference on the test vectors, rendered labels and random pictures.
 *
 * `maxBytes`: the caller's best payload so far. Once the bytes already final exceed it (trailing 0xFF bytes may still
 * be dropped at the end, §6.6.3, so only bytes up to the last one that is not 0xFF count), this encoding cannot win
 * and `null` is returned without coding the rest.
 */
import { CTX_CONTEXTS, CTX_ROW_CONTEXT_DELTA, CTX_ROW_CONTEXT_FULL, CTX_TEMPLATE_SET, checkRect, type CtxGeometry, type CtxRect } from './ctx-codec.js';
import { MqEncoder } from './mq-coder.js';

/** Copies row `off` (or zeros for off < 0) of `buf` into `pad` at 1 … rb; pad[0] and pad[rb + 1] stay 0. */
function load(pad: Uint8Array, buf: Uint8Array, off: number, rb: number): void {
  if (off < 0) pad.fill(0, 1, rb + 1);
  else copyBytes(pad, 1, buf, off, rb);
}

/**
 * `n` bytes of `src` from `from` into `dst` at `to`. D149: a loop, not `dst.set(src.subarray(…))` — the rows here
 * are 16–50 bytes, and a subarray view per row was, with the region extraction, ~0.5 GB of short-lived objects on
 * the edge's main thread in a reference repricing (heap sampling), each one scavenged.
 */
export function copyBytes(dst: Uint8Array, to: number, src: Uint8Array, from: number, n: number): void {
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
}

/** Pixel x (−8 ≤ x < width + 8) of a padded row. */
function at(pad: Uint8Array, x: number): number {
  return (pad[(x >> 3) + 1]! >> (7 - (x & 7))) & 1;
}

function finish(mq: MqEncoder, maxBytes: number): Uint8Array | null {
  const body = mq.finish();
  if (1 + body.length > maxBytes) return null;
  const out = new Uint8Array(1 + body.length);
  out[0] = CTX_TEMPLATE_SET;
  out.set(body, 1);
  return out;
}

/**
 * §6.6.4 FULL. While encoding, the decoder's work buffer equals the target on every pixel the context reads (rows
 * above, pixels to the left, the black plane), so the context is read from the target itself.
 */
function encodeFull(g: CtxGeometry, target: Uint8Array, maxBytes: number): Uint8Array | null {
  const rb = g.rowBytes;
  const planeSize = rb * g.height;
  const mq = new MqEncoder();
  const cx = new Uint8Array(CTX_CONTEXTS);
  const row0 = new Uint8Array(rb + 2);
  const row1 = new Uint8Array(rb + 2);
  const row2 = new Uint8Array(rb + 2);
  const cross = new Uint8Array(rb + 2);
  for (let p = 0; p < g.planes; p++) {
    const base = p * planeSize;
    for (let y = 0; y < g.height; y++) {
      if (1 + mq.committedBytes > maxBytes) return null;
      const off0 = base + y * rb;
      const off1 = y >= 1 ? off0 - rb : -1;
      // Typical prediction: 1 = this row repeats the row above (an all-white row above the first).
      let repeat = 1;
      for (let i = 0; i < rb; i++) {
        if (target[off0 + i] !== (off1 < 0 ? 0 : target[off1 + i])) {
          repeat = 0;
          break;
        }
      }
      mq.encode(cx, CTX_ROW_CONTEXT_FULL, repeat);
      if (repeat) continue;
      load(row0, target, off0, rb);
      load(row1, target, off1, rb);
      load(row2, target, y >= 2 ? off0 - 2 * rb : -1, rb);
      // Plane 0 has no cross-plane pixel (0); later planes see the black plane, same row.
      load(cross, target, p > 0 ? y * rb : -1, rb);
      // A byte of the row at a time: the pixel x + 1 of row y − 1 comes from a 16-bit window over two bytes.
      let c1 = at(row1, 0);
      let c0 = 0;
      for (let i = 0; i < rb; i++) {
        const b0 = row0[i + 1]!;
        const b2 = row2[i + 1]!;
        const bc = cross[i + 1]!;
        const w1 = (row1[i + 1]! << 8) | row1[i + 2]!;
        for (let j = 0; j < 8; j++) {
          const sh = 7 - j;
          c1 = ((c1 << 1) | ((w1 >> (sh + 7)) & 1)) & 0x7;
          // §6.6.4 context, bit 6 … 0: cross; (x, y−2); (x−1..x+1, y−1); (x−2, y), (x−1, y).
          const ctx = (((bc >> sh) & 1) << 6) | (((b2 >> sh) & 1) << 5) | (c1 << 2) | c0;
          const d = (b0 >> sh) & 1;
          mq.encode(cx, ctx, d);
          c0 = ((c0 << 1) | d) & 0x3;
        }
      }
    }
  }
  return finish(mq, maxBytes);
}

/**
 * §6.6.5 Deltas. `work` replays the decoder's frame (the old picture, overwritten row by row inside the rectangle);
 * rectangles are byte-aligned (§6.3.2), so a coded row is overwritten with whole bytes of the target.
 */
function encodeDelta(g: CtxGeometry, r: CtxRect, base: Uint8Array, target: Uint8Array, maxBytes: number): Uint8Array | null {
  const rb = g.rowBytes;
  const planeSize = rb * g.height;
  const work = new Uint8Array(base);
  const mq = new MqEncoder();
  const cx = new Uint8Array(CTX_CONTEXTS);
  const x0 = r.x;
  const x1 = r.x + r.width;
  const bx0 = x0 >> 3;
  const bx1 = x1 >> 3;
  let oldUp = new Uint8Array(rb + 2); // old row y − 1
  let oldCur = new Uint8Array(rb + 2); // old row y
  const oldDown = new Uint8Array(rb + 2); // old row y + 1 (not yet overwritten)
  const newUp = new Uint8Array(rb + 2); // new row y − 1
  const tgt = new Uint8Array(rb + 2); // target row y
  const newCur = new Uint8Array(rb + 2); // new row y: old outside the rectangle, the target inside
  const cross = new Uint8Array(rb + 2);
  for (let p = 0; p < g.planes; p++) {
    const pb = p * planeSize;
    // Old row r.y − 1 lies outside the rectangle: old and new are the same there.
    load(oldUp, work, r.y >= 1 ? pb + (r.y - 1) * rb : -1, rb);
    for (let y = r.y; y < r.y + r.height; y++) {
      if (1 + mq.committedBytes > maxBytes) return null;
      const off = pb + y * rb;
      if (y > r.y) {
        const t = oldUp;
        oldUp = oldCur;
        oldCur = t;
      }
      load(oldCur, work, off, rb);
      // Typical prediction: 1 = inside the rectangle this row is unchanged.
      let same = 1;
      for (let i = off + bx0; i < off + bx1; i++) {
        if (target[i] !== work[i]) {
          same = 0;
          break;
        }
      }
      mq.encode(cx, CTX_ROW_CONTEXT_DELTA, same);
      if (same) continue;
      // The decoder's row y − 1 for y = 0 is "no row" (all 0), not the old row above.
      const oldUpRow = y >= 1 ? oldUp : null;
      load(newUp, work, y >= 1 ? off - rb : -1, rb);
      load(oldDown, work, y + 1 < g.height ? off + rb : -1, rb);
      load(cross, work, p > 0 ? y * rb : -1, rb);
      load(tgt, target, off, rb);
      newCur.set(oldCur);
      copyBytes(newCur, bx0 + 1, tgt, bx0 + 1, bx1 - bx0);
      let tc0 = at(newCur, x0 - 1);
      let tc1 = (at(newUp, x0 - 1) << 1) | at(newUp, x0);
      let rc0 = (at(oldCur, x0 - 1) << 1) | at(oldCur, x0);
      // A byte of the rectangle at a time (x0 and x1 are byte-aligned, §6.3.2), as in encodeFull: the pixels at x are
      // bits of the byte, those at x + 1 come from a 16-bit window over it and the next byte.
      for (let i = bx0; i < bx1; i++) {
        const bc = cross[i + 1]!;
        const bu = oldUpRow === null ? 0 : oldUpRow[i + 1]!;
        const bd = oldDown[i + 1]!;
        const bt = tgt[i + 1]!;
        const wn = (newUp[i + 1]! << 8) | newUp[i + 2]!;
        const wo = (oldCur[i + 1]! << 8) | oldCur[i + 2]!;
        for (let sh = 7; sh >= 0; sh--) {
          tc1 = ((tc1 << 1) | ((wn >> (sh + 7)) & 1)) & 0x7;
          rc0 = ((rc0 << 1) | ((wo >> (sh + 7)) & 1)) & 0x7;
          // §6.6.5 context, bit 9 … 0: cross; old (x, y−1); old (x−1..x+1, y); old (x, y+1); new (x−1..x+1, y−1); new (x−1, y).
          const ctx = (((bc >> sh) & 1) << 9) | (((bu >> sh) & 1) << 8) | (rc0 << 5) | (((bd >> sh) & 1) << 4) | (tc1 << 1) | tc0;
          const d = (bt >> sh) & 1;
          mq.encode(cx, ctx, d);
          tc0 = d;
        }
      }
      copyBytes(work, off + bx0, target, off + bx0, bx1 - bx0);
    }
  }
  return finish(mq, maxBytes);
}

/**
 * §6.6 Encodes `target` (all planes): FULL when `base` is null, else a delta of the rectangle `rect` (default: the
 * whole panel) over `base`. Returns null only when `maxBytes` is given and the payload would be longer.
 */
export function ctxEncode(g: CtxGeometry, target: Uint8Array, base: Uint8Array | null, rect: CtxRect | null): Uint8Array;
export function ctxEncode(g: CtxGeometry, target: Uint8Array, base: Uint8Array | null, rect: CtxRect | null, maxBytes: number): Uint8Array | null;
export function ctxEncode(g: CtxGeometry, target: Uint8Array, base: Uint8Array | null, rect: CtxRect | null, maxBytes = Infinity): Uint8Array | null {
  if (base === null) return encodeFull(g, target, maxBytes);
  const r = rect ?? { x: 0, y: 0, width: g.rowBytes * 8, height: g.height };
  checkRect(g, r);
  return encodeDelta(g, r, base, target, maxBytes);
}
