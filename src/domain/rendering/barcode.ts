/**
 * Barcode modules from bwip-js, cached: EAN-13/EAN-8 bar patterns and QR module matrices. The renderer draws the
 * modules itself at a whole number of pixels each (label-layout.ts), which is what makes a code scannable at panel
 * resolution: no resampling ever smears a module edge.
 */
import bwipjs from 'bwip-js';
import type { RetailBarcode } from '#contracts';

/** Quiet zones in modules (GS1 General Specifications 5.2.3.4): EAN-13 11 left / 7 right, EAN-8 7 / 7; QR 4. */
export const EAN_QUIET = { ean13: { left: 11, right: 7 }, ean8: { left: 7, right: 7 } } as const;
export const QR_QUIET = 4;
const EAN_MODULES = { ean13: 95, ean8: 67 } as const;

/**
 * EAN patterns by code, packed 8 modules to a character (D87): bwip-js takes ~150 µs per EAN-13, a third of a label's
 * render, so every product's pattern is kept for its next picture. One map per symbology, keyed by the code's digits as
 * a number (exact: 13 digits are below 2^53, and within one symbology every code has the same length, so leading zeros
 * lose nothing): ~85 B a code against 133 B with a "symbology:digits" string key (D166, 200,000 codes measured).
 * D166: room for 250,000 codes, a store of the 200,000 labels with a product each; with room for 100,000, a
 * 200,000-product repricing missed on most labels (each miss pushes out a code the pass may still need) and its render
 * worker needed 0.769 CPU ms a label against 0.469 with every code kept (bench/plan-throughput). ~21 MB at the limit.
 */
const eanCache = { ean13: new Map<number, string>(), ean8: new Map<number, string>() };
const EAN_CACHE_LIMIT = 250_000;
/** QR matrices by level and data (page 2 of the larger labels only; size² bytes each). */
const QR_CACHE_LIMIT = 100_000;
const qrCache = new Map<string, QrMatrix>();

function packModules(modules: Uint8Array): string {
  let s = '';
  for (let i = 0; i < modules.length; i += 8) {
    let b = 0;
    for (let j = 0; j < 8 && i + j < modules.length; j++) b |= modules[i + j]! << j;
    s += String.fromCharCode(b);
  }
  return s;
}

function unpackModules(packed: string, n: number): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = (packed.charCodeAt(i >> 3) >> (i & 7)) & 1;
  return m;
}

function remember<K, V>(cache: Map<K, V>, limit: number, key: K, value: V): V {
  if (cache.size >= limit) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  return value;
}

/** One byte per module, 1 = bar. */
export function eanModules(code: RetailBarcode): Uint8Array {
  const cache = eanCache[code.symbology];
  // retailBarcodeFor gives digits only; anything else (NaN would be one key for all) is drawn without the cache.
  const key = /^\d{1,15}$/.test(code.digits) ? Number(code.digits) : null;
  const hit = key === null ? undefined : cache.get(key);
  if (hit !== undefined) return unpackModules(hit, EAN_MODULES[code.symbology]);
  const raw = bwipjs.raw(code.symbology, code.digits, {}) as { sbs: number[] }[];
  const sbs = raw[0]?.sbs ?? [];
  const modules = new Uint8Array(EAN_MODULES[code.symbology]);
  let x = 0;
  sbs.forEach((w, i) => {
    if (i % 2 === 0) modules.fill(1, x, x + w);
    x += w;
  });
  if (x !== modules.length) throw new Error(`BARCODE_ENCODING: ${code.symbology} ${code.digits} gave ${x} modules, expected ${modules.length}`);
  if (key !== null) remember(cache, EAN_CACHE_LIMIT, key, packModules(modules));
  return modules;
}

export interface QrMatrix {
  size: number;
  /** size × size bytes, row-major, 1 = dark module. */
  bits: Uint8Array;
}

export function qrModules(data: string, ecLevel: 'L' | 'M' | 'Q' | 'H'): QrMatrix {
  const key = `${ecLevel}:${data}`;
  const hit = qrCache.get(key);
  if (hit) return hit;
  const raw = bwipjs.raw('qrcode', data, `eclevel=${ecLevel}`) as { pixs: number[]; pixx: number; pixy: number }[];
  const m = raw[0];
  if (!m || m.pixx !== m.pixy || m.pixs.length !== m.pixx * m.pixy) throw new Error(`BARCODE_ENCODING: unexpected QR matrix for "${data}"`);
  return remember(qrCache, QR_CACHE_LIMIT, key, { size: m.pixx, bits: Uint8Array.from(m.pixs) });
}
