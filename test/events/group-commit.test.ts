/**
 * Group commit (docs/decisions.md D20) on a real sqlite file: events submitted together are committed in one
 * transaction, with exactly the meaning they had one transaction each — duplicates, stale and out-of-order versions,
 * batches and restock alerts inside the same tick — and one event that cannot be committed fails alone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { EventIntake, type IntakeResult } from '../../src/domain/events/event-intake.js';
import { GroupCommitter } from '../../src/domain/events/group-commit.js';
import { ManualClock } from '../../src/core/clock.js';
import { gtin13 } from '#contracts';
import { createLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/temp-dir.js';

const GTINS = [gtin13('400638133393'), gtin13('401234500001'), gtin13('400041702500')];
const LABELS = ['00000000000000A1', '00000000000000A2', '00000000000000A3'];

/** A deterministic mix (mulberry32): few ids and versions, so duplicates and stale versions are frequent. */
function randomEvents(seed: number, n: number): string[] {
  let a = seed;
  const rnd = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const single = () => {
    const id = `e${Math.floor(rnd() * 40)}`;
    const version = 1 + Math.floor(rnd() * 8);
    const gtin = pick(GTINS);
    const kind = pick(['price', 'price', 'price', 'stock', 'product', 'binding', 'promotion'] as const);
    switch (kind) {
      case 'price':
        return { id, source: 'pos', version, type: 'price', data: { gtin, priceCents: 100 + Math.floor(rnd() * 50), ...(rnd() < 0.3 ? { validFrom: '2030-01-01T00:00:00+01:00' } : {}) } };
      case 'stock':
        return { id, source: 'erp', version, type: 'stock', data: { gtin, quantity: Math.floor(rnd() * 10), ...(rnd() < 0.5 ? { restockThreshold: 4 } : {}) } };
      case 'product':
        return { id, source: 'hq', version, type: 'product', data: { gtin, name: `Produkt ${Math.floor(rnd() * 9)}` } };
      case 'binding':
        return { id, source: 'hh', version, type: 'binding', data: { labelId: pick(LABELS), gtin: rnd() < 0.2 ? null : gtin } };
      case 'promotion':
        return {
          id,
          source: 'hq',
          version,
          type: 'promotion',
          data: { promotionId: `promo-${Math.floor(rnd() * 2)}`, gtins: [gtin], percentOff: 10, start: '2030-01-01T00:00:00+01:00', end: '2030-01-08T00:00:00+01:00', cancelled: rnd() < 0.3 },
        };
    }
  };
  return Array.from({ length: n }, () => {
    if (rnd() < 0.15) return JSON.stringify({ id: `b${Math.floor(rnd() * 6)}`, source: 'hq', version: 1, type: 'batch', data: { events: Array.from({ length: 1 + Math.floor(rnd() * 5) }, single) } });
    return JSON.stringify(single());
  });
}

/** Everything the intake writes, in a comparable form (dirty as "needs planning", since it is a counter). */
async function snapshot(db: Database): Promise<Record<string, unknown[]>> {
  return {
    events: await db.all('SELECT id, source, type, version, received_at, status, reason FROM events ORDER BY id'),
    versions: await db.all('SELECT entity, version FROM entity_versions ORDER BY entity'),
    prices: await db.all('SELECT gtin, valid_from, cents, currency, event_id, updated_at FROM prices ORDER BY gtin, valid_from'),
    stock: await db.all('SELECT gtin, quantity, state, restock_threshold, alert_active, updated_at FROM stock ORDER BY gtin'),
    products: await db.all('SELECT * FROM products ORDER BY gtin'),
    promotions: await db.all('SELECT * FROM promotions ORDER BY id'),
    promotionItems: await db.all('SELECT * FROM promotion_items ORDER BY promotion_id, gtin'),
    labels: await db.all('SELECT label_id, gtin, template, dirty > 0 AS needs_planning FROM labels ORDER BY label_id'),
    outbox: await db.all('SELECT id, topic, payload FROM outbox ORDER BY id'),
  };
}

describe('group commit', () => {
  const tmp = tempDir();
  const dbs: Database[] = [];
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0));
  afterEach(async () => {
    for (const db of dbs.splice(0)) await db.close();
  });

  async function open(name: string) {
    const db = await Database.open(join(tmp.dir, `${name}.db`));
    dbs.push(db);
    const labels = await LabelStore.load({ db, clock, log: createLogger({ level: 'silent' }) });
    const intake = new EventIntake({ db, labels, clock, log: createLogger({ level: 'silent' }), maxEventBytes: 1 << 20, onApplied: () => undefined });
    // Labels on every product, planned (dirty 0), so the dirty marks of the events are visible.
    for (const [i, labelId] of LABELS.entries()) {
      await intake.ingest(JSON.stringify({ id: `seed-${labelId}`, source: 'seed', version: 1, type: 'binding', data: { labelId, gtin: GTINS[i] } }), { channel: 'local' });
    }
    await db.run('UPDATE labels SET dirty = 0');
    return { db, intake };
  }

  it.each([1, 2, 3, 4, 5])('gives one tick the meaning of one transaction per event (seed %i)', async (seed) => {
    const events = randomEvents(seed, 120);
    const one = await open(`sequential-${seed}`);
    const sequential: IntakeResult[] = [];
    for (const e of events) sequential.push(await one.intake.ingest(e, { channel: 'local' }));
    expect(one.intake.groupCommitStats.maxTickJobs).toBe(1);

    const group = await open(`grouped-${seed}`);
    const ticksBefore = group.intake.groupCommitStats.ticks;
    const grouped = await Promise.all(events.map((e) => group.intake.ingest(e, { channel: 'local' })));
    // All 120 in ONE transaction...
    expect(group.intake.groupCommitStats.ticks - ticksBefore).toBe(1);
    expect(group.intake.groupCommitStats.maxTickJobs).toBe(events.length);
    // ...with the same replies (duplicate, stale, applied with counts) and the same tables as one by one.
    expect(grouped).toEqual(sequential);
    const statuses = new Set(grouped.map((r) => r.reply.status));
    expect(statuses).toEqual(new Set(['applied', 'duplicate', 'stale']));
    expect(await snapshot(group.db)).toEqual(await snapshot(one.db));
  });

  it('resolves duplicates, stale and out-of-order versions inside one tick', async () => {
    const { db, intake } = await open('in-tick');
    const price = (id: string, version: number, cents: number) => JSON.stringify({ id, source: 'pos', version, type: 'price', data: { gtin: GTINS[0]!, priceCents: cents } });
    const replies = await Promise.all(
      [price('p3', 3, 300), price('p3', 3, 301), price('p2', 2, 200), price('p4', 4, 400), price('p4b', 4, 401)].map((e) => intake.ingest(e, { channel: 'local' })),
    );
    expect(replies.map((r) => r.reply.status)).toEqual(['applied', 'duplicate', 'stale', 'applied', 'stale']);
    expect(intake.groupCommitStats.maxTickJobs).toBe(5);
    expect(await db.get('SELECT cents, event_id FROM prices WHERE gtin = ?', [GTINS[0]!])).toEqual({ cents: 400, event_id: 'p4' });
    expect(await db.get('SELECT version FROM entity_versions WHERE entity = ?', [`price:${GTINS[0]!}`])).toEqual({ version: 4 });
  });

  it('fails only the event that cannot be committed; the others of its tick are applied', async () => {
    const { db, intake } = await open('poison');
    // The database refuses one row, as a constraint or a full disk would: the tick is rolled back and retried
    // event by event.
    await db.run(`CREATE TRIGGER poison BEFORE INSERT ON prices WHEN NEW.cents = 13 BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    const price = (id: string, gtin: string, cents: number) => ({ id, source: 'pos', version: 1, type: 'price', data: { gtin, priceCents: cents } });
    const poisonedBatch = JSON.stringify({ id: 'batch-poisoned', source: 'hq', version: 1, type: 'batch', data: { events: [price('in-batch-1', GTINS[1]!, 50), price('in-batch-2', GTINS[2]!, 13)] } });
    const others = [JSON.stringify(price('ok-1', GTINS[0]!, 111)), JSON.stringify(price('ok-2', GTINS[1]!, 222)), '{"not json'];
    const ticksBefore = intake.groupCommitStats.ticks;
    const results = await Promise.allSettled([intake.ingest(others[0]!, { channel: 'local' }), intake.ingest(poisonedBatch, { channel: 'local' }), intake.ingest(others[1]!, { channel: 'local' }), intake.ingest(others[2]!, { channel: 'local' })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ message: expect.stringMatching(/poisoned row/) });
    expect((results[0] as PromiseFulfilledResult<IntakeResult>).value.reply.status).toBe('applied');
    expect((results[3] as PromiseFulfilledResult<IntakeResult>).value.reply).toMatchObject({ status: 'rejected', code: 'EVENT_MALFORMED_JSON' });
    expect(intake.groupCommitStats.retriedAlone).toBe(1);
    // The failed tick committed nothing; then three jobs committed alone (the fourth failed alone).
    expect(intake.groupCommitStats.ticks - ticksBefore).toBe(3);
    // The batch is all or nothing: its good row is not there either, nor its id (a resend may still apply it).
    expect(await db.all('SELECT event_id, cents FROM prices ORDER BY event_id')).toEqual([
      { event_id: 'ok-1', cents: 111 },
      { event_id: 'ok-2', cents: 222 },
    ]);
    expect(await db.all(`SELECT id FROM events WHERE id LIKE '%batch%'`)).toEqual([]);
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM dead_letters'))?.n).toBe(1);
  });

  it('resolves each event only after the commit that holds it, and one commit serves many events', async () => {
    const { db, intake } = await open('ack-after-commit');
    // A second connection to the same file holds the write lock: no tick can commit while it does.
    const other = await Database.open(join(tmp.dir, 'ack-after-commit.db'));
    dbs.push(other);
    let release: (() => void) | undefined;
    const held = other.transaction(() => new Promise<void>((r) => (release = r)));
    // The body runs once BEGIN IMMEDIATE holds the lock: wait for that, not for a fixed pause (D53).
    while (release === undefined) await new Promise((r) => setTimeout(r, 5));
    const resolved: string[] = [];
    const ticksBefore = intake.groupCommitStats.ticks;
    const ids = Array.from({ length: 50 }, (_, i) => `held-${i}`);
    const all = Promise.all(
      ids.map((id, i) =>
        intake.ingest(JSON.stringify({ id, source: 'pos', version: 1, type: 'price', data: { gtin: gtin13(`4100000${String(i).padStart(5, '0')}`), priceCents: 100 } }), { channel: 'local' }).then(async (r) => {
          // Read through the other connection the moment this event is answered: committed, so visible.
          const row = await other.get<{ status: string }>('SELECT status FROM events WHERE id = ?', [id]);
          resolved.push(`${id}:${row?.status ?? 'missing'}`);
          return r;
        }),
      ),
    );
    // Give the intake every chance to answer early (it must not: its BEGIN IMMEDIATE waits for the lock).
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(resolved).toEqual([]);
    release();
    await held;
    await all;
    expect(resolved.sort()).toEqual(ids.map((id) => `${id}:applied`).sort());
    expect(intake.groupCommitStats.ticks - ticksBefore).toBe(1);
    expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM events WHERE id LIKE 'held-%'`))?.n).toBe(50);
  });

  it('bounds a tick by weight (a heavy job goes whole) and rejects, not hangs, when the database is closed', async () => {
    const db = await Database.open(join(tmp.dir, 'committer.db'));
    const ticks: number[][] = [];
    const committer = new GroupCommitter<number, number>({
      db,
      maxWeight: 10,
      weight: (w) => w,
      apply: async (tx, jobs) => {
        ticks.push(jobs);
        await tx.run('INSERT INTO meta (key, value) VALUES (?, ?)', [`tick-${ticks.length}`, JSON.stringify(jobs)]);
        return jobs.map((j) => j * 2);
      },
    });
    const results = await Promise.all([3, 3, 3, 3, 25, 1].map((w) => committer.submit(w)));
    expect(results).toEqual([6, 6, 6, 6, 50, 2]);
    expect(ticks).toEqual([[3, 3, 3], [3], [25], [1]]);
    expect(committer.stats).toMatchObject({ ticks: 4, jobs: 6, maxTickJobs: 3, retriedAlone: 0 });
    expect((await db.get<{ n: number }>(`SELECT count(*) AS n FROM meta WHERE key LIKE 'tick-%'`))?.n).toBe(4);
    await db.close();
    await expect(Promise.all([committer.submit(1), committer.submit(2)])).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await committer.idle();
  });
});
