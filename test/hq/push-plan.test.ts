import { describe, expect, it } from 'vitest';
import { BatchEventSchema, EslError } from '#contracts';
import { parsePriceListCsv, parsePromotionCsv } from '../../hq/src/price-list-csv.js';
import { defaultPushId, planPush, type PlanOptions } from '../../hq/src/push-plan.js';
import { parseStoresList } from '../../hq/src/stores-list.js';
import type { HqRecord } from '../../hq/src/hq-records.js';
import { germanPriceList, gtinWithCheckDigit } from './price-list-fixture.js';

function records(text: string): HqRecord[] {
  const r = parsePriceListCsv(text);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.list.records;
}
const OPTS: PlanOptions = { chain: 'acme', username: 'hq', source: 'hq-push', version: 1_795_000_000_000, pushId: 'hq-0123456789abcdef' };

describe('push plan', () => {
  it('one batch per store for a short list, with deterministic ids, the reply topic under reply/{username}/ and valid contract events', () => {
    const list = records(germanPriceList(500).text);
    const [a, b] = planPush(list, ['store-1', 'store-2'], OPTS);
    expect(a!.batches).toHaveLength(1);
    const batch = a!.batches[0]!;
    expect(batch).toMatchObject({
      id: 'hq-0123456789abcdef-store-1-1of1',
      topic: 'esl/acme/store-1/in/batch',
      replyTo: 'esl/acme/store-1/reply/hq/push-hq-0123456789abcdef-store-1-1of1',
      events: 500,
    });
    expect(batch.bytes).toBe(Buffer.byteLength(batch.payload()));
    const event = BatchEventSchema.parse(JSON.parse(batch.payload()));
    expect(event.replyTo).toBe(batch.replyTo);
    expect(event.data.events[0]).toMatchObject({ id: 'hq-0123456789abcdef-store-1-r2', type: 'price', version: OPTS.version, source: 'hq-push' });
    expect(b!.batches[0]!.id).toBe('hq-0123456789abcdef-store-2-1of1');
    // Same list, same plan: a re-push carries the same ids.
    expect(planPush(list, ['store-1'], OPTS)[0]!.batches[0]!.payload()).toBe(batch.payload());
  });

  it('derives the push id from the content: same list same id, one changed price a new id', () => {
    const a = records(germanPriceList(50).text);
    expect(defaultPushId(a)).toBe(defaultPushId(records(germanPriceList(50).text)));
    expect(defaultPushId(a)).toMatch(/^hq-[0-9a-f]{16}$/);
    expect(defaultPushId(records(germanPriceList(50, { centsShift: 1 }).text))).not.toBe(defaultPushId(a));
  });

  it('splits a long list by event count and by bytes; every batch fits, none is empty, all events go out once', () => {
    const list = records(germanPriceList(5_000).text);
    const byCount = planPush(list, ['s1'], { ...OPTS, maxEventsPerBatch: 2_000, maxBatchBytes: 10_000_000 })[0]!;
    expect(byCount.batches.map((b) => b.events)).toEqual([2_000, 2_000, 1_000]);
    expect(byCount.batches.map((b) => b.id)).toEqual(['hq-0123456789abcdef-s1-1of3', 'hq-0123456789abcdef-s1-2of3', 'hq-0123456789abcdef-s1-3of3']);

    const byBytes = planPush(list, ['s1'], { ...OPTS, maxBatchBytes: 64 * 1024 })[0]!;
    expect(byBytes.batches.length).toBeGreaterThan(5);
    for (const b of byBytes.batches) {
      expect(b.bytes).toBe(Buffer.byteLength(b.payload()));
      expect(b.bytes).toBeLessThanOrEqual(64 * 1024);
      expect(b.events).toBeGreaterThan(0);
    }
    const ids = byBytes.batches.flatMap((b) => BatchEventSchema.parse(JSON.parse(b.payload())).data.events.map((e) => e.id));
    expect(ids).toHaveLength(5_000);
    expect(new Set(ids).size).toBe(5_000);
    // The default fits the embedded broker's 256 KiB limit.
    for (const b of planPush(list, ['s1'], OPTS)[0]!.batches) expect(b.bytes).toBeLessThanOrEqual(256 * 1024);
  });

  it('gives dated rows of one GTIN rising versions in date order and keeps them in one batch', () => {
    const gtin = gtinWithCheckDigit('400638133393');
    const other = (i: number) => `${gtinWithCheckDigit(`4006${String(200_000 + i).padStart(8, '0')}`)};1,00;`;
    const lines = ['EAN;Preis;Gültig ab', other(0), `${gtin};2,49;01.05.2026`, other(1), `${gtin};1,99;`, `${gtin};2,29;01.04.2026`, other(2)];
    const plan = planPush(records(lines.join('\n')), ['s1'], { ...OPTS, maxEventsPerBatch: 3 })[0]!;
    const batches = plan.batches.map((b) => BatchEventSchema.parse(JSON.parse(b.payload())).data.events);
    const withGtin = batches.filter((events) => events.some((e) => e.type === 'price' && e.data.gtin === gtin));
    expect(withGtin).toHaveLength(1); // filling the first batch up to 3 would have cut the GTIN's rows apart
    const versions = withGtin[0]!.flatMap((e) => (e.type === 'price' && e.data.gtin === gtin ? [[e.data.priceCents, e.version - OPTS.version]] : []));
    expect(versions).toEqual([
      [199, 0],
      [229, 1],
      [249, 2],
    ]);
    expect(plan.events).toBe(6);
    expect(plan.batches.map((b) => b.events)).toEqual([1, 3, 2]);
  });

  it('leaves out stores with nothing to receive and refuses an event larger than a batch may be', () => {
    const promo = parsePromotionCsv(
      [
        'Aktion;EAN;Rabatt;Beginn;Ende;Filiale',
        ...Array.from({ length: 3_000 }, (_, i) => `BIG;${gtinWithCheckDigit(`4006${String(300_000 + i).padStart(8, '0')}`)};20;01.12.2026;24.12.2026;`),
        `LOCAL;${gtinWithCheckDigit('400638133393')};10;01.12.2026;24.12.2026;store-9`,
      ].join('\n'),
    );
    if (!promo.ok) throw new Error(JSON.stringify(promo.errors));
    const local = promo.list.records.filter((r) => r.type === 'promotion' && r.data.promotionId === 'LOCAL');
    const plans = planPush(local, ['store-1', 'store-9'], OPTS);
    expect(plans.map((p) => [p.store, p.events, p.batches.length])).toEqual([
      ['store-1', 0, 0],
      ['store-9', 1, 1],
    ]);
    expect(() => planPush(promo.list.records, ['store-1'], { ...OPTS, maxBatchBytes: 32 * 1024 })).toThrow(EslError);
    expect(() => planPush(promo.list.records, ['store-1'], { ...OPTS, maxBatchBytes: 32 * 1024 })).toThrow(/promotion BIG \(3000 GTINs\)/);
  });

  it('counts bytes exactly with multi-byte text (badges, source)', () => {
    const promo = parsePromotionCsv(
      ['Aktion;EAN;Rabatt;Beginn;Ende;Störer', `FRÜHLING;${gtinWithCheckDigit('400638133393')};20;01.04.2026;14.04.2026;Frühlingsrabatt –20 % ✿`].join('\n'),
    );
    if (!promo.ok) throw new Error(JSON.stringify(promo.errors));
    const [plan] = planPush(promo.list.records, ['s1'], { ...OPTS, source: 'zentrale-einkauf-süd' });
    const batch = plan!.batches[0]!;
    expect(batch.bytes).toBe(Buffer.byteLength(batch.payload()));
    expect(BatchEventSchema.parse(JSON.parse(batch.payload())).data.events[0]).toMatchObject({ source: 'zentrale-einkauf-süd', data: { badge: 'Frühlingsrabatt –20 % ✿' } });
  });

  it('refuses ids that cannot be topic levels', () => {
    const list = records(germanPriceList(3).text);
    expect(() => planPush(list, ['store/1'], OPTS)).toThrow(/store "store\/1"/);
    expect(() => planPush(list, ['s1'], { ...OPTS, chain: 'a+b' })).toThrow(/chain/);
    expect(() => planPush(list, ['s1'], { ...OPTS, username: 'hq/#' })).toThrow(/username/);
    expect(() => planPush(list, ['s1', 's1'], OPTS)).toThrow(/twice/);
  });
});

describe('stores list', () => {
  it('reads ids with comments and notes, and refuses bad or repeated ids with their lines', () => {
    expect(parseStoresList('\ufeff# Filialen Region Süd\nstore-0042  München Pasing\n\nstore-0043;Augsburg\nstore-0044 # neu\n')).toEqual({
      ok: true,
      stores: ['store-0042', 'store-0043', 'store-0044'],
    });
    const bad = parseStoresList('store-1\nFiliale/7\nstore-1\n');
    expect(bad.ok ? [] : bad.errors.map((e) => e.row)).toEqual([2, 3]);
    expect(parseStoresList('# nur Kommentare\n').ok).toBe(false);
  });
});
