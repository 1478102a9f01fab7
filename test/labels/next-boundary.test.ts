/**
 * The planner's "next boundary" (docs/decisions.md D43): prices announced ahead, promotion starts and ends — through
 * the real intake, on a real sqlite file, on injected time — and answered from indexes: the planner asks between
 * intake ticks, so a scan of every price row held every tick behind it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { EventIntake } from '../../src/domain/events/event-intake.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { NEXT_BOUNDARY_SQL, nextBoundary } from '../../src/domain/labels/next-boundary.js';
import { ManualClock } from '../../src/core/clock.js';
import { gtin13 } from '#contracts';
import { createLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/temp-dir.js';

const T0 = Date.UTC(2026, 10, 30, 9, 0);
const gtin = (i: number) => gtin13(`4100000${String(i).padStart(5, '0')}`);

describe('next boundary', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let labels: LabelStore;
  let intake: EventIntake;
  const clock = new ManualClock(T0);
  const log = createLogger({ level: 'silent' });
  const send = async (e: object) => expect((await intake.ingest(JSON.stringify(e), { channel: 'local' })).reply.status).toBe('applied');

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
    labels = await LabelStore.load({ db, clock, log });
    intake = new EventIntake({ db, labels, clock, log, maxEventBytes: 1 << 20, onApplied: () => undefined });
  });
  afterEach(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('finds prices announced ahead and promotion times, not prices that took effect on arrival', async () => {
    // 200 immediate prices: none is a boundary, even when the clock is later set back before them.
    const batch = Array.from({ length: 200 }, (_, i) => ({ id: `now-${i}`, source: 'hq', version: 1, type: 'price', data: { gtin: gtin(i), priceCents: 100 + i } }));
    await send({ id: 'list', source: 'hq', version: 1, type: 'batch', data: { events: batch } });
    expect(await nextBoundary(db, T0 - 1)).toBeNull();

    const ahead = T0 + 3 * 3600_000;
    await send({ id: 'ahead', source: 'hq', version: 2, type: 'price', data: { gtin: gtin(7), priceCents: 77, validFrom: new Date(ahead).toISOString() } });
    expect(await nextBoundary(db, T0)).toBe(ahead);

    const start = T0 + 3600_000;
    const end = T0 + 5 * 3600_000;
    await send({ id: 'promo', source: 'hq', version: 1, type: 'promotion', data: { promotionId: 'P1', gtins: [gtin(3)], percentOff: 10, start: new Date(start).toISOString(), end: new Date(end).toISOString() } });
    expect(await nextBoundary(db, T0)).toBe(start);
    expect(await nextBoundary(db, start)).toBe(ahead);
    expect(await nextBoundary(db, ahead)).toBe(end);
    expect(await nextBoundary(db, end)).toBeNull();

    // Time passes: a price announced ahead that is due stops being a boundary.
    clock.set(ahead + 1);
    expect(await nextBoundary(db, clock.now())).toBe(end);
  });

  it('answers from indexes: no table scan of prices or promotions', async () => {
    const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${NEXT_BOUNDARY_SQL}`, { 1: T0 } as unknown as Record<string, number>);
    const details = plan.map((r) => r.detail);
    expect(details.some((d) => /SEARCH prices USING (COVERING )?INDEX prices_ahead/.test(d))).toBe(true);
    expect(details.filter((d) => /^SCAN (prices|promotions)/.test(d))).toEqual([]);
  });
});
