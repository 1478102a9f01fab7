/**
 * The render worker keeps every product's EAN pattern (barcode.ts, D87, D166), keyed per symbology by the code's digits
 * as a number. What it hands back from the cache must be bwip-js's pattern for exactly that code: leading zeros, and an
 * EAN-13 and an EAN-8 whose digits are the same number, must not meet.
 */
import bwipjs from 'bwip-js';
import { describe, expect, it } from 'vitest';
import type { RetailBarcode } from '#contracts';
import { eanModules } from '../../src/domain/rendering/barcode.js';

/** bwip-js's pattern as one byte per module: bars and spaces alternate from a bar. */
function reference(code: RetailBarcode): number[] {
  const raw = bwipjs.raw(code.symbology, code.digits, {}) as { sbs: number[] }[];
  const out: number[] = [];
  raw[0]!.sbs.forEach((w, i) => {
    for (let k = 0; k < w; k++) out.push(i % 2 === 0 ? 1 : 0);
  });
  return out;
}

const CODES: RetailBarcode[] = [
  { symbology: 'ean13', digits: '4006381333931' },
  { symbology: 'ean13', digits: '0012345678905' },
  // The GTIN-8 96385074 padded to 13 digits: the same number as the EAN-8 below.
  { symbology: 'ean13', digits: '0000096385074' },
  { symbology: 'ean8', digits: '96385074' },
  { symbology: 'ean8', digits: '12345670' },
];

describe('EAN pattern cache', () => {
  it('gives bwip-js pattern for each code, first drawn and then from the cache, in both orders', () => {
    for (const order of [CODES, [...CODES].reverse()]) {
      for (const code of order) {
        const want = reference(code);
        expect(want.length).toBe(code.symbology === 'ean13' ? 95 : 67);
        expect([...eanModules(code)], `${code.symbology} ${code.digits}`).toEqual(want);
        expect([...eanModules(code)], `${code.symbology} ${code.digits}, again`).toEqual(want);
      }
    }
  });

  it('hands out a fresh array each time: a caller that draws into it cannot change the kept pattern', () => {
    const code = CODES[0]!;
    const first = eanModules(code);
    first.fill(0);
    expect([...eanModules(code)]).toEqual(reference(code));
  });
});
