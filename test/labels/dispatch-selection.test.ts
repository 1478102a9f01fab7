/**
 * Replaces the D16 query-plan test: a dispatch pass no longer queries sqlite, it reads the label store's index of
 * "labels with work" per AP (D17). This checks that the index holds exactly the labels with work (so a pass over a
 * consistent store touches nothing), that the window, priorities, backoff and timed display (§6.5) are kept, and
 * that wake-aware staging (D19) holds back labels predicted to wake later and says when to look again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { BOUNDARY_REPLAN_GRACE_MS, selectForAp } from '../../src/domain/dispatch/dispatcher.js';
import { WakeReason, type MessageOf } from '#protocol';
import { tempDir } from '../support/temp-dir.js';

const T0 = Date.UTC(2026, 10, 30, 8, 0);
const checkin = (labelId: string, hash: string): MessageOf<'LABEL_CHECKIN'> => ({
  type: 'LABEL_CHECKIN',
  labelId,
  labelType: 3,
  displayedHash: hash,
  page: 0,
  batteryMv: 3000,
  rssi: -60,
  lqi: 200,
  temperatureC: 20,
  wakeReason: WakeReason.TIMER,
  pendingTransferId: 0,
});

describe('dispatch selection from the label store', () => {
  const tmp = tempDir();
  const clock = new ManualClock(T0);
  let db: Database;
  let labels: LabelStore;
  const id = (i: number) => `00000000000${(0x10000 + i).toString(16).toUpperCase()}`;

  beforeAll(async () => {
    db = await Database.open(join(tmp.dir, 'edge.db'));
    labels = await LabelStore.load({ db, clock, log: createLogger({ level: 'silent' }) });
    // 2,000 labels on 4 APs, every one planned; 1 in 50 does not show its desired picture yet.
    for (let i = 0; i < 2_000; i++) {
      labels.checkin(`AP-${(i % 4) + 1}`, checkin(id(i), i % 50 === 0 ? 'aaaaaaaaaaaaaaaa' : 'bbbbbbbbbbbbbbbb'), T0);
      labels.planned(id(i), { hash: 'bbbbbbbbbbbbbbbb', priority: i % 100 === 0 ? 0 : 2, now: T0 + i, seenDirty: 0 });
    }
  });
  afterAll(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('indexes only the labels with work, per AP', () => {
    const all = [1, 2, 3, 4].flatMap((a) => [...labels.workOn(`AP-${a}`)]);
    expect(all).toHaveLength(40);
    expect(all.every((l) => l.confirmedHash !== l.desiredHash)).toBe(true);
    expect([...labels.workOn('AP-1')].every((l) => l.apId === 'AP-1')).toBe(true);
  });

  it('picks at most the free window, most urgent first, and skips labels in backoff', () => {
    const sel = selectForAp(labels.workOn('AP-1'), { now: T0 + 10_000, free: 3, timedDisplay: true, stageAt: () => T0 + 10_000, wakeKey: () => 0 });
    expect(sel.picks).toHaveLength(3);
    expect(sel.picks.map((p) => p.mode)).toEqual(['now', 'now', 'now']);
    // Priority 0 (a wrong price) first: labels 0, 100, 200, … are on AP-1 and have priority 0.
    expect(sel.picks.every((p) => p.label.priority === 0)).toBe(true);
    const first = sel.picks[0]!.label.id;
    const transferId = labels.claim(first, { mode: 'now', apId: 'AP-1', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: T0 + 10_000 });
    expect(transferId).toBeGreaterThan(0);
    expect(labels.inFlightOn('AP-1')).toBe(1);
    labels.retry(first, transferId, { nextAttemptAt: T0 + 60_000, reason: 'test' });
    expect(labels.inFlightOn('AP-1')).toBe(0);
    const again = selectForAp(labels.workOn('AP-1'), { now: T0 + 10_000, free: 100, timedDisplay: true, stageAt: () => T0 + 10_000, wakeKey: () => 0 });
    expect(again.picks.map((p) => p.label.id)).not.toContain(first);
    expect(again.nextAt).toBe(T0 + 60_000);
  });

  it('holds back labels predicted to wake later and asks to run again when the first is due', () => {
    const now = T0 + 20_000;
    const work = [...labels.workOn('AP-3')];
    const due = new Map(work.map((l, i) => [l.id, i < 3 ? now : now + 1_000 * i]));
    const sel = selectForAp(work, { now, free: 100, timedDisplay: true, stageAt: (l) => due.get(l.id)!, wakeKey: (l) => due.get(l.id)! });
    expect(sel.picks).toHaveLength(3);
    expect(sel.held).toBe(work.length - 3);
    expect(sel.nextAt).toBe(now + 3_000);
  });

  it('stages timed pictures (§6.5) only on consistent labels, after the desired ones', () => {
    const l = [...labels.all()].find((x) => x.apId === 'AP-3' && x.confirmedHash === x.desiredHash)!;
    labels.plannedNext(l.id, 'cccccccccccccccc', T0 + 3_600_000);
    expect([...labels.workOn('AP-3')].map((x) => x.id)).toContain(l.id);
    const sel = selectForAp(labels.workOn('AP-3'), { now: T0 + 30_000, free: 100, timedDisplay: true, stageAt: () => 0, wakeKey: () => 0 });
    expect(sel.picks.at(-1)).toMatchObject({ mode: 'timed' });
    expect(sel.picks.at(-1)!.label.id).toBe(l.id);
    const noTimed = selectForAp(labels.workOn('AP-3'), { now: T0 + 30_000, free: 100, timedDisplay: false, stageAt: () => 0, wakeKey: () => 0 });
    expect(noTimed.picks.map((p) => p.mode)).not.toContain('timed');
  });

  it('does not send the old picture to a label that switched to its timed picture before the boundary was re-planned (D56)', () => {
    // A consistent label gets its timed picture (§6.5) for a boundary; at the boundary it shows it (check-in) before
    // the planner re-planned its desired picture, which is still the one from before the boundary.
    const l = [...labels.all()].find((x) => x.apId === 'AP-4' && x.confirmedHash === x.desiredHash)!;
    const old = l.desiredHash!;
    const at = T0 + 7_200_000;
    labels.plannedNext(l.id, 'dddddddddddddddd', at);
    labels.checkin('AP-4', checkin(l.id, 'dddddddddddddddd'), at + 500);
    expect(l.needsSend).toBe(true);
    expect(l.desiredHash).toBe(old);
    const held = selectForAp(labels.workOn('AP-4'), { now: at + 500, free: 100, timedDisplay: true, stageAt: () => 0, wakeKey: () => 0 });
    expect(held.picks.map((p) => p.label.id)).not.toContain(l.id);
    expect(held.nextAt).toBeLessThanOrEqual(at + BOUNDARY_REPLAN_GRACE_MS);
    // The planner's re-plan makes the timed picture the desired one: nothing to send.
    labels.planned(l.id, { hash: 'dddddddddddddddd', priority: 2, now: at + 600, seenDirty: l.dirty });
    expect(l.needsSend).toBe(false);
    // A boundary never re-planned holds the label back for the grace period only.
    const m = [...labels.all()].find((x) => x.apId === 'AP-4' && x.confirmedHash === x.desiredHash && x.id !== l.id)!;
    labels.plannedNext(m.id, 'eeeeeeeeeeeeeeee', at);
    labels.checkin('AP-4', checkin(m.id, 'eeeeeeeeeeeeeeee'), at + 500);
    const later = selectForAp(labels.workOn('AP-4'), { now: at + BOUNDARY_REPLAN_GRACE_MS, free: 100, timedDisplay: true, stageAt: () => 0, wakeKey: () => 0 });
    expect(later.picks.map((p) => p.label.id)).toContain(m.id);
  });
});
