/**
 * A check-in wakes the planner only when it left the label something to plan (docs/decisions.md D67): in a store at
 * rest every label checks in every few minutes, and a planner pass per check-in cost two database reads. Real sqlite
 * file, real label store, ManualClock; the dispatcher's part of a check-in is the label store's own transition.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ApInboundHandler } from '../../src/domain/dispatch/ap-inbound-handler.js';
import { ApRegistry } from '../../src/domain/aps/ap-registry.js';
import type { Dispatcher } from '../../src/domain/dispatch/dispatcher.js';
import { StatusCode, WakeReason, type MessageOf } from '#protocol';
import { tempDir } from '../support/temp-dir.js';

const BOUND = '00000000000000B1';
const STRANGER = '00000000000000B2';
const log = createLogger({ level: 'silent' });
const checkin = (labelId: string, labelType: number): MessageOf<'LABEL_CHECKIN'> => ({
  type: 'LABEL_CHECKIN',
  labelId,
  labelType,
  displayedHash: '0000000000000000',
  page: 0,
  batteryMv: 3000,
  rssi: -60,
  lqi: 200,
  temperatureC: 20,
  wakeReason: WakeReason.TIMER,
  pendingTransferId: 0,
});

describe('check-ins and the planner', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let clock: ManualClock;
  let labels: LabelStore;
  let kicks: number;
  let handler: ApInboundHandler;

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'edge.db'));
    clock = new ManualClock(Date.UTC(2026, 10, 30, 8, 0));
    labels = await LabelStore.load({ db, clock, log });
    kicks = 0;
    // The dispatcher's share of a check-in that matters here: the label store's transition.
    const dispatcher = {
      labelCheckin: (apId: string, msg: MessageOf<'LABEL_CHECKIN'>) => {
        labels.checkin(apId, msg, clock.now());
        return Promise.resolve(StatusCode.OK);
      },
    } as unknown as Dispatcher;
    handler = new ApInboundHandler({ aps: new ApRegistry(db), dispatcher, labels, clock, log, onLabelSeen: () => kicks++ });
  });
  afterEach(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('kicks the planner for a bound label that still has to be planned, not for a label with nothing to plan', async () => {
    await db.transaction((tx) => labels.bindTx(tx, BOUND, '4006381333931', null));
    expect(labels.get(BOUND)!.dirty).toBe(1);
    expect(await handler.labelCheckin('AP-1', checkin(BOUND, 3))).toBe(StatusCode.OK);
    expect(kicks).toBe(1);

    // An unbound label seen for the first time: nothing to plan.
    await handler.labelCheckin('AP-1', checkin(STRANGER, 3));
    expect(kicks).toBe(1);

    // Planned: its check-ins at rest wake nobody, however many.
    labels.planned(BOUND, { hash: 'bbbbbbbbbbbbbbbb', priority: 2, now: clock.now(), seenDirty: labels.get(BOUND)!.dirty });
    for (let i = 0; i < 10; i++) {
      clock.advance(30_000);
      await handler.labelCheckin('AP-1', checkin(BOUND, 3));
    }
    expect(kicks).toBe(1);

    // The same label with another panel type must be planned for it: the check-in wakes the planner.
    await handler.labelCheckin('AP-1', checkin(BOUND, 4));
    expect(labels.get(BOUND)!.dirty).toBeGreaterThan(0);
    expect(kicks).toBe(2);
  });
});
