/**
 * D81: intake tells the daemon whether a commit left the planner work (`onApplied({ replan })`). A tick that marks no
 * label and cannot move the next price boundary (immediate prices, products or stock of products no label shows)
 * says no; everything else says yes: a label bound, a product a label shows, a price announced ahead, a promotion.
 * (The daemon does not gate the planner's kick on it yet, see D81.)
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { EventIntake } from '../../src/domain/events/event-intake.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { gtin13 } from '#contracts';
import { withPricingMarks } from '../../src/domain/rules/rule-store.js';
import { tempDir } from '../support/temp-dir.js';

const SHOWN = '4006381333931';
const UNSHOWN = gtin13('400000000001');
const LABEL = '00000000000000A1';

describe('intake: whether a commit left the planner work (D81)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let labels: LabelStore;
  let intake: EventIntake;
  let calls: boolean[];
  const clock = new ManualClock(Date.UTC(2026, 10, 23, 9, 0));
  let n = 0;
  const send = async (type: string, data: Record<string, unknown>) => {
    calls = [];
    n++;
    const r = await intake.ingest(JSON.stringify({ id: `e${n}`, source: 'pos', version: n, type, data }), { channel: 'local' });
    expect(r.reply, JSON.stringify(r.reply)).toMatchObject({ status: "applied" });
    return calls;
  };

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
    labels = await LabelStore.load({ db, clock, log: createLogger({ level: 'silent' }) });
    // As the daemon wires it: the rules' pricing marks ride the same label port.
    intake = new EventIntake({ db, labels: withPricingMarks(labels), clock, log: createLogger({ level: 'silent' }), maxEventBytes: 1 << 20, onApplied: ({ replan }) => calls.push(replan) });
    expect(await send('binding', { labelId: LABEL, gtin: SHOWN })).toEqual([true]);
  });
  afterEach(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('an immediate price, a product or stock of a product no label shows: no planner work', async () => {
    expect(await send('price', { gtin: UNSHOWN, priceCents: 199 })).toEqual([false]);
    expect(await send('product', { gtin: UNSHOWN, name: 'Milk' })).toEqual([false]);
    expect(await send('stock', { gtin: UNSHOWN, quantity: 3 })).toEqual([false]);
  });

  it('the same for a product a label shows: planner work', async () => {
    expect(await send('price', { gtin: SHOWN, priceCents: 199 })).toEqual([true]);
    expect(await send('product', { gtin: SHOWN, name: 'Milk' })).toEqual([true]);
  });

  it('a price announced ahead or a promotion, even of a product no label shows: planner work (a new boundary)', async () => {
    const ahead = new Date(clock.now() + 3_600_000).toISOString();
    expect(await send('price', { gtin: UNSHOWN, priceCents: 149, validFrom: ahead })).toEqual([true]);
    const start = new Date(clock.now() + 60_000).toISOString();
    const end = new Date(clock.now() + 7_200_000).toISOString();
    expect(await send('promotion', { promotionId: 'p1', gtins: [UNSHOWN], percentOff: 10, start, end })).toEqual([true]);
  });

  it('a price that took effect in the past is immediate', async () => {
    const past = new Date(clock.now() - 3_600_000).toISOString();
    expect(await send('price', { gtin: UNSHOWN, priceCents: 149, validFrom: past })).toEqual([false]);
  });
});
