/**
 * Intake on a real sqlite file: exactly-once effect (duplicates are no-ops), out-of-order versions leave the newest,
 * batches are atomic, bad input is dead-lettered and the next event still applies.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { EventIntake, SLICED_BATCH_EVENTS } from '../../src/domain/events/event-intake.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ManualClock } from '../../src/core/clock.js';
import { EventSchema, gtin13 } from '#contracts';
import { createLoopTaskTiming } from '../../src/core/loop-tasks.js';
import { createLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/temp-dir.js';

const GTIN = '4006381333931';
const price = (id: string, version: number, cents: number, gtin = GTIN) => JSON.stringify({ id, source: 'pos', version, type: 'price', data: { gtin, priceCents: cents } });

describe('event intake', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let intake: EventIntake;
  let applied = 0;
  let labels: LabelStore;
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0));

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
    applied = 0;
    labels = await LabelStore.load({ db, clock, log: createLogger({ level: 'silent' }) });
    intake = new EventIntake({ db, labels, clock, log: createLogger({ level: 'silent' }), maxEventBytes: 64 * 1024 * 1024, onApplied: () => applied++ });
  });
  afterEach(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  const currentCents = async (gtin = GTIN) => (await db.get<{ cents: number }>('SELECT cents FROM prices WHERE gtin = ? ORDER BY valid_from DESC LIMIT 1', [gtin]))?.cents;

  it('applies an event once; the same id again changes nothing', async () => {
    expect((await intake.ingest(price('e1', 1, 199), { channel: 'local' })).reply.status).toBe('applied');
    expect((await intake.ingest(price('e1', 5, 999), { channel: 'local' })).reply.status).toBe('duplicate');
    expect(await currentCents()).toBe(199);
    expect(applied).toBe(1);
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM events'))?.n).toBe(1);
  });

  it('keeps the newest version whatever the arrival order', async () => {
    await intake.ingest(price('e3', 3, 300), { channel: 'local' });
    const late = await intake.ingest(price('e2', 2, 200), { channel: 'local' });
    expect(late.reply.status).toBe('stale');
    expect(await currentCents()).toBe(300);
    expect((await db.get<{ status: string }>('SELECT status FROM events WHERE id = ?', ['e2']))?.status).toBe('stale');
    await intake.ingest(price('e4', 4, 400), { channel: 'local' });
    expect(await currentCents()).toBe(400);
  });

  it('applies a batch of 10,000 prices atomically: all or none', async () => {
    const gtins = Array.from({ length: 10_000 }, (_, i) => gtin13(`40000${String(i).padStart(7, '0')}`));
    const events = gtins.map((g, i) => ({ id: `b-${i}`, source: 'hq', version: 1, type: 'price', data: { gtin: g, priceCents: 100 + i } }));
    // One bad row (an invalid GTIN) fails schema validation: nothing of the batch is applied.
    const broken = [...events];
    broken[9_999] = { ...broken[9_999]!, data: { gtin: '4000000000000', priceCents: 1 } };
    const refused = await intake.ingest(JSON.stringify({ id: 'batch-bad', source: 'hq', version: 1, type: 'batch', data: { events: broken } }), { channel: 'local' });
    expect(refused.reply.status).toBe('rejected');
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM prices'))?.n).toBe(0);

    const ok = await intake.ingest(JSON.stringify({ id: 'batch-1', source: 'hq', version: 1, type: 'batch', data: { events } }), { channel: 'local' });
    expect(ok.reply).toMatchObject({ status: 'applied', applied: 10_000, stale: 0 });
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM prices'))?.n).toBe(10_000);
    expect((await intake.ingest(JSON.stringify({ id: 'batch-1', source: 'hq', version: 1, type: 'batch', data: { events } }), { channel: 'local' })).reply.status).toBe('duplicate');
  });

  it('checks a large batch a slice at a time, with the whole schema\'s answer (D148)', async () => {
    const loopTasks = createLoopTaskTiming();
    const sliced = new EventIntake({ db, labels, clock, log: createLogger({ level: 'silent' }), maxEventBytes: 64 * 1024 * 1024, onApplied: () => applied++, loopTasks });
    const n = SLICED_BATCH_EVENTS * 3;
    const events = Array.from({ length: n }, (_, i) => ({ id: `s-${i}`, source: 'hq', version: 1, type: 'price', data: { gtin: gtin13(`41000${String(i).padStart(7, '0')}`), priceCents: 100 + i } }));
    // A bad envelope and bad events in two slices: the reason names them in the order the whole schema does.
    const broken: unknown[] = [...events];
    broken[7] = { ...events[7]!, data: { gtin: '4000000000000', priceCents: 1 } };
    broken[n - 5] = { ...events[n - 5]!, data: { ...events[n - 5]!.data, priceCents: 1.5 }, extra: 'dropped' };
    const bad = { id: 'batch-sliced-bad', source: 'hq', version: -1, type: 'batch', data: { events: broken } };
    const whole = EventSchema.safeParse(bad);
    expect(whole.success).toBe(false);
    const want = whole.error!.issues
      .slice(0, 10)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    expect(want).toMatch(/^version: .*; data\.events\.7\.data\.gtin: .*; data\.events\.2995\.data\.priceCents: /);
    const refused = await sliced.ingest(JSON.stringify(bad), { channel: 'local' });
    expect(refused.reply).toMatchObject({ status: 'rejected', code: 'EVENT_SCHEMA', reason: want });
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM prices'))?.n).toBe(0);

    const ok = await sliced.ingest(JSON.stringify({ id: 'batch-sliced', source: 'hq', version: 1, type: 'batch', data: { events } }), { channel: 'local' });
    expect(ok.reply).toMatchObject({ status: 'applied', applied: n, stale: 0 });
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM prices'))?.n).toBe(n);
    // Each check ran as timed slices of the loop (task intake_batch), at least one per batch.
    expect(loopTasks.snapshot().find((h) => h.stage === 'intake_batch')!.count).toBeGreaterThanOrEqual(2);
  });

  it('rolls the whole batch back when the commit fails midway', async () => {
    // A trigger makes the 5,000th insert fail inside the transaction, as a crash or full disk would.
    await db.run(`CREATE TRIGGER fail_midway BEFORE INSERT ON prices WHEN NEW.cents = 5099 BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`);
    const events = Array.from({ length: 6_000 }, (_, i) => ({ id: `m-${i}`, source: 'hq', version: i + 1, type: 'price', data: { gtin: GTIN, priceCents: 100 + i, validFrom: new Date(Date.UTC(2027, 0, 1) + i * 1000).toISOString() } }));
    await expect(intake.ingest(JSON.stringify({ id: 'batch-midway', source: 'hq', version: 1, type: 'batch', data: { events } }), { channel: 'local' })).rejects.toThrow(/simulated failure/);
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM prices'))?.n).toBe(0);
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM events'))?.n).toBe(0);
  });

  it('dead-letters invalid input with the reason, and the next valid event applies', async () => {
    const bad = await intake.ingest('{"id":', { channel: 'mqtt', topic: 'esl/a/b/in/price' });
    expect(bad.reply).toMatchObject({ status: 'rejected', code: 'EVENT_MALFORMED_JSON' });
    const invalid = await intake.ingest(JSON.stringify({ id: 'x1', source: 'pos', version: 1, type: 'price', data: { gtin: GTIN, priceCents: 1.5 } }), { channel: 'mqtt' });
    expect(invalid.reply).toMatchObject({ status: 'rejected', code: 'EVENT_SCHEMA', eventId: 'x1' });
    const rows = await db.all<{ code: string; topic: string | null; event_id: string | null }>('SELECT code, topic, event_id FROM dead_letters ORDER BY seq');
    expect(rows).toEqual([
      { code: 'EVENT_MALFORMED_JSON', topic: 'esl/a/b/in/price', event_id: null },
      { code: 'EVENT_SCHEMA', topic: null, event_id: 'x1' },
    ]);
    expect((await intake.ingest(price('x2', 1, 250), { channel: 'mqtt' })).reply.status).toBe('applied');
    expect(await currentCents()).toBe(250);
  });

  it('marks the labels of a changed product dirty in the same transaction', async () => {
    await intake.ingest(JSON.stringify({ id: 'bind', source: 'hh', version: 1, type: 'binding', data: { labelId: '00000000000000AA', gtin: GTIN } }), { channel: 'local' });
    // Durable (sqlite) and in the label store's memory once the transaction committed (D4, D17).
    expect((await db.get<{ dirty: number }>('SELECT dirty FROM labels'))?.dirty).toBe(1);
    expect(labels.get('00000000000000AA')?.dirty).toBe(1);
    await intake.ingest(price('p1', 1, 111), { channel: 'local' });
    expect((await db.get<{ dirty: number }>('SELECT dirty FROM labels'))?.dirty).toBe(2);
    expect(labels.get('00000000000000AA')?.dirty).toBe(2);
  });
});
