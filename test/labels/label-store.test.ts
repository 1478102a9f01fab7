/**
 * The label store (D17, D18) on a real sqlite file: transaction-bound dirty marks are durable with the event that
 * caused them and reach memory only on commit; write-behind transitions reach sqlite in one batch; a "crash" (a new
 * store loaded from the file without the old one's last batch) loses no dirty mark and no binding, forgets
 * transfers under way, and a planner's clear that raced an intake mark leaves the label dirty.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import type { LabelRecord } from '../../src/domain/labels/label-record.js';
import { WakeReason, type MessageOf } from '#protocol';
import { tempDir } from '../support/temp-dir.js';

const L1 = '00000000000000A1';
const L2 = '00000000000000A2';
const GTIN = '4006381333931';
const log = createLogger({ level: 'silent' });
const checkin = (labelId: string, hash: string, wakeReason: MessageOf<'LABEL_CHECKIN'>['wakeReason'] = WakeReason.TIMER, pendingTransferId = 0): MessageOf<'LABEL_CHECKIN'> => ({
  type: 'LABEL_CHECKIN',
  labelId,
  labelType: 3,
  displayedHash: hash,
  page: 0,
  batteryMv: 3000,
  rssi: -60,
  lqi: 200,
  temperatureC: 20,
  wakeReason,
  pendingTransferId,
});
const row = (db: Database, id: string) => db.get<{ dirty: number; gtin: string | null; desired_hash: string | null; confirmed_hash: string | null; transfer_state: string | null; battery_mv: number | null }>('SELECT * FROM labels WHERE label_id = ?', [id]);

describe('label store', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let clock: ManualClock;
  let store: LabelStore;

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'edge.db'));
    clock = new ManualClock(Date.UTC(2026, 10, 30, 8, 0));
    store = await LabelStore.load({ db, clock, log });
  });
  afterEach(async () => {
    await store.stop();
    await db.close();
    tmp.remove();
  });

  it('binds and marks dirty inside the caller transaction; memory follows the commit, never a rollback', async () => {
    await db.transaction(async (tx) => {
      await store.bindTx(tx, L1, GTIN, null);
      // Not committed yet: memory does not know.
      expect(store.get(L1)).toBeUndefined();
    });
    expect(store.get(L1)).toMatchObject({ gtin: GTIN, dirty: 1 });
    expect(await row(db, L1)).toMatchObject({ gtin: GTIN, dirty: 1 });

    await expect(
      db.transaction(async (tx) => {
        await store.markDirtyTx(tx, GTIN);
        throw new Error('the event failed');
      }),
    ).rejects.toThrow('the event failed');
    expect(store.get(L1)?.dirty).toBe(1);
    expect((await row(db, L1))?.dirty).toBe(1);
  });

  it('writes transitions behind, in one batch per tick', async () => {
    store.checkin('AP-1', checkin(L2, 'aaaaaaaaaaaaaaaa'), clock.now());
    expect(store.get(L2)).toMatchObject({ apId: 'AP-1', confirmedHash: 'aaaaaaaaaaaaaaaa', batteryMv: 3000 });
    expect(await row(db, L2)).toBeUndefined();
    const before = store.flushStats.batches;
    clock.advance(100);
    await store.flush();
    expect(store.flushStats.batches).toBe(before + 1);
    expect(await row(db, L2)).toMatchObject({ confirmed_hash: 'aaaaaaaaaaaaaaaa', battery_mv: 3000 });
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM label_telemetry'))?.n).toBe(1);
  });

  it('D128 writes neither a transfer nor a telemetry-only check-in, but a telemetry point per sample interval', async () => {
    const telemetry = async () => (await db.all<{ at: number; ap_id: string }>('SELECT at, ap_id FROM label_telemetry WHERE label_id = ? ORDER BY rowid', [L1])).map((r) => [r.at - T0, r.ap_id]);
    const T0 = clock.now();
    const sample = await LabelStore.load({ db, clock, log, telemetrySampleMs: 60_000 });
    try {
      await db.transaction((tx) => sample.bindTx(tx, L1, GTIN, null));
      sample.checkin('AP-1', checkin(L1, 'aaaaaaaaaaaaaaaa'), clock.now());
      sample.planned(L1, { hash: 'bbbbbbbbbbbbbbbb', priority: 0, now: clock.now(), seenDirty: sample.get(L1)!.dirty });
      await sample.flush();
      const rowsAfterPlan = sample.flushStats.rows;

      // Claim, staging and delivery live in memory only: no batch at all.
      const id = sample.claim(L1, { mode: 'now', apId: 'AP-1', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: clock.now() });
      sample.staged(L1, id);
      clock.advance(30_000);
      sample.delivered(L1, id, clock.now());
      expect(sample.get(L1)?.transferState).toBe('delivered');
      await sample.flush();
      expect(sample.flushStats.rows).toBe(rowsAfterPlan);
      // Only the transfer counter is written, so a restart never hands out an id an AP may still hold.
      expect((await db.get<{ value: string }>("SELECT value FROM meta WHERE key = 'transfer_seq'"))?.value).toBe(String(id));

      // A check-in that shows the new picture is written at once, as its row (not as a telemetry point: 30 s < 60 s).
      clock.advance(1_000);
      sample.checkin('AP-1', checkin(L1, 'bbbbbbbbbbbbbbbb', WakeReason.TRANSFER_DONE), clock.now());
      await sample.flush();
      expect(sample.flushStats.rows).toBe(rowsAfterPlan + 1);
      expect(await row(db, L1)).toMatchObject({ confirmed_hash: 'bbbbbbbbbbbbbbbb', transfer_state: null });

      // Telemetry only: nothing until the sample interval has passed since the last point (at T0).
      clock.advance(20_000);
      sample.checkin('AP-1', { ...checkin(L1, 'bbbbbbbbbbbbbbbb'), batteryMv: 2990 }, clock.now());
      await sample.flush();
      expect(sample.flushStats.rows).toBe(rowsAfterPlan + 1);
      expect(sample.get(L1)).toMatchObject({ batteryMv: 2990, lastSeenAt: T0 + 51_000 });
      clock.advance(10_000);
      sample.checkin('AP-1', { ...checkin(L1, 'bbbbbbbbbbbbbbbb'), batteryMv: 2980 }, clock.now());
      await sample.flush();
      expect(sample.flushStats.rows).toBe(rowsAfterPlan + 2);
      expect(await row(db, L1)).toMatchObject({ battery_mv: 2980, last_seen_at: T0 + 61_000 });
      // A roam is a point at once, whatever the interval.
      clock.advance(5_000);
      sample.checkin('AP-2', checkin(L1, 'bbbbbbbbbbbbbbbb'), clock.now());
      await sample.flush();
      expect(await telemetry()).toEqual([
        [0, 'AP-1'],
        [61_000, 'AP-1'],
        [66_000, 'AP-2'],
      ]);
    } finally {
      await sample.stop();
    }
  });

  it('D127 writes a batch of many labels in one statement, every column as it is in memory', async () => {
    const ids = Array.from({ length: 600 }, (_, i) => `00000000000${String(i).padStart(5, '0')}`);
    for (const id of ids) store.checkin('AP-1', checkin(id, 'aaaaaaaaaaaaaaaa'), clock.now());
    const first = ids[0]!;
    // Text that JSON escapes, a retry's error and the other columns a transfer sets.
    store.planned(first, { hash: 'bbbbbbbbbbbbbbbb', priority: 1, now: clock.now(), seenDirty: 0, colour: null });
    const id = store.claim(first, { mode: 'now', apId: 'AP-1', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: clock.now() });
    store.retry(first, id, { nextAttemptAt: clock.now() + 9_007_199_254, reason: 'AP\'s "no" — \u00fcber \\ 🙂' });
    await store.flush();
    const written = await db.all<{ label_id: string }>('SELECT label_id FROM labels');
    expect(written).toHaveLength(600);
    const reborn = await LabelStore.load({ db, clock, log });
    try {
      const cols = ['apId', 'confirmedHash', 'desiredHash', 'priority', 'batteryMv', 'rssi', 'lqi', 'temperatureC', 'wakeReason', 'page', 'attempts', 'nextAttemptAt', 'lastError', 'forceFull', 'decoders'] as const;
      for (const l of ids) {
        const a = store.get(l)!;
        const b = reborn.get(l)!;
        for (const c of cols) expect([l, c, b[c]]).toEqual([l, c, a[c]]);
      }
      expect(reborn.get(first)).toMatchObject({ lastError: 'AP\'s "no" — über \\ 🙂', attempts: 1, desiredHash: 'bbbbbbbbbbbbbbbb' });
    } finally {
      await reborn.stop();
    }
  });

  it('after a crash keeps every dirty mark and binding, forgets transfers, and re-plans a label whose clear raced a mark', async () => {
    await db.transaction((tx) => store.bindTx(tx, L1, GTIN, null));
    store.checkin('AP-1', checkin(L1, 'aaaaaaaaaaaaaaaa'), clock.now());
    // The planner read dirty = 2 (binding + new panel type) and renders …
    const seen = store.get(L1)!.dirty;
    expect(seen).toBe(2);
    // … while an event marks the label again, durably.
    await db.transaction((tx) => store.markDirtyTx(tx, GTIN));
    expect(store.planned(L1, { hash: 'bbbbbbbbbbbbbbbb', priority: 0, now: clock.now(), seenDirty: seen })).toBe(true);
    // The counter moved on: the label stays dirty for another plan.
    expect(store.get(L1)?.dirty).toBe(3);
    const id = store.claim(L1, { mode: 'now', apId: 'AP-1', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: clock.now() });
    expect(id).toBeGreaterThan(0);
    store.staged(L1, id);
    await store.flush();
    expect((await row(db, L1))?.dirty).toBe(3);

    // Planned again, cleared in memory; then the process dies before the batch is written.
    store.planned(L1, { hash: 'bbbbbbbbbbbbbbbb', priority: 0, now: clock.now(), seenDirty: 3 });
    expect(store.get(L1)?.dirty).toBe(0);
    await db.transaction((tx) => store.markDirtyTx(tx, GTIN));
    const reborn = await LabelStore.load({ db, clock, log });
    try {
      // sqlite had 3 (the clear was not written) + 1: still dirty, so nothing acknowledged is lost (D4).
      expect(reborn.get(L1)).toMatchObject({ gtin: GTIN, dirty: 4, desiredHash: 'bbbbbbbbbbbbbbbb', transferState: null });
      expect(reborn.inFlightOn('AP-1')).toBe(0);
      // New transfer ids do not collide with one an AP may still hold.
      expect(reborn.claim(L1, { mode: 'now', apId: 'AP-1', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: clock.now() })).not.toBe(id);
    } finally {
      await reborn.stop();
    }
  });

  it('ends a transfer on the check-in that shows it, on roaming (with a cancel at the old AP) and on reboot', async () => {
    await db.transaction((tx) => store.bindTx(tx, L1, GTIN, null));
    store.checkin('AP-1', checkin(L1, 'aaaaaaaaaaaaaaaa'), clock.now());
    store.planned(L1, { hash: 'bbbbbbbbbbbbbbbb', priority: 0, now: clock.now(), seenDirty: store.get(L1)!.dirty });
    let id = store.claim(L1, { mode: 'now', apId: 'AP-1', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: clock.now() });
    store.staged(L1, id);
    const roamed = store.checkin('AP-2', checkin(L1, 'aaaaaaaaaaaaaaaa'), clock.now());
    expect(roamed).toMatchObject({ previousAp: 'AP-1', transferEnded: true, cancelAt: { apId: 'AP-1', transferId: id } });
    expect(store.get(L1)).toMatchObject({ apId: 'AP-2', transferState: null });
    expect([...store.workOn('AP-2')].map((l) => l.id)).toEqual([L1]);

    id = store.claim(L1, { mode: 'now', apId: 'AP-2', hash: 'bbbbbbbbbbbbbbbb', displayAt: 0, now: clock.now() });
    store.staged(L1, id);
    store.delivered(L1, id, clock.now());
    const shown = store.checkin('AP-2', checkin(L1, 'bbbbbbbbbbbbbbbb', WakeReason.TRANSFER_DONE), clock.now());
    expect(shown.transferEnded).toBe(true);
    expect(store.get(L1)).toMatchObject({ confirmedHash: 'bbbbbbbbbbbbbbbb', consistentSince: clock.now(), attempts: 0 });
    expect(store.workOn('AP-2').size).toBe(0);
    expect(store.counts()).toMatchObject({ total: 1, consistent: 1 });
  });

  it('D107 keeps the colour digest of the planned picture and carries it to the confirmed one when the label shows it', async () => {
    store.checkin('AP-1', checkin(L1, 'aaaaaaaaaaaaaaaa'), clock.now());
    // A picture the label shows from before this process: no digest known.
    expect(store.get(L1)).toMatchObject({ confirmedColour: null, desiredColour: null });
    store.planned(L1, { hash: 'bbbbbbbbbbbbbbbb', priority: 0, now: clock.now(), seenDirty: 0, colour: 77 });
    expect(store.get(L1)).toMatchObject({ desiredColour: 77, confirmedColour: null });
    store.checkin('AP-1', checkin(L1, 'bbbbbbbbbbbbbbbb', WakeReason.TRANSFER_DONE), clock.now());
    expect(store.get(L1)).toMatchObject({ confirmedHash: 'bbbbbbbbbbbbbbbb', confirmedColour: 77 });
    store.planned(L1, { hash: 'cccccccccccccccc', priority: 0, now: clock.now(), seenDirty: 0, colour: 78 });
    expect(store.get(L1)).toMatchObject({ desiredColour: 78, confirmedColour: 77 });
    // The label shows something else than planned: its colours are unknown again.
    store.checkin('AP-1', checkin(L1, 'dddddddddddddddd'), clock.now());
    expect(store.get(L1)).toMatchObject({ confirmedHash: 'dddddddddddddddd', confirmedColour: null });
  });

  it('D149 keeps every index equal to what the records say through any sequence of transitions', async () => {
    const ids = [L1, L2, '00000000000000A3'];
    const gtins = [GTIN, '4006381333948'];
    const aps = ['AP-1', 'AP-2'];
    const hashes = ['aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb', 'cccccccccccccccc'];
    const pick = <T,>(xs: readonly T[]) => fc.nat({ max: xs.length - 1 }).map((i) => xs[i]!);
    // Weighted so that labels get bound, seen, planned and claimed often enough for transfers to run their course.
    const step = fc.oneof(
      { weight: 2, arbitrary: fc.record({ op: fc.constant('bind' as const), id: pick(ids), gtin: fc.option(pick(gtins), { freq: 4 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('mark' as const), gtin: pick(gtins) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('checkin' as const), id: pick(ids), ap: pick(aps), hash: pick(hashes), done: fc.boolean() }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('planned' as const), id: pick(ids), hash: pick(hashes) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('next' as const), id: pick(ids), hash: fc.option(pick(hashes)) }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('claim' as const), id: pick(ids), mode: pick(['now', 'now', 'timed', 'drop'] as const) }) },
      { weight: 4, arbitrary: fc.record({ op: pick(['staged', 'delivered', 'withdrawn', 'released', 'retry', 'mismatched'] as const), id: pick(ids) }) },
      { weight: 1, arbitrary: fc.record({ op: pick(['forceFull', 'resend'] as const), id: pick(ids) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('restart' as const), ap: pick(aps) }) },
    );
    const idsOf = (ls: Iterable<Readonly<LabelRecord>>) => [...ls].map((l) => l.id).sort();
    const where = (f: (l: Readonly<LabelRecord>) => boolean) => idsOf([...store.all()].filter(f));
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 80 }), async (steps) => {
        await store.stop();
        await db.run('DELETE FROM labels');
        store = await LabelStore.load({ db, clock, log });
        for (const s of steps) {
          clock.advance(1000);
          const now = clock.now();
          const l = 'id' in s ? store.get(s.id) : undefined;
          const tid = l?.transferId ?? 0;
          if (s.op === 'bind') await db.transaction((tx) => store.bindTx(tx, s.id, s.gtin, null));
          else if (s.op === 'mark') await db.transaction((tx) => store.markDirtyTx(tx, s.gtin));
          else if (s.op === 'checkin') store.checkin(s.ap, checkin(s.id, s.hash, s.done ? WakeReason.TRANSFER_DONE : WakeReason.TIMER, s.done ? tid : 0), now);
          else if (s.op === 'planned') store.planned(s.id, { hash: s.hash, priority: 0, now, seenDirty: l?.dirty ?? 0 });
          else if (s.op === 'next') store.plannedNext(s.id, s.hash, now + 60_000);
          else if (s.op === 'claim' && l?.apId) {
            const hash = s.mode === 'timed' ? l.nextHash : l.desiredHash;
            if (hash !== null) store.claim(s.id, { mode: s.mode, apId: l.apId, hash, displayAt: s.mode === 'timed' ? now + 60_000 : 0, now });
          } else if (s.op === 'staged') store.staged(s.id, tid);
          else if (s.op === 'delivered') store.delivered(s.id, tid, now);
          else if (s.op === 'withdrawn') store.withdrawn(s.id, tid);
          else if (s.op === 'released') store.released(s.id, tid, now + 5_000);
          else if (s.op === 'retry') store.retry(s.id, tid, { nextAttemptAt: now + 5_000, reason: 'test' });
          else if (s.op === 'mismatched') store.mismatched(s.id, tid, hashes[0]!);
          else if (s.op === 'forceFull') store.forceFull(s.id);
          else if (s.op === 'resend') store.resend(s.id);
          else if (s.op === 'restart') store.apRestarted(s.ap);
          for (const ap of aps) {
            expect(idsOf(store.workOn(ap)), `work on ${ap} after ${JSON.stringify(s)}`).toEqual(where((x) => x.apId === ap && x.hasWork));
            expect(idsOf(store.queuedOn(ap)), `queue of ${ap}`).toEqual(where((x) => x.transferAp === ap && (x.transferState === 'sending' || x.transferState === 'staged')));
          }
          for (const g of gtins) expect(idsOf(store.byGtin(g)), `labels of ${g}`).toEqual(where((x) => x.gtin === g));
          expect(idsOf(store.withTransfers())).toEqual(where((x) => x.transferState !== null));
          expect(idsOf(store.dirty())).toEqual(where((x) => x.dirty > 0));
        }
      }),
      { numRuns: 60 },
    );
  });
});
