/** The German wording labels print, and GTIN helpers. */
import { describe, expect, it } from 'vitest';
import { digitalLinkUri, gtinCheckDigitOk, retailBarcodeFor } from '#contracts';
import { lowestPriorWordings, regularPriceWording, stockWording, unitPriceWordings } from '../../src/domain/rendering/label-wording.js';
import { NBSP } from '../../src/domain/pricing/price-format.js';
import { STANDARD } from '../../src/domain/rendering/sample-content.js';

const plain = (s: string) => s.replaceAll(NBSP, ' ');

describe('PAngV §11 wording', () => {
  it('states the lowest price of the prior 30 days in every form, never as a "best price"', () => {
    const w = lowestPriorWordings(229).map(plain);
    expect(w[0]).toBe('Niedrigster Preis der letzten 30 Tage: 2,29 €');
    expect(w).toContain('Tiefstpreis 30 Tage: 2,29 €');
    for (const s of w) {
      expect(s).toMatch(/(Niedrigster Preis|Tiefstpreis).*30 Tage: 2,29 €$/);
      expect(s).not.toMatch(/Bestpreis/);
    }
    expect(lowestPriorWordings(229).every((s) => s.includes(`30${NBSP}Tage`) && s.endsWith(`2,29${NBSP}€`))).toBe(true);
  });
});

describe('unit price wording (PAngV §4)', () => {
  it('prints the unit price after the pack size, never broken inside', () => {
    expect(unitPriceWordings(STANDARD, true)!.map(plain)).toEqual(['500 g (1 kg = 2,98 €)', '1 kg = 2,98 €']);
    expect(unitPriceWordings(STANDARD, false)).toEqual([`1${NBSP}kg${NBSP}=${NBSP}2,98${NBSP}€`]);
    expect(unitPriceWordings({ ...STANDARD, unitPrice: undefined }, true)).toEqual([`500${NBSP}g`]);
    expect(unitPriceWordings({ ...STANDARD, unitPrice: undefined, packSize: undefined }, true)).toBeUndefined();
  });

  it('prints the regular price', () => {
    expect(plain(regularPriceWording(249, 'statt'))).toBe('statt 2,49 €');
    expect(plain(regularPriceWording(249, 'strike'))).toBe('2,49 €');
  });
});

describe('stock wording', () => {
  it.each([
    [{ state: 'low' as const, quantity: 3 }, 'Nur noch 3'],
    [{ state: 'low' as const }, 'Nur noch wenige'],
    [{ state: 'out_of_stock' as const }, 'Ausverkauft'],
    [{ state: 'online_only' as const }, 'Online verfügbar'],
    [{ state: 'in_stock' as const, quantity: 40 }, undefined],
    [undefined, undefined],
  ])('%j → %s', (stock, text) => {
    expect(stockWording(stock)).toBe(text);
  });
});

describe('GTIN', () => {
  it.each([
    ['4006381333931', true],
    ['4006381333932', false],
    ['96385074', true],
    ['036000291452', true],
    ['10614141000415', true],
    ['400638133393', false],
  ])('check digit of %s ok: %s', (gtin, ok) => {
    expect(gtinCheckDigitOk(gtin)).toBe(ok);
  });

  it('chooses the retail barcode', () => {
    expect(retailBarcodeFor('4006381333931')).toEqual({ symbology: 'ean13', digits: '4006381333931' });
    expect(retailBarcodeFor('036000291452')).toEqual({ symbology: 'ean13', digits: '0036000291452' });
    expect(retailBarcodeFor('96385074')).toEqual({ symbology: 'ean8', digits: '96385074' });
    expect(retailBarcodeFor('10614141000415')).toBeUndefined();
    expect(retailBarcodeFor('4006381333932')).toBeUndefined();
  });

  it('builds the GS1 Digital Link URI with the 14-digit GTIN', () => {
    expect(digitalLinkUri('4006381333931')).toBe('https://id.gs1.org/01/04006381333931');
    expect(digitalLinkUri('96385074')).toBe('https://id.gs1.org/01/00000096385074');
  });
});
