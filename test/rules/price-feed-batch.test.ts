/**
 * The till's price feed is brought up to date for many products at once (D122): a few statements per distinct
 * instant instead of ~9 per product. Its meaning is the one of the per-product refresh it replaced, kept below as the
 * specification (`refreshOne`, the D51 algorithm statement by statement): the same catalogue refreshed in one call and
 * by the specification product by product (two sqlite files) gives every product the same rows, in the same order,
 * with the same outbox messages — through announcements ahead of a boundary, a correction after a promotion is
 * cancelled, price changes and rule prices. Feed numbers stay increasing and are never handed out twice,
 * also after every row was pruned.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database, type Tx } from '../../src/persistence/database.js';
import { refreshPriceFeedManyTx, sameTillValues, tillValues, type FeedRow } from '../../src/domain/feeds/price-feed.js';
import { lastAutoincrement } from '../../src/persistence/autoincrement.js';
import { effectivePriceAt } from '../../src/domain/pricing/effective-price.js';
import { enqueue } from '../../src/domain/outbox/outbox.js';
import { tempDir } from '../support/temp-dir.js';
import { countCalls } from '../support/count-calls.js';
import { seededRandom } from '../../simulator/src/rng.js';

const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const MIN = 60_000;
const HORIZON = 10 * MIN;
const gtinOf = (p: number) => `40000000${String(p).padStart(5, '0')}`;

/** The catalogue: regular prices (some changing within and beyond the horizon), promotions and rule prices. */
async function seed(db: Database, products: number): Promise<void> {
  const r = seededRandom(7);
  await db.transaction(async (tx) => {
    for (let p = 0; p < products; p++) {
      const g = gtinOf(p);
      await tx.run('INSERT INTO products (gtin, name, updated_at) VALUES (?, ?, 0)', [g, `Produkt ${p}`]);
      await tx.run("INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, 'EUR', 'e', 0)", [g, T0 - 3_600_000, 199 + p]);
      if (r() < 0.3) await tx.run("INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, 'EUR', 'e', 0)", [g, T0 + Math.ceil(r() * 9) * MIN, 149 + p]);
      if (r() < 0.2) await tx.run("INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, 'EUR', 'e', 0)", [g, T0 + 30 * MIN, 99 + p]);
      if (r() < 0.25) {
        await tx.run(
          "INSERT INTO rule_effects (gtin, rule_id, kind, status, cents, start_at, end_at, reason, badge, detail, updated_at) VALUES (?, 'mhd', 'short-dated', 'active', ?, ?, ?, 'MHD', '-30 %', NULL, 0)",
          [g, 120 + p, T0 - MIN, r() < 0.5 ? T0 + Math.ceil(r() * 9) * MIN : null],
        );
      }
    }
    // Promotions: one running, one starting within the horizon, one ending within it, one beyond it.
    const promos = [
      { id: 'running', start: T0 - 3_600_000, end: T0 + 3_600_000, cents: 111 },
      { id: 'starting', start: T0 + 4 * MIN, end: T0 + 3_600_000, cents: 101 },
      { id: 'ending', start: T0 - 3_600_000, end: T0 + 6 * MIN, cents: 91 },
      { id: 'later', start: T0 + 60 * MIN, end: T0 + 120 * MIN, cents: 81 },
    ];
    for (const pr of promos) {
      await tx.run('INSERT INTO promotions (id, badge, start_at, end_at, promo_cents, updated_at) VALUES (?, ?, ?, ?, ?, 0)', [pr.id, pr.id, pr.start, pr.end, pr.cents]);
      for (let p = 0; p < products; p++) if (r() < 0.3) await tx.run('INSERT INTO promotion_items (promotion_id, gtin) VALUES (?, ?)', [pr.id, gtinOf(p)]);
    }
  });
}

/** Changes made to both files between refreshes: a cancelled promotion (announced ahead), new prices. */
async function change(db: Database, products: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run("DELETE FROM promotions WHERE id = 'starting'");
    for (let p = 0; p < products; p += 3) {
      await tx.run("INSERT OR REPLACE INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, 'EUR', 'e2', 0)", [gtinOf(p), T0 + MIN, 179 + p]);
    }
  });
}

/** Every product's rows without their numbers, in feed order; and its outbox payloads likewise. */
async function byProduct(db: Database): Promise<Map<string, { rows: unknown[]; messages: unknown[] }>> {
  const out = new Map<string, { rows: unknown[]; messages: unknown[] }>();
  const rows = await db.all<FeedRow>('SELECT * FROM price_feed ORDER BY seq');
  const msgs = await db.all<{ id: string; topic: string; payload: string }>("SELECT id, topic, payload FROM outbox WHERE topic = 'out/prices' ORDER BY seq");
  const feedSeqs = rows.map((r) => r.seq);
  expect(new Set(feedSeqs).size).toBe(feedSeqs.length);
  expect(msgs.map((m) => m.id)).toEqual(feedSeqs.map((s) => `price-${s}`));
  for (const [i, r] of rows.entries()) {
    const { seq, ...rest } = r;
    const e = out.get(r.gtin) ?? { rows: [], messages: [] };
    out.set(r.gtin, e);
    e.rows.push({ ...rest, created_at: undefined });
    const payload = JSON.parse(msgs[i]!.payload) as { seq: number };
    expect(payload.seq).toBe(seq);
    e.messages.push({ ...payload, seq: undefined });
  }
  return out;
}

const BOUNDARIES_ONE = `
  SELECT valid_from AS at FROM prices WHERE gtin = ?1 AND valid_from > ?2 AND valid_from <= ?3
  UNION SELECT p.start_at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ?1 AND p.start_at > ?2 AND p.start_at <= ?3
  UNION SELECT p.end_at FROM promotions p JOIN promotion_items i ON i.promotion_id = p.id WHERE i.gtin = ?1 AND p.end_at > ?2 AND p.end_at <= ?3
  UNION SELECT start_at FROM rule_effects WHERE gtin = ?1 AND status = 'active' AND start_at > ?2 AND start_at <= ?3
  UNION SELECT end_at FROM rule_effects WHERE gtin = ?1 AND end_at > ?2 AND end_at <= ?3
  UNION SELECT effective_from FROM price_feed WHERE gtin = ?1 AND effective_from > ?2`;

/** The specification: one product, every instant in order, the till's last row read back after each append. */
async function refreshOne(tx: Tx, gtin: string, now: number, horizonMs: number): Promise<number> {
  const instants = [now, ...(await tx.all<{ at: number }>(BOUNDARIES_ONE, { 1: gtin, 2: now, 3: now + horizonMs } as unknown as Record<string, number>)).map((r) => r.at)];
  let appended = 0;
  for (const t of [...new Set(instants)].sort((a, b) => a - b)) {
    const eff = await effectivePriceAt(tx, gtin, t);
    if (!eff) continue;
    const want = tillValues(eff);
    const till = await tx.get<FeedRow>('SELECT * FROM price_feed WHERE gtin = ? AND effective_from <= ? ORDER BY effective_from DESC, seq DESC LIMIT 1', [gtin, t]);
    if (till && sameTillValues(till, want)) continue;
    const from = t === now ? Math.max(eff.effective.from, till?.effective_from ?? 0) : t;
    const r = await tx.run('INSERT INTO price_feed (gtin, cents, regular_cents, effective_from, promotion_id, rule_id, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      gtin,
      want.cents,
      want.regular_cents,
      from,
      want.promotion_id,
      want.rule_id,
      want.reason,
      now,
    ]);
    const entry = {
      seq: r.lastID,
      gtin,
      priceCents: want.cents,
      regularPriceCents: want.regular_cents,
      effectiveFrom: new Date(from).toISOString(),
      promotionId: want.promotion_id,
      ruleId: want.rule_id,
      reason: want.reason,
    };
    await enqueue(tx, { id: `price-${r.lastID}`, topic: 'out/prices', payload: entry }, now);
    appended++;
  }
  return appended;
}

describe('price feed refreshed for many products at once (D122)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let together: Database;
  let alone: Database;
  beforeEach(async () => {
    tmp = tempDir();
    together = await Database.open(join(tmp.dir, 'together.db'));
    alone = await Database.open(join(tmp.dir, 'alone.db'));
  });
  afterEach(async () => {
    await together.close();
    await alone.close();
    tmp.remove();
  });

  it('gives every product the rows the per-product specification gives it, through announcements, a correction and price changes', async () => {
    const products = 60;
    const gtins = Array.from({ length: products }, (_, p) => gtinOf(p));
    await seed(together, products);
    await seed(alone, products);
    const refreshBoth = async (now: number) => {
      const batch = await together.transaction((tx) => refreshPriceFeedManyTx(tx, gtins, now, HORIZON));
      let single = 0;
      for (const g of gtins) single += await alone.transaction((tx) => refreshOne(tx, g, now, HORIZON));
      expect(batch).toBe(single);
      return batch;
    };
    const first = await refreshBoth(T0);
    // Every product gets its price now; some get announcements ahead (a price change, a promotion's start or end).
    expect(first).toBeGreaterThan(products);
    expect(await refreshBoth(T0)).toBe(0); // nothing changed: nothing appended
    await change(together, products);
    await change(alone, products);
    const second = await refreshBoth(T0 + 30_000);
    expect(second).toBeGreaterThan(0);
    // The cancelled promotion's announced start was corrected for its products: a row for the same instant.
    const starting = await together.all<{ n: number }>('SELECT count(*) AS n FROM price_feed WHERE effective_from = ?', [T0 + 4 * MIN]);
    expect(starting[0]!.n).toBeGreaterThan(0);
    await refreshBoth(T0 + 5 * MIN);
    expect(await byProduct(together)).toEqual(await byProduct(alone));
  });

  it('costs a few statements per distinct instant, not per product', async () => {
    const products = 400;
    const gtins = Array.from({ length: products }, (_, p) => gtinOf(p));
    await together.transaction(async (tx) => {
      for (const g of gtins) await tx.run("INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, 250, 'EUR', 'e', 0)", [g, T0 - MIN]);
    });
    let statements = 0;
    const appended = await together.transaction(async (tx) => {
      const c = countCalls(tx, ['all', 'get', 'run', 'exec']);
      const n = await refreshPriceFeedManyTx(c.proxy, gtins, T0, HORIZON);
      statements = c.count();
      return n;
    });
    expect(appended).toBe(products);
    // Boundaries, the pricing rows (4), the till's rows, the last feed number: one instant, 7 statements.
    expect(statements).toBe(7);
    expect((await together.all('SELECT 1 FROM outbox')).length).toBe(products);
  });

  it('numbers rows on from the last number ever handed out, also after every row was pruned', async () => {
    const g = gtinOf(1);
    await together.run("INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, 250, 'EUR', 'e', 0)", [g, T0 - MIN]);
    await together.transaction((tx) => refreshPriceFeedManyTx(tx, [g], T0, HORIZON));
    const first = (await together.all<{ seq: number }>('SELECT seq FROM price_feed'))[0]!.seq;
    await together.run('DELETE FROM price_feed');
    await together.run("UPDATE prices SET cents = 260 WHERE gtin = ?", [g]);
    await together.transaction((tx) => refreshPriceFeedManyTx(tx, [g], T0 + MIN, HORIZON));
    const second = (await together.all<{ seq: number }>('SELECT seq FROM price_feed'))[0]!.seq;
    expect(second).toBeGreaterThan(first);
    expect(await together.transaction((tx) => lastAutoincrement(tx, 'price_feed'))).toBe(second);
  });
});
