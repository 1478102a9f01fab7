/**
 * Image payloads (README.md §6): what the edge sends for a label, and what the label does with it.
 *
 * Planes (§6.1): one 1-bit plane per palette colour in PALETTE_PLANES order; rows padded to whole bytes,
 * MSB = leftmost pixel. Encodings (§6.2): RAW, RLE (PackBits, packbits.ts), ZLIB (RFC 1950, level 9), CTX
 * (context-modelled arithmetic coding of the pixels, §6.6, ctx-codec.ts). Kinds (§6.3): FULL, DELTA_XOR (target
 * XOR base over all planes; CTX: the whole panel refined against the base), DELTA_REGION (the changed,
 * byte-aligned rectangle of every plane; CTX: that rectangle refined against the base).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { contentHash } from './content-hash.js';
import { ProtocolError } from './errors.js';
import { PALETTE_PLANES, imageBytes, planeBytes, type LabelType } from './label-types.js';
import { BLANK_HASH, ImageEncoding, ImageKind, StatusCode, type ContentHash, type StatusCodeValue } from './messages.js';
import { packBits, unpackBits } from './packbits.js';
import { CtxDecoderState, ctxDecode } from './ctx-codec.js';
import { copyBytes, ctxEncode } from './ctx-encoder.js';

export { splitBlocks, partsInBlock, bytesOnAir } from './transfer-blocks.js';

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EncodedImage {
  kind: ImageKind;
  encoding: ImageEncoding;
  /** DELTA_REGION: the rectangle the payload covers; otherwise all zero. */
  region: Region;
  payload: Uint8Array;
  targetHash: ContentHash;
  /** Deltas: contentHash(base); FULL: BLANK_HASH (§6.1 descriptor). */
  baseHash: ContentHash;
}

export const EMPTY_REGION: Readonly<Region> = Object.freeze({ x: 0, y: 0, width: 0, height: 0 });

/**
 * §3.4 The content hashes of a target and its base that the caller already has — pictures are named by their hash
 * (the edge's image store, its labels' desired and confirmed hashes) — so an encoder need not hash ~10–25 kB of
 * planes again per candidate. Taken as given: a wrong one is refused by the label (§6.4 IMAGE_BASE_MISMATCH or
 * IMAGE_HASH_MISMATCH), it never makes a label show a wrong picture.
 */
export interface KnownHashes {
  target: ContentHash;
  /** The base's hash; needed only when a base is given. */
  base?: ContentHash;
}

/**
 * §6.2 ZLIB streams use a window of at most 2^12 = 4 KiB (CINFO ≤ 4 in the RFC 1950 header), so that a label
 * can inflate straight to its panel controller through a 4 KiB ring buffer. Measured on rendered labels it costs
 * nothing: 810 bytes for a 296×128 BWR label with either a 4 KiB or a 32 KiB window.
 */
export const ZLIB_WINDOW_BITS = 12;

const ALL_KINDS: readonly ImageKind[] = [ImageKind.FULL, ImageKind.DELTA_REGION, ImageKind.DELTA_XOR];
const ALL_ENCODINGS: readonly ImageEncoding[] = [ImageEncoding.RAW, ImageEncoding.RLE, ImageEncoding.ZLIB, ImageEncoding.CTX];
/** Without `encodings`, encodeImage keeps to what every label decodes (§6.2); CTX is asked for explicitly (§6.6.1). */
const DEFAULT_ENCODINGS: readonly ImageEncoding[] = [ImageEncoding.RAW, ImageEncoding.RLE, ImageEncoding.ZLIB];
/** The byte-stream encodings of §6.2 (CTX codes pixels and is handled apart, §6.6). */
type ByteEncoding = Exclude<ImageEncoding, typeof ImageEncoding.CTX>;
const isKind = (k: number): k is ImageKind => (ALL_KINDS as readonly number[]).includes(k);
const isEncoding = (e: number): e is ImageEncoding => (ALL_ENCODINGS as readonly number[]).includes(e);

function compress(data: Uint8Array, encoding: ByteEncoding): Uint8Array {
  switch (encoding) {
    case ImageEncoding.RAW:
      return new Uint8Array(data);
    case ImageEncoding.RLE:
      return packBits(data);
    case ImageEncoding.ZLIB:
      return new Uint8Array(deflateSync(data, { level: 9, windowBits: ZLIB_WINDOW_BITS }));
  }
}

/** Decompresses to exactly `expected` bytes; more is refused while inflating (zip bombs), fewer is a size error. */
function decompress(payload: Uint8Array, encoding: ByteEncoding, expected: number): Uint8Array {
  let out: Uint8Array;
  switch (encoding) {
    case ImageEncoding.RAW:
      out = new Uint8Array(payload);
      break;
    case ImageEncoding.RLE:
      out = unpackBits(payload, expected);
      break;
    case ImageEncoding.ZLIB:
      // CMF byte: CM = 8 (deflate) in the low nibble, CINFO = log2(window) − 8 in the high nibble (RFC 1950 §2.2).
      if (payload.length >= 2 && (payload[0]! & 0x0f) === 8 && payload[0]! >> 4 > ZLIB_WINDOW_BITS - 8) {
        throw new ProtocolError('IMAGE_UNSUPPORTED', `ZLIB window of 2^${(payload[0]! >> 4) + 8} bytes exceeds 4 KiB`, { cmf: payload[0] });
      }
      try {
        // maxOutputLength must be ≥ 1; one byte more than expected still trips the size check below.
        out = new Uint8Array(inflateSync(payload, { maxOutputLength: Math.max(1, expected) }));
      } catch (e) {
        throw new ProtocolError('IMAGE_DECODE_FAILED', `ZLIB: ${(e as Error).message}`, { expected });
      }
      break;
  }
  if (out.length !== expected) {
    throw new ProtocolError('IMAGE_SIZE_MISMATCH', `decoded ${out.length} bytes, expected ${expected}`, { length: out.length, expected });
  }
  return out;
}

interface Geometry {
  rowBytes: number;
  height: number;
  planes: number;
  planeSize: number;
  total: number;
}

function geometry(t: LabelType): Geometry {
  return {
    rowBytes: Math.ceil(t.width / 8),
    height: t.height,
    planes: PALETTE_PLANES[t.palette].length,
    planeSize: planeBytes(t),
    total: imageBytes(t),
  };
}

function checkSize(what: string, planes: Uint8Array, g: Geometry): void {
  if (planes.length !== g.total) {
    throw new ProtocolError('IMAGE_SIZE_MISMATCH', `${what} has ${planes.length} bytes, the label type needs ${g.total}`, {
      what,
      length: planes.length,
      expected: g.total,
    });
  }
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * §6.3.2 The smallest byte-aligned rectangle holding every byte that differs in any plane: x is rounded down and
 * x + width up to a multiple of 8. Where the panel width is not a multiple of 8, x + width may reach into the
 * row padding (at most ⌈width/8⌉·8). EMPTY_REGION when nothing differs.
 */
export function changedRegion(t: LabelType, a: Uint8Array, b: Uint8Array): Region {
  const g = geometry(t);
  checkSize('first image', a, g);
  checkSize('second image', b, g);
  let minY = g.height;
  let maxY = -1;
  let minBx = g.rowBytes;
  let maxBx = -1;
  for (let p = 0; p < g.planes; p++) {
    for (let y = 0; y < g.height; y++) {
      const row = p * g.planeSize + y * g.rowBytes;
      for (let bx = 0; bx < g.rowBytes; bx++) {
        if (a[row + bx] !== b[row + bx]) {
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
          if (bx < minBx) minBx = bx;
          if (bx > maxBx) maxBx = bx;
        }
      }
    }
  }
  if (maxY < 0) return { ...EMPTY_REGION };
  return { x: minBx * 8, y: minY, width: (maxBx - minBx + 1) * 8, height: maxY - minY + 1 };
}

function regionBytes(r: Region, g: Geometry): number {
  return (r.width / 8) * r.height * g.planes;
}

function checkRegion(r: Region, g: Geometry): void {
  const ok =
    [r.x, r.y, r.width, r.height].every((v) => Number.isInteger(v) && v >= 0) &&
    r.x % 8 === 0 &&
    r.width % 8 === 0 &&
    r.x + r.width <= g.rowBytes * 8 &&
    r.y + r.height <= g.height;
  if (!ok) throw new ProtocolError('IMAGE_DECODE_FAILED', 'region is not byte-aligned or lies outside the panel', { region: { ...r } });
}

/** The region's rows of every plane, in plane order (§6.3.2). */
function extractRegion(planes: Uint8Array, r: Region, g: Geometry): Uint8Array {
  const bx0 = r.x / 8;
  const bw = r.width / 8;
  const out = new Uint8Array(regionBytes(r, g));
  let o = 0;
  for (let p = 0; p < g.planes; p++) {
    for (let y = r.y; y < r.y + r.height; y++) {
      const at = p * g.planeSize + y * g.rowBytes + bx0;
      copyBytes(out, o, planes, at, bw);
      o += bw;
    }
  }
  return out;
}

function insertRegion(planes: Uint8Array, data: Uint8Array, r: Region, g: Geometry): void {
  const bx0 = r.x / 8;
  const bw = r.width / 8;
  let o = 0;
  for (let p = 0; p < g.planes; p++) {
    for (let y = r.y; y < r.y + r.height; y++) {
      planes.set(data.subarray(o, o + bw), p * g.planeSize + y * g.rowBytes + bx0);
      o += bw;
    }
  }
}

/**
 * Encodes `target` for a label that shows `base` (if known): tries every allowed kind × encoding and returns the
 * smallest payload. Deltas need a base of the same size. On equal sizes the earlier of FULL, DELTA_REGION,
 * DELTA_XOR and of RAW, RLE, ZLIB, CTX wins (robust and cheap to decode first). Which encodings a label and its
 * AP can take is `allowedEncodings` (encoding-choice.ts).
 *
 * When target equals base the smallest result is a DELTA_REGION with an empty region and an empty payload,
 * which the label applies as a no-op and confirms with its hash. The edge normally sends nothing at all when
 * the label already reports targetHash (§5.3); this only keeps the function total.
 *
 * `hashes`: the pictures' hashes when the caller has them (KnownHashes); otherwise computed here, the base's only when
 * a delta wins.
 *
 * Throws ProtocolError IMAGE_SIZE_MISMATCH for planes of the wrong size, IMAGE_UNSUPPORTED when no allowed
 * kind × encoding applies (e.g. only deltas allowed and no base).
 */
export function encodeImage(opts: {
  labelType: LabelType;
  target: Uint8Array;
  base?: Uint8Array;
  encodings?: ImageEncoding[];
  kinds?: ImageKind[];
  hashes?: KnownHashes;
}): EncodedImage {
  const g = geometry(opts.labelType);
  checkSize('target', opts.target, g);
  if (opts.base !== undefined) checkSize('base', opts.base, g);
  const kinds = ALL_KINDS.filter((k) => (opts.kinds ?? ALL_KINDS).includes(k) && (k === ImageKind.FULL || opts.base !== undefined));
  const encodings = ALL_ENCODINGS.filter((e) => (opts.encodings ?? DEFAULT_ENCODINGS).includes(e));
  if (kinds.length === 0 || encodings.length === 0) {
    throw new ProtocolError('IMAGE_UNSUPPORTED', 'no allowed kind and encoding applies', {
      kinds: opts.kinds,
      encodings: opts.encodings,
      hasBase: opts.base !== undefined,
    });
  }
  const targetHash = opts.hashes?.target ?? contentHash(opts.target);
  let baseHash = opts.base === undefined ? BLANK_HASH : opts.hashes?.base;
  // The result is the smallest payload, ties going to the earlier kind, then the earlier encoding (the canonical
  // order above). Candidates are tried cheapest first — every byte encoding, then CTX from the smallest rectangle to
  // the whole panel — and each CTX encoding is given the best size so far as a budget: it stops as soon as it cannot
  // win (ctx-encoder.ts), which spares most of a FULL encoding when a region delta is small (D41). Same result as
  // trying every candidate in order.
  const order = (kind: ImageKind, encoding: ImageEncoding) => ALL_KINDS.indexOf(kind) * ALL_ENCODINGS.length + ALL_ENCODINGS.indexOf(encoding);
  const prepared = kinds.map((kind) => {
    if (kind === ImageKind.FULL) return { kind, raw: opts.target, region: { ...EMPTY_REGION } };
    if (kind === ImageKind.DELTA_XOR) return { kind, raw: xor(opts.target, opts.base!), region: { ...EMPTY_REGION } };
    const region = changedRegion(opts.labelType, opts.base!, opts.target);
    return { kind, raw: extractRegion(opts.target, region, g), region };
  });
  const ctxCost = (k: ImageKind, region: Region) => (k === ImageKind.DELTA_REGION ? regionBytes(region, g) : g.total + (k === ImageKind.FULL ? 0 : 1));
  const candidates = [
    ...prepared.flatMap((k) => encodings.filter((e) => e !== ImageEncoding.CTX).map((encoding) => ({ ...k, encoding }))),
    ...(encodings.includes(ImageEncoding.CTX) ? prepared.map((k) => ({ ...k, encoding: ImageEncoding.CTX })).sort((a, b) => ctxCost(a.kind, a.region) - ctxCost(b.kind, b.region)) : []),
  ];
  let best: EncodedImage | undefined;
  let bestOrder = Infinity;
  for (const { kind, raw, region, encoding } of candidates) {
    const payload =
      encoding === ImageEncoding.CTX
        ? ctxEncode(g, opts.target, kind === ImageKind.FULL ? null : opts.base!, kind === ImageKind.DELTA_REGION ? region : null, best === undefined ? Infinity : best.payload.length)
        : compress(raw, encoding);
    if (payload === null) continue;
    const o = order(kind, encoding);
    if (best === undefined || payload.length < best.payload.length || (payload.length === best.payload.length && o < bestOrder)) {
      best = { kind, encoding, region, payload, targetHash, baseHash: kind === ImageKind.FULL ? BLANK_HASH : (baseHash ??= contentHash(opts.base!)) };
      bestOrder = o;
    }
  }
  return best!;
}

/**
 * What a label does with a received payload (§6.4), returning the planes it now shows. For deltas it first checks
 * that what it shows (`current`, null = nothing known, e.g. after a reboot) hashes to baseHash
 * (IMAGE_BASE_MISMATCH otherwise); after rebuilding, that the result hashes to targetHash (IMAGE_HASH_MISMATCH).
 * Other failures: IMAGE_UNSUPPORTED (unknown kind or encoding), IMAGE_DECODE_FAILED (corrupt stream, output over
 * the expected size, bad region), IMAGE_SIZE_MISMATCH (output or current of the wrong size). Throws ProtocolError
 * only.
 */
export function applyImage(opts: {
  labelType: LabelType;
  kind: ImageKind;
  encoding: ImageEncoding;
  region: Region;
  payload: Uint8Array;
  current: Uint8Array | null;
  baseHash: ContentHash;
  targetHash: ContentHash;
  /** §6.6.6 The label's fixed CTX decoder state, reused across transfers; a fresh one when omitted. */
  ctxState?: CtxDecoderState;
}): Uint8Array {
  const { kind, encoding } = opts;
  if (!isKind(kind)) throw new ProtocolError('IMAGE_UNSUPPORTED', `unknown image kind ${String(kind)}`, { kind });
  if (!isEncoding(encoding)) throw new ProtocolError('IMAGE_UNSUPPORTED', `unknown image encoding ${String(encoding)}`, { encoding });
  const g = geometry(opts.labelType);
  let result: Uint8Array;
  if (kind === ImageKind.FULL) {
    if (encoding === ImageEncoding.CTX) {
      result = new Uint8Array(g.total);
      ctxDecode(g, opts.payload, result, null, opts.ctxState ?? new CtxDecoderState());
    } else {
      result = decompress(opts.payload, encoding, g.total);
    }
  } else {
    if (opts.current === null) {
      throw new ProtocolError('IMAGE_BASE_MISMATCH', 'delta received but the label shows no known image', { baseHash: opts.baseHash });
    }
    checkSize('current image', opts.current, g);
    const shown = contentHash(opts.current);
    if (shown !== opts.baseHash) {
      throw new ProtocolError('IMAGE_BASE_MISMATCH', 'the label does not show the delta base', { baseHash: opts.baseHash, shown });
    }
    if (encoding === ImageEncoding.CTX) {
      // §6.6.5 The decoder overwrites the frame in place; the copy keeps `current` for a HASH_MISMATCH (§6.4).
      if (kind === ImageKind.DELTA_REGION) checkRegion(opts.region, g);
      result = new Uint8Array(opts.current);
      // §6.6.5 DELTA_XOR with CTX refines the whole panel: the rectangle of all rows and all (padded) columns.
      const rect = kind === ImageKind.DELTA_REGION ? opts.region : { x: 0, y: 0, width: g.rowBytes * 8, height: g.height };
      ctxDecode(g, opts.payload, result, rect, opts.ctxState ?? new CtxDecoderState());
    } else if (kind === ImageKind.DELTA_XOR) {
      result = xor(opts.current, decompress(opts.payload, encoding, g.total));
    } else {
      checkRegion(opts.region, g);
      const data = decompress(opts.payload, encoding, regionBytes(opts.region, g));
      result = new Uint8Array(opts.current);
      insertRegion(result, data, opts.region, g);
    }
  }
  const got = contentHash(result);
  if (got !== opts.targetHash) {
    throw new ProtocolError('IMAGE_HASH_MISMATCH', 'rebuilt image does not match the target hash', { targetHash: opts.targetHash, got });
  }
  return result;
}

/**
 * §6.3.2 Whether the label refreshes only the region: its type supports partial refresh, the kind is
 * DELTA_REGION, the region is not empty, and inside the region no plane other than black changes (partial
 * refresh drives black and white only). `before` and `after` are the planes shown before and after.
 */
export function partialRefreshApplies(t: LabelType, kind: ImageKind, region: Region, before: Uint8Array, after: Uint8Array): boolean {
  if (!t.partialRefresh || kind !== ImageKind.DELTA_REGION || region.width === 0 || region.height === 0) return false;
  const g = geometry(t);
  checkSize('before', before, g);
  checkSize('after', after, g);
  const bx0 = region.x / 8;
  const bw = region.width / 8;
  for (let p = 1; p < g.planes; p++) {
    for (let y = region.y; y < region.y + region.height; y++) {
      const at = p * g.planeSize + y * g.rowBytes + bx0;
      for (let i = at; i < at + bw; i++) if (before[i] !== after[i]) return false;
    }
  }
  return true;
}

/** §6.4, §9.8 The RADIO_XFER_DONE status a label reports when applyImage fails with `error`. */
export function xferDoneStatusFor(error: ProtocolError): StatusCodeValue {
  switch (error.code) {
    case 'IMAGE_BASE_MISMATCH':
      return StatusCode.BASE_MISMATCH;
    case 'IMAGE_HASH_MISMATCH':
      return StatusCode.HASH_MISMATCH;
    case 'IMAGE_UNSUPPORTED':
      return StatusCode.UNSUPPORTED_FEATURE;
    default:
      return StatusCode.DECODE_ERROR;
  }
}
