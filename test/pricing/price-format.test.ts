import { describe, expect, it } from 'vitest';
import { euroParts, formatDateDe, formatDateDeLong, formatEuro, formatEuroAmount, NBSP } from '../../src/domain/pricing/price-format.js';

describe('formatEuro (de-DE)', () => {
  it.each([
    [0, '0,00'],
    [1, '0,01'],
    [99, '0,99'],
    [199, '1,99'],
    [1000, '10,00'],
    [99999, '999,99'],
    [129900, '1.299,00'],
    [100000000, '1.000.000,00'],
    [-250, '-2,50'],
  ])('%i cents → %s €', (cents, amount) => {
    expect(formatEuro(cents)).toBe(`${amount}${NBSP}€`);
    expect(formatEuroAmount(cents)).toBe(amount);
  });

  it('uses a no-break space (U+00A0) before the euro sign', () => {
    expect(formatEuro(199).charCodeAt(4)).toBe(0xa0);
  });

  it('splits into euros and cents for large-euro layouts', () => {
    expect(euroParts(129905)).toEqual({ sign: '', euros: '1.299', cents: '05' });
  });

  it('refuses fractional cents', () => {
    expect(() => formatEuro(1.5)).toThrow(/PRICE_NOT_INTEGER_CENTS/);
  });
});

describe('formatDateDe', () => {
  it.each([
    ['2026-11-24', '24.11.', '24.11.2026'],
    ['2027-01-05', '05.01.', '05.01.2027'],
    ['2028-02-29', '29.02.', '29.02.2028'],
  ])('%s → %s', (iso, short, long) => {
    expect(formatDateDe(iso)).toBe(short);
    expect(formatDateDeLong(iso)).toBe(long);
  });

  it.each(['2026-13-01', '2027-02-29', '24.11.2026', '2026-11-31'])('refuses %s', (bad) => {
    expect(() => formatDateDe(bad)).toThrow(/DATE_INVALID/);
  });
});
