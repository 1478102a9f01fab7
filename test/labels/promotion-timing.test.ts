/**
 * Promotions change the effective price at exactly their start and end instants (store time Europe/Berlin,
 * across the end of summer time), driven by the planner's boundary timer under a controllable clock — no polling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { EventIntake } from '../../src/domain/events/event-intake.js';
import { LabelPlanner } from '../../src/domain/labels/label-planner.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { BLANK_HASH, WakeReason } from '#protocol';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/temp-dir.js';

const GTIN = '4006381333931';
const LABEL = '00000000000000B1';
// Friday 23 Oct 2026 00:00 CEST (UTC+2) to Sunday 25 Oct 2026 23:59 CET (UTC+1): summer time ends that Sunday 03:00.
const START = Date.parse('2026-10-23T00:00:00+02:00');
const END = Date.parse('2026-10-25T23:59:00+01:00');

describe('promotion timing', () => {
  const tmp = tempDir();
  const clock = new ManualClock(Date.parse('2026-10-01T10:00:00+02:00'));
  let db: Database;
  let intake: EventIntake;
  let planner: LabelPlanner;
  let labels: LabelStore;
  let images: ImageStore;

  beforeAll(async () => {
    db = await Database.open(join(tmp.dir, 'store.db'));
    const log = createLogger({ level: 'silent' });
    labels = await LabelStore.load({ db, clock, log });
    images = new ImageStore({ db });
    planner = new LabelPlanner({ db, labels, images, renderer: await LabelRenderer.create({}), clock, log, concurrency: 2, onPlanned: () => undefined });
    intake = new EventIntake({ db, labels, clock, log, maxEventBytes: 1 << 20, onApplied: () => planner.kick() });
    const ev = (id: string, type: string, data: unknown) => intake.ingest(JSON.stringify({ id, source: 'hq', version: 1, type, data }), { channel: 'local' });
    await ev('p', 'product', { gtin: GTIN, name: 'Bio-Vollmilch 3,8 % Fett', brand: 'Landliebe', packSize: { quantity: 1, unit: 'l' } });
    await ev('r', 'price', { gtin: GTIN, priceCents: 149 });
    await ev('b', 'binding', { labelId: LABEL, gtin: GTIN });
    // The label's first check-in tells its panel type (a 2.9" label).
    labels.checkin('AP-1', { type: 'LABEL_CHECKIN', labelId: LABEL, labelType: 3, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: WakeReason.TIMER, pendingTransferId: 0 }, clock.now());
    await ev('promo', 'promotion', { promotionId: 'wk43', gtins: [GTIN], promoPriceCents: 119, start: '2026-10-23T00:00:00+02:00', end: '2026-10-25T23:59:00+01:00', badge: 'Wochenende' });
    await settle();
  });
  afterAll(async () => {
    planner.stop();
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  async function settle(): Promise<void> {
    planner.kick();
    await planner.idle();
  }
  async function shownPrice(): Promise<number | undefined> {
    const hash = labels.get(LABEL)?.desiredHash;
    return hash ? (await images.content(hash))?.priceCents : undefined;
  }
  async function advanceTo(t: number): Promise<void> {
    clock.advance(t - clock.now());
    // Timers fired synchronously inside advance() start async work; let it finish: a read queued behind the
    // boundary's dirty mark returns after it committed, then the planner kicked by it runs (no wall-time guess).
    for (let i = 0; i < 5; i++) {
      await db.get('SELECT 1');
      await new Promise((r) => setImmediate(r));
      await planner.idle();
    }
    while (labels.dirty().length > 0) {
      planner.kick();
      await planner.idle();
      await db.get('SELECT 1');
    }
  }

  it('is at the regular price until the start instant, at the promotion price from it', async () => {
    expect(await shownPrice()).toBe(149);
    await advanceTo(START - 1);
    expect(await shownPrice()).toBe(149);
    await advanceTo(START);
    expect(await shownPrice()).toBe(119);
  });

  it('shows the §11 lowest prior price and the end date in store local time', async () => {
    const content = await images.content(labels.get(LABEL)!.desiredHash!);
    expect(content?.promotion).toMatchObject({ regularPriceCents: 149, lowestPrior30dCents: 149, badge: 'Wochenende', endsOn: '2026-10-25' });
  });

  it('keeps the promotion price across the DST change and returns to the regular price exactly at the end', async () => {
    await advanceTo(Date.parse('2026-10-25T02:30:00+01:00')); // after the clocks went back
    expect(await shownPrice()).toBe(119);
    await advanceTo(END - 1);
    expect(await shownPrice()).toBe(119);
    await advanceTo(END);
    expect(await shownPrice()).toBe(149);
  });

  it('records the till price history for later §11 lines', async () => {
    const history = await db.all<{ cents: number; effective_from: number }>('SELECT cents, effective_from FROM price_history WHERE gtin = ? ORDER BY effective_from', [GTIN]);
    expect(history.map((h) => h.cents)).toEqual([149, 119, 149]);
    expect(history[1]!.effective_from).toBe(START);
  });
});
