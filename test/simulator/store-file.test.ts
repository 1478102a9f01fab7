import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelTypeById } from '#protocol';
import { StoreFileSchema, loadStoreFile } from '../../simulator/src/store-file.js';
import { gtinCheckDigitOk as isValidGtin } from '#contracts';

const DEMO = join(import.meta.dirname, '..', '..', 'simulator', 'stores', 'demo-store.json');

describe('store file', () => {
  it('GS1 check digits', () => {
    expect(isValidGtin('4006381333931')).toBe(true);
    expect(isValidGtin('4006381333932')).toBe(false);
    expect(isValidGtin('96385074')).toBe(true); // EAN-8
    expect(isValidGtin('40063813339')).toBe(false); // 11 digits
  });

  it('the demo store: 2 APs, 40 labels of the 2.9" and 2.13" BWR types, each bound to one of 40 products', async () => {
    const store = await loadStoreFile(DEMO);
    expect(store).toMatchObject({ chain: 'demo', store: 'berlin-01' });
    expect(store.aps.map((a) => a.apId)).toEqual(['AP-01', 'AP-02']);
    expect(store.products).toHaveLength(40);
    expect(store.labels).toHaveLength(40);
    expect(new Set(store.labels.map((l) => l.labelType))).toEqual(new Set([2, 3]));
    expect(new Set(store.labels.map((l) => l.gtin)).size).toBe(40);
    for (const l of store.labels) {
      expect(l.labelId).toMatch(/^[0-9A-F]{16}$/);
      expect(labelTypeById(l.labelType)?.palette).toBe('BWR');
    }
    for (const p of store.products) {
      expect(p.gtin).toMatch(/^\d{13}$/);
      expect(isValidGtin(p.gtin)).toBe(true);
    }
    // Some loose goods sold by weight, priced per kg.
    const loose = store.products.filter((p) => p.loose);
    expect(loose.length).toBeGreaterThanOrEqual(3);
    for (const p of loose) expect(p.packSize).toEqual({ quantity: 1, unit: 'kg' });
  });

  it('rejects bad check digits, unknown APs and labels bound to unknown products', () => {
    const store = JSON.parse(readFileSync(DEMO, 'utf8')) as { products: { gtin: string }[]; labels: { apId: string; gtin: string }[] };
    const badGtin = structuredClone(store);
    badGtin.products[0]!.gtin = badGtin.products[0]!.gtin.slice(0, 12) + ((Number(badGtin.products[0]!.gtin[12]) + 1) % 10);
    expect(StoreFileSchema.safeParse(badGtin).success).toBe(false);
    const badAp = structuredClone(store);
    badAp.labels[0]!.apId = 'AP-99';
    expect(StoreFileSchema.safeParse(badAp).error?.issues[0]?.message).toContain('unknown AP');
    const unbound = structuredClone(store);
    unbound.labels[0]!.gtin = '4006381333931';
    expect(StoreFileSchema.safeParse(unbound).error?.issues[0]?.message).toContain('no product');
  });
});
