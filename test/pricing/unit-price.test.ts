import { describe, expect, it } from 'vitest';
import { unitPrice, type UnitPriceInput } from '../../src/domain/pricing/unit-price.js';

describe('unitPrice (PAngV §4/§5)', () => {
  const cases: [string, UnitPriceInput, ReturnType<typeof unitPrice>][] = [
    ['250 g yoghurt at 1,99 € → per kg', { priceCents: 199, quantity: 250, unit: 'g' }, { cents: 796, per: '1 kg' }],
    ['0,75 l wine at 3,49 € → per l (4,6533 → 4,65)', { priceCents: 349, quantity: 0.75, unit: 'l' }, { cents: 465, per: '1 l' }],
    ['1 kg flour at 2,99 €: equals the price → omitted (§4(1))', { priceCents: 299, quantity: 1, unit: 'kg' }, undefined],
    ['1000 g at 2,99 €: same as 1 kg → omitted', { priceCents: 299, quantity: 1000, unit: 'g' }, undefined],
    ['small pack 150 g at 1,29 €: per kg, never per 100 g since 2022', { priceCents: 129, quantity: 150, unit: 'g' }, { cents: 860, per: '1 kg' }],
    ['loose cheese 100 g at 1,79 €: per 100 g equals the price → omitted', { priceCents: 179, quantity: 100, unit: 'g', loose: true }, undefined],
    ['loose cheese 250 g at 4,45 € → per 100 g (§5(2))', { priceCents: 445, quantity: 250, unit: 'g', loose: true }, { cents: 178, per: '100 g' }],
    ['loose olives 0,3 kg at 2,99 € → per 100 g (99,67 → 1,00)', { priceCents: 299, quantity: 0.3, unit: 'kg', loose: true }, { cents: 100, per: '100 g' }],
    ['loose soup 500 ml at 3,90 € → per 100 ml', { priceCents: 390, quantity: 500, unit: 'ml', loose: true }, { cents: 78, per: '100 ml' }],
    ['6 × 1,5 l water at 1,74 € → per l (0,1933 → 0,19)', { priceCents: 174, quantity: 1.5, unit: 'l', multipack: 6 }, { cents: 19, per: '1 l' }],
    ['6 × 1,5 l multipack at 4,99 € → per l (0,5544 → 0,55)', { priceCents: 499, quantity: 1.5, unit: 'l', multipack: 6 }, { cents: 55, per: '1 l' }],
    ['400 g can, drained 240 g, at 1,29 € → per kg drained (5,375 → 5,38, half up)', { priceCents: 129, quantity: 400, unit: 'g', drainedQuantity: 240 }, { cents: 538, per: '1 kg' }],
    ['33 cl can at 0,89 € → per l (2,6969 → 2,70)', { priceCents: 89, quantity: 33, unit: 'cl' }, { cents: 270, per: '1 l' }],
    ['half-cent rounds up: 200 g at 0,01 € → 0,05 €/kg', { priceCents: 1, quantity: 200, unit: 'g' }, { cents: 5, per: '1 kg' }],
    ['just below half rounds down: 3 kg at 1,00 € → 0,33 €/kg', { priceCents: 100, quantity: 3, unit: 'kg' }, { cents: 33, per: '1 kg' }],
    ['cable 25 m at 19,99 € → per m', { priceCents: 1999, quantity: 25, unit: 'm' }, { cents: 80, per: '1 m' }],
    ['tape 500 cm at 2,49 € → per m', { priceCents: 249, quantity: 500, unit: 'cm' }, { cents: 50, per: '1 m' }],
    ['laminate 2,13 m² at 25,99 € → per m²', { priceCents: 2599, quantity: 2.13, unit: 'm2' }, { cents: 1220, per: '1 m²' }],
    ['mulch 0,05 m³ at 4,99 € → per m³', { priceCents: 499, quantity: 0.05, unit: 'm3' }, { cents: 9980, per: '1 m³' }],
    ['sold by the piece → none', { priceCents: 99, quantity: 1, unit: 'piece' }, undefined],
    ['1,1 l (a binary-inexact decimal) at 1,10 € → exactly 1,00 €/l', { priceCents: 110, quantity: 1.1, unit: 'l' }, { cents: 100, per: '1 l' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(unitPrice(input)).toEqual(expected);
  });

  it('refuses a non-positive quantity with a stable code', () => {
    expect(() => unitPrice({ priceCents: 100, quantity: 0, unit: 'g' })).toThrow(/UNIT_PRICE_INVALID_INPUT/);
    expect(() => unitPrice({ priceCents: 1.5, quantity: 1, unit: 'g' })).toThrow(/UNIT_PRICE_INVALID_INPUT/);
  });
});
