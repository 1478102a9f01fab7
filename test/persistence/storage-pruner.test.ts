/**
 * Storage bounds (issue 10, defect 6; D26): every table that grows with input is pruned by age and size, oldest
 * first, with an alert through the outbox when bound-driven pruning starts and ends — and the price history keeps
 * what the PAngV §11 lowest-prior-price line needs.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { DEAD_LETTER_ROW_BYTES_SQL, recordDeadLetter } from '../../src/persistence/dead-letters.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { StorageSchema } from '../../src/config/storage-schema.js';
import { StoragePruner, type PruneReason, type PrunedTable } from '../../src/domain/storage/storage-pruner.js';
import { lowestPriorPrice } from '../../src/domain/pricing/lowest-prior-price.js';
import { tempDir } from '../support/edge-fixture.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 30, 12);

describe('StoragePruner', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let clock: ManualClock;
  let pruned: { table: PrunedTable; reason: PruneReason; rows: number }[];
  const make = (storage: Record<string, unknown>, hqConfigured = false) =>
    new StoragePruner({ db, clock, log: createLogger({ level: 'silent' }), config: StorageSchema.parse(storage), hqConfigured, onPruned: (table, reason, rows) => pruned.push({ table, reason, rows }) });
  const alerts = async () => (await db.all<{ payload: string }>("SELECT payload FROM outbox WHERE topic = 'out/alerts' ORDER BY seq")).map((r) => JSON.parse(r.payload) as Record<string, unknown>);
  const deadLetterBytes = async () => (await db.get<{ b: number }>(`SELECT sum(${DEAD_LETTER_ROW_BYTES_SQL}) AS b FROM dead_letters`))?.b ?? 0;
  const junk = (i: number, bytes = 4000) => ({ at: clock.now(), channel: 'mqtt', topic: 'esl/c/s/in/price', source: null, id: null, code: 'EVENT_MALFORMED_JSON', reason: 'not valid JSON', payload: Buffer.alloc(bytes, i % 256) });

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'esl-edge.db'));
    clock = new ManualClock(T0);
    pruned = [];
  });
  afterEach(async () => {
    await db.close();
    tmp.remove();
  });

  it('keeps only the first maxPayloadBytes of a dead letter', async () => {
    const counted = await recordDeadLetter(db, junk(1, 100_000), { maxPayloadBytes: 2048 });
    const row = await db.get<{ n: number }>('SELECT length(payload) AS n FROM dead_letters');
    expect(row?.n).toBe(2048);
    expect(counted).toBeLessThan(2048 + 300);
    // A 60,000-character topic is cut too (MQTT allows 65,535 bytes).
    await recordDeadLetter(db, { ...junk(2, 10), topic: 't'.repeat(60_000) });
    expect((await db.get<{ n: number }>('SELECT max(length(topic)) AS n FROM dead_letters'))?.n).toBeLessThanOrEqual(512);
  });

  it('prunes dead letters to their byte budget, oldest first, and alerts once per episode', async () => {
    const p = make({ deadLetters: { maxBytes: 256 * 1024, maxPayloadBytes: 4096 } });
    for (let i = 0; i < 200; i++) await recordDeadLetter(db, junk(i)); // ~800 kB
    await p.pass();
    expect(await deadLetterBytes()).toBeLessThanOrEqual(256 * 1024);
    const seqs = await db.all<{ seq: number }>('SELECT seq FROM dead_letters ORDER BY seq');
    expect(seqs.at(-1)?.seq).toBe(200); // the newest stays
    expect(seqs[0]!.seq).toBeGreaterThan(100); // the oldest went
    expect(seqs.length).toBe(200 - seqs[0]!.seq + 1); // contiguous: oldest first, nothing else
    expect(pruned).toContainEqual(expect.objectContaining({ table: 'dead_letters', reason: 'size' }));
    expect(await alerts()).toEqual([expect.objectContaining({ type: 'storage-pruning', table: 'dead_letters', limitBytes: 256 * 1024 })]);

    // Still flooded: pruning goes on, no second alert.
    for (let i = 0; i < 100; i++) await recordDeadLetter(db, junk(i));
    await p.pass();
    expect(await deadLetterBytes()).toBeLessThanOrEqual(256 * 1024);
    expect((await alerts()).length).toBe(1);
    // A quiet pass in the middle of a flood does not end the episode (no flapping)…
    clock.advance(60_000);
    await p.pass();
    expect((await alerts()).length).toBe(1);
    // …ten quiet prune intervals do: one "ended" alert.
    clock.advance(10 * 60_000);
    await p.pass();
    expect((await alerts()).map((a) => a.type)).toEqual(['storage-pruning', 'storage-pruning-ended']);
  });

  it('prunes dead letters by age', async () => {
    const p = make({ deadLetters: { maxAgeDays: 1 } });
    for (let i = 0; i < 10; i++) await recordDeadLetter(db, { ...junk(i, 10), at: T0 - 2 * DAY + i });
    await recordDeadLetter(db, junk(99, 10));
    await p.pass();
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM dead_letters'))?.n).toBe(1);
    expect(pruned).toContainEqual({ table: 'dead_letters', reason: 'age', rows: 10 });
    expect(await alerts()).toEqual([]); // ageing out is housekeeping, not an alert
  });

  it('a burst of dead letters starts a pass without waiting for the interval', async () => {
    const p = make({ deadLetters: { maxBytes: 64 * 1024 }, pruneIntervalS: 3600 });
    p.start();
    await p.idle();
    const before = p.passes;
    for (let i = 0; i < 5; i++) p.noteDeadLetter(4000); // 20 kB > 64 kB / 8
    await p.idle();
    expect(p.passes).toBeGreaterThan(before);
    await p.stop();
  });

  it('outbox: delivered rows age out; undelivered ones are bounded by rows and age, oldest first', async () => {
    const p = make({ outbox: { deliveredMaxAgeH: 24, undeliveredMaxRows: 100, undeliveredMaxAgeDays: 7 } }, true);
    const add = (i: number, at: number, sentLocal: number | null, sentHq: number | null) =>
      db.run('INSERT INTO outbox (id, topic, payload, created_at, sent_local, sent_hq) VALUES (?, ?, ?, ?, ?, ?)', [`m${i}`, 'out/alerts', '{}', at, sentLocal, sentHq]);
    await add(0, T0 - 2 * DAY, T0, T0); // delivered everywhere, old: goes
    await add(1, T0 - 2 * DAY, T0, null); // HQ still owes it: stays (young enough)
    await add(2, T0 - 8 * DAY, T0, null); // undelivered for 8 days: goes
    for (let i = 3; i < 153; i++) await add(i, T0 - DAY + i, T0, null); // 150 undelivered: 100 stay
    await p.pass();
    const left = await db.all<{ id: string }>("SELECT id FROM outbox WHERE id LIKE 'm%' ORDER BY seq");
    expect(left.map((r) => r.id)).not.toContain('m0');
    expect(left.map((r) => r.id)).not.toContain('m2');
    expect(left.length).toBeLessThanOrEqual(100);
    expect(left.at(-1)?.id).toBe('m152');
    expect((await alerts()).map((a) => a.type)).toContain('storage-pruning');
  });

  it('events and telemetry age out; telemetry is bounded by rows', async () => {
    const p = make({ events: { maxAgeDays: 30 }, telemetry: { maxAgeDays: 7, maxRows: 1000 } });
    for (let i = 0; i < 50; i++) {
      await db.run("INSERT INTO events (id, source, type, version, received_at, status) VALUES (?, 's', 'price', 1, ?, 'applied')", [`old-${i}`, T0 - 31 * DAY]);
    }
    await db.run("INSERT INTO events (id, source, type, version, received_at, status) VALUES ('new', 's', 'price', 1, ?, 'applied')", [T0]);
    await db.transaction(async (tx) => {
      for (let i = 0; i < 100; i++) await tx.run('INSERT INTO label_telemetry (label_id, at, battery_mv) VALUES (?, ?, 3000)', ['L', T0 - 8 * DAY]);
      for (let i = 0; i < 1500; i++) await tx.run('INSERT INTO label_telemetry (label_id, at, battery_mv) VALUES (?, ?, 3000)', ['L', T0 - 1499 + i]);
    });
    await p.pass();
    expect((await db.all<{ id: string }>('SELECT id FROM events')).map((r) => r.id)).toEqual(['new']);
    expect((await db.get<{ n: number; oldest: number }>('SELECT count(*) AS n, min(at) AS oldest FROM label_telemetry'))).toEqual({ n: 1000, oldest: T0 - 999 }); // the newest 1000 check-ins
  });

  it('price history keeps every row the PAngV §11 window needs, and the answer does not change', async () => {
    const p = make({ priceHistory: { keepDays: 31 } });
    const rows = [
      [T0 - 100 * DAY, 199],
      [T0 - 60 * DAY, 149], // superseded before the window: goes
      [T0 - 40 * DAY, 129], // in force when the 30-day window opens: stays
      [T0 - 20 * DAY, 179],
      [T0 - 5 * DAY, 189],
    ] as const;
    for (const [at, cents] of rows) await db.run('INSERT INTO price_history (gtin, effective_from, cents) VALUES (?, ?, ?)', ['4006381333931', at, cents]);
    const history = async () => (await db.all<{ cents: number; from: number }>('SELECT cents, effective_from AS "from" FROM price_history ORDER BY effective_from'));
    const before = await history();
    const reductionStarts = [T0, T0 + DAY, T0 + 7 * DAY];
    const answers = reductionStarts.map((s) => lowestPriorPrice(before, s));
    await p.pass();
    const after = await history();
    expect(after.map((r) => r.cents)).toEqual([129, 179, 189]);
    expect(reductionStarts.map((s) => lowestPriorPrice(after, s))).toEqual(answers);
    expect(answers[0]).toBe(129);
  });
});
