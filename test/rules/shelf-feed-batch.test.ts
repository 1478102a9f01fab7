/**
 * The shelf feed looks at observed labels in batches (D115): every check-in and every planned label calls observe(),
 * and a chain of one sqlite round trip per call fell ~180,000 links behind in a reference fill. Observations of the
 * same label coalesce, a batch reads its contents and stock with a few statements, and a product yields one row per
 * change however many of its labels are observed (D52's meaning is unchanged).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { SHELF_GATHER_MS, ShelfFeed, shelfFeedSince } from '../../src/domain/feeds/shelf-feed.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import type { LabelContent } from '#contracts';
import { tempDir } from '../support/temp-dir.js';
import { countCalls } from '../support/count-calls.js';

interface FakeLabel {
  gtin: string | null;
  confirmedHash: string | null;
  desiredHash: string | null;
}

const hashOf = (n: number) => (n + 1).toString(16).padStart(16, '0');
const gtinOf = (p: number) => `40000000${String(p).padStart(5, '0')}`;

describe('shelf feed observations in batches (D115)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'edge.db'));
  });
  afterEach(async () => {
    await db.close();
    tmp.remove();
  });

  it('coalesces repeated observations, writes one row per changed product, and counts the statements', async () => {
    const products = 3_000;
    const images = new ImageStore({ db, budgetBytes: 64 * 1024 }); // most pictures not cached: the batched read path
    const labels = new Map<string, FakeLabel>();
    await db.transaction(async (tx) => {
      for (let p = 0; p < products; p++) {
        const content: LabelContent = { gtin: gtinOf(p), name: `Produkt ${p}`, priceCents: 100 + p, currency: 'EUR' };
        await images.save(tx, { hash: hashOf(p), labelType: 3, planes: new Uint8Array(64).fill(p & 0xff), content }, 0);
        await tx.run('INSERT INTO stock (gtin, quantity, state, updated_at) VALUES (?, ?, ?, 0)', [gtinOf(p), p % 7, p % 7 === 0 ? 'out' : 'in_stock']);
        // Two labels per product; the second of every tenth product does not show what the edge wants yet.
        labels.set(`L${p}a`, { gtin: gtinOf(p), confirmedHash: hashOf(p), desiredHash: hashOf(p) });
        labels.set(`L${p}b`, { gtin: gtinOf(p), confirmedHash: p % 10 === 0 ? null : hashOf(p), desiredHash: hashOf(p) });
      }
    });
    const { proxy: counted, count: statements } = countCalls(db, ['all', 'get', 'run', 'transaction']);
    let outboxKicks = 0;
    const feed = new ShelfFeed({
      db: counted,
      labels: { get: (id: string) => labels.get(id) as never },
      images,
      clock: new ManualClock(1_000_000),
      log: createLogger({ level: 'silent' }),
      onOutbox: () => outboxKicks++,
    });
    await feed.load();
    // Every label observed three times, as check-ins and plans would.
    for (let round = 0; round < 3; round++) for (const id of labels.keys()) feed.observe(id);
    expect(feed.waiting).toBeLessThanOrEqual(labels.size);
    await feed.idle();
    expect(feed.waiting).toBe(0);

    const { entries } = await shelfFeedSince(db, 0, 100_000);
    expect(entries).toHaveLength(products);
    expect(new Set(entries.map((e) => e.gtin)).size).toBe(products);
    const e7 = entries.find((e) => e.gtin === gtinOf(7))!;
    expect(e7).toMatchObject({ priceCents: 107, stockState: 'out', quantity: 0, pickup: false });
    const e8 = entries.find((e) => e.gtin === gtinOf(8))!;
    expect(e8).toMatchObject({ priceCents: 108, stockState: 'in_stock', quantity: 1, pickup: true });
    const outbox = await db.get<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE topic = 'out/shelf'");
    expect(outbox?.n).toBe(products);
    // 6,000 labels × 3 observations: a handful of batches, each a few reads (500 per statement) and one transaction
    // — not one round trip or more per observation as before.
    expect(statements()).toBeLessThan(60);
    expect(outboxKicks).toBeGreaterThan(0);

    // Nothing changed: observing again writes nothing.
    for (const id of labels.keys()) feed.observe(id);
    await feed.idle();
    expect((await shelfFeedSince(db, 0, 100_000)).entries).toHaveLength(products);

    // A price change confirmed by one label of a product: one new row, with the new price.
    const content: LabelContent = { gtin: gtinOf(5), name: 'Produkt 5', priceCents: 999, currency: 'EUR' };
    await db.transaction((tx) => images.save(tx, { hash: hashOf(products + 5), labelType: 3, planes: new Uint8Array(64), content }, 0));
    labels.set('L5a', { gtin: gtinOf(5), confirmedHash: hashOf(products + 5), desiredHash: hashOf(products + 5) });
    feed.observe('L5a');
    feed.observe('L5a');
    await feed.idle();
    const after = await shelfFeedSince(db, entries[entries.length - 1]!.seq, 100);
    expect(after.entries.map((e) => [e.gtin, e.priceCents])).toEqual([[gtinOf(5), 999]]);
    // D122: its rows are numbered on from the last one, and each outbox message carries its row's number.
    const msg = await db.get<{ id: string; payload: string }>("SELECT id, payload FROM outbox WHERE topic = 'out/shelf' ORDER BY seq DESC LIMIT 1");
    expect(after.entries[0]!.seq).toBe(entries[entries.length - 1]!.seq + 1);
    expect(msg?.id).toBe(`shelf-${after.entries[0]!.seq}`);
    expect((JSON.parse(msg!.payload) as { seq: number }).seq).toBe(after.entries[0]!.seq);
  });

  it('gathers observations for SHELF_GATHER_MS of the injected clock before a pass looks at them (D122)', async () => {
    const clock = new ManualClock(1_000_000);
    const images = new ImageStore({ db, budgetBytes: 1024 * 1024 });
    const labels = new Map<string, FakeLabel>();
    await db.transaction(async (tx) => {
      for (let p = 0; p < 20; p++) {
        const content: LabelContent = { gtin: gtinOf(p), name: `Produkt ${p}`, priceCents: 100 + p, currency: 'EUR' };
        await images.save(tx, { hash: hashOf(p), labelType: 3, planes: new Uint8Array(64), content }, 0);
        labels.set(`L${p}`, { gtin: gtinOf(p), confirmedHash: hashOf(p), desiredHash: hashOf(p) });
      }
    });
    const { proxy: counted, count: transactions } = countCalls(db, ['transaction']);
    const feed = new ShelfFeed({ db: counted, labels: { get: (id: string) => labels.get(id) as never }, images, clock, log: createLogger({ level: 'silent' }), onOutbox: () => undefined });
    await feed.load();
    // Confirmations a few at a time, inside one window: no pass yet.
    for (let p = 0; p < 20; p++) {
      feed.observe(`L${p}`);
      clock.advance(SHELF_GATHER_MS / 25);
      await new Promise((r) => setImmediate(r));
    }
    expect(feed.waiting).toBe(20);
    expect(transactions()).toBe(0);
    // The window ends: one pass takes all of them, in one transaction.
    clock.advance(SHELF_GATHER_MS);
    expect(feed.waiting).toBe(0);
    await feed.idle();
    expect(transactions()).toBe(1);
    expect((await shelfFeedSince(db, 0, 100)).entries).toHaveLength(20);
  });
});
