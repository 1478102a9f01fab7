/**
 * A rule pass ends early when an intake tick waits for the database (docs/decisions.md D66), on a real sqlite file
 * and a ManualClock: the pass that finds an urgent transaction waiting evaluates its minimum of products and leaves
 * the rest marked; the engine then finishes them in later passes, and every product's price reaches the till's
 * feed exactly once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { PASS_PRODUCTS, RuleEngine } from '../../src/domain/rules/rule-engine.js';
import { tempDir } from '../support/temp-dir.js';

const NOW = Date.parse('2026-11-30T10:00:00Z');
/** One pass's worth of products. */
const gtins = Array.from({ length: PASS_PRODUCTS }, (_, i) => `4000000000${String(i).padStart(3, '0')}`);

describe('rule engine passes and intake ticks', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let clock: ManualClock;
  let engine: RuleEngine;
  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
    clock = new ManualClock(NOW);
    await db.transaction(async (tx) => {
      for (const [i, g] of gtins.entries()) {
        await tx.run('INSERT INTO products (gtin, name, updated_at) VALUES (?, ?, ?)', [g, `Product ${i}`, NOW]);
        await tx.run('INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [g, NOW - 1000, 100 + i, 'EUR', `e-${i}`, NOW]);
        await tx.run('INSERT INTO pricing_pending (gtin) VALUES (?)', [g]);
      }
    });
    engine = new RuleEngine({
      db,
      labels: { markDirtyTx: async () => undefined },
      clock,
      log: createLogger({ level: 'silent' }),
      storeId: 's1',
      switchLeadMs: 60_000,
      horizonMs: 600_000,
      onChanged: () => undefined,
      onOutbox: () => undefined,
    });
  });
  afterEach(async () => {
    engine.stop();
    await db.close();
    tmp.remove();
  });

  const pendingCount = async () => (await db.get<{ n: number }>('SELECT count(*) AS n FROM pricing_pending'))!.n;
  const feedGtins = async () => (await db.all<{ gtin: string }>('SELECT gtin FROM price_feed ORDER BY seq')).map((r) => r.gtin);

  it('ends a pass after one product (D97) when an urgent transaction waits, and leaves the rest marked', async () => {
    const pass = engine.pass();
    // Queued while the pass holds the connection: it waits in the urgent lane.
    const tick = db.transaction(async (tx) => tx.get<{ n: number }>('SELECT count(*) AS n FROM pricing_pending'), { lane: 'urgent' });
    const r = await pass;
    expect(r.more).toBe(true);
    // The tick ran right after the shortened pass: it saw the products the pass left.
    expect((await tick)!.n).toBe(PASS_PRODUCTS - 1);
    expect(await feedGtins()).toEqual(gtins.slice(0, 1));
  });

  it('takes a whole batch when nothing waits', async () => {
    const r = await engine.pass();
    expect(r.more).toBe(true);
    expect(await pendingCount()).toBe(0);
    expect(await feedGtins()).toEqual(gtins);
  });

  it('finishes every marked product over several passes while ticks keep arriving, each announced once', async () => {
    engine.kick();
    // Five ticks queued at once, as a flood would: each pass that finds one waiting ends after one product.
    const seen = await Promise.all(Array.from({ length: 5 }, () => db.transaction(async (tx) => (await tx.get<{ n: number }>('SELECT count(*) AS n FROM pricing_pending'))!.n, { lane: 'urgent' })));
    await engine.idle();
    expect(seen).toEqual([1, 2, 3, 4, 5].map((k) => PASS_PRODUCTS - k));
    expect(await pendingCount()).toBe(0);
    expect((await feedGtins()).sort()).toEqual(gtins);
  });
});
