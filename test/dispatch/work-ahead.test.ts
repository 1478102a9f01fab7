/**
 * D146 Appointments (protocol §4.9 WORK_AHEAD): the plan of an AP's channel in the order its labels wake, and what
 * the edge sends of it. The plan is pure; the sender runs on the injected ManualClock with a gateway stand-in whose
 * answers the test gives (test/simulator/work-ahead.test.ts runs the simulated AP that keeps the appointments).
 */
import { describe, expect, it } from 'vitest';
import { ApCapability, StatusCode, type Message, type StatusCodeValue } from '#protocol';
import { EdgeError, EdgeErrorCode } from '#contracts';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { WorkAhead, pendingOf, planAppointments, type AheadCandidate, type PendingLabel, type PendingSource, type WorkAheadStats } from '../../src/domain/dispatch/work-ahead.js';

const T0 = Date.UTC(2026, 11, 3, 8, 0);
const OPTS = { now: T0, startAt: T0 + 300, sleepMs: 30_000, minAheadMs: 2_000, leadMs: 3_000, horizonMs: 60_000 };
/** A label expected to wake in wakeInMs, at the latest 3 s later (its window, §5.6.2). */
const label = (i: number, wakeInMs: number, airMs = 100, appointable = true, refreshMs = 1_000): AheadCandidate => ({
  labelId: `00AA0000000000${String(i).padStart(2, '0')}`,
  wakeAt: T0 + wakeInMs,
  latestAt: T0 + wakeInMs + 3_000,
  airMs,
  refreshMs,
  appointable,
});

describe('planAppointments (§4.9, D146)', () => {
  it('serves a label at its wake when the channel is free by then; its appointment is a fallback after its window', () => {
    const c = [label(1, 5_000), label(2, 10_000), label(3, 10_200)];
    const plan = planAppointments(c, OPTS);
    // Unused when the label takes its transfer at that wake; should the wake pass without it, 3 s after its window.
    for (const x of c) expect(plan.get(x.labelId)).toBe(x.latestAt + 3_000);
  });

  it('labels passed over at their wake get appointments at the end of the planned work, in wake order', () => {
    // 40 labels wake within 0.4 s; 1 s of air each: the first is served at its wake, the rest would sleep 30 s.
    const crowd = Array.from({ length: 40 }, (_, i) => label(i, 5_000 + 10 * i, 1_000));
    const plan = planAppointments(crowd, OPTS);
    // Label 1 waits 0.99 s, label 2 1.98 s: the AP's hold and deferral serve them (< minAheadMs), so they, like label
    // 0, get only the fallback 3 s after their window; from label 3 on, each gets a slot: no sooner than 3 s after
    // its window (label 3: 8.03 + 3 s), then each after the one before.
    for (const i of [0, 1, 2]) expect(plan.get(crowd[i]!.labelId)).toBe(crowd[i]!.latestAt + 3_000);
    expect(plan.get(crowd[3]!.labelId)).toBe(crowd[3]!.latestAt + 3_000);
    for (let i = 4; i <= 24; i++) expect(plan.get(crowd[i]!.labelId)).toBe(plan.get(crowd[i - 1]!.labelId)! + 1_000);
    // Label 25's slot would be 27.8 s after its wake, more than 0.9 sleep: it comes back after its sleep (35.25 s),
    // when the channel is free again and takes it (a fallback after that window); labels 26 and 27 follow within 2 s,
    // and from label 28 on the plan gives slots again — for the check-in after next (the AP keeps an appointment a full
    // sleep or more away for a later check-in, §4.9.1).
    expect(plan.get(crowd[25]!.labelId)).toBe(crowd[25]!.latestAt + 30_000 + 3_000);
    expect(plan.get(crowd[28]!.labelId)).toBe(crowd[28]!.latestAt + 30_000 + 3_000);
    for (const at of plan.values()) expect(at).toBeLessThanOrEqual(T0 + 60_000 + 3_000);
    expect(plan.size).toBe(40);
  });

  it('a waiting label with a longer panel refresh gets the earlier slot (D107, Jackson\'s rule)', () => {
    // Label 1 holds the channel 5 s from its wake; labels 2 and 3 wake during it; label 3's panel takes 30 s.
    const c = [label(1, 5_000, 5_000), label(2, 5_100, 1_000), label(3, 5_200, 1_000, true, 30_000)];
    const plan = planAppointments(c, OPTS);
    // Label 3: 3 s after its window (8.2 s); label 2 after it.
    expect(plan.get(c[2]!.labelId)).toBe(T0 + 11_200);
    expect(plan.get(c[1]!.labelId)).toBe(T0 + 12_200);
  });

  it('a label whose transfer is on the AP takes its turn but gets no appointment (the AP defers or holds it)', () => {
    const c = [label(1, 5_000, 3_000), label(2, 5_100, 3_000, false), label(3, 5_200, 3_000)];
    const plan = planAppointments(c, OPTS);
    // Label 2's transfer is on the AP: no slot of its own, only the fallback (3 s after its window, 8.1 s), no sooner
    // than the end of its turn (11 s).
    expect(plan.get(c[1]!.labelId)).toBe(T0 + 11_100);
    // Label 3 comes after labels 1 and 2 (5.0 + 3 + 3) and no sooner than 3 s after its window (8.2 s).
    expect(plan.get(c[2]!.labelId)).toBe(T0 + 11_200);
  });

  it('looks no further than its horizon, and skips labels without air time', () => {
    const c = [label(1, 1_000, 40_000), label(2, 1_500, 100), label(3, 61_000, 100), label(4, 2_000, 0)];
    const plan = planAppointments(c, OPTS);
    // Label 2 waits for label 1's 40 s: more than 0.9 sleep, so it is planned again at 31.5 s, still behind label 1
    // (until 41 s): 9.5 s ahead, an appointment at 41 s.
    expect(plan.get(c[1]!.labelId)).toBe(T0 + 41_000);
    expect(plan.get(c[0]!.labelId)).toBe(c[0]!.latestAt + 3_000);
    expect(plan.has(c[2]!.labelId)).toBe(false);
    expect(plan.has(c[3]!.labelId)).toBe(false);
  });
});

interface Sent {
  apId: string;
  message: Extract<Message, { type: 'WORK_AHEAD' }>;
  answer: (status: StatusCodeValue) => void;
  fail: (err: Error) => void;
}

function rig(capabilities = ApCapability.WORK_AHEAD | ApCapability.WAKE_REPORT) {
  const clock = new ManualClock(T0);
  const sent: Sent[] = [];
  let candidates: AheadCandidate[] = [];
  let pending: PendingLabel[] = [];
  const stats: WorkAheadStats = { aheadPlans: 0, appointmentsSent: 0, aheadMessages: 0, aheadFailures: 0 };
  const aps = [{ apId: 'AP-1', capabilities, online: true }];
  const wa = new WorkAhead({
    gateway: {
      send: (apId, message) =>
        new Promise<StatusCodeValue>((answer, fail) => {
          if (message.type !== 'WORK_AHEAD') throw new Error(`unexpected ${message.type}`);
          sent.push({ apId, message, answer, fail });
        }),
    },
    aps: { online: () => aps as never },
    clock,
    log: createLogger({ level: 'silent' }),
    intervalMs: 2_000,
    view: (_apId, now) => ({ candidates, startAt: now + 300, sleepMs: 30_000, pending }),
    stats,
  });
  return {
    clock,
    sent,
    stats,
    wa,
    setCandidates: (c: AheadCandidate[]) => {
      candidates = c;
    },
    setPending: (p: PendingLabel[]) => {
      pending = p;
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('WorkAhead: what the edge sends (§4.9)', () => {
  it('sends the plan on its interval, in frames of at most 255 entries, each inMs from now', async () => {
    const r = rig();
    r.setCandidates(Array.from({ length: 600 }, (_, i) => label(i % 100, 5_000 + i, 40)).map((c, i) => ({ ...c, labelId: `00AB${String(i).padStart(12, '0')}` })));
    r.wa.start();
    r.clock.advance(1_999);
    expect(r.sent).toHaveLength(0);
    r.clock.advance(1);
    const n = r.stats.appointmentsSent;
    expect(n).toBeGreaterThan(255);
    expect(r.sent.map((s) => s.message.entries.length)).toEqual([255, ...(n > 510 ? [255, n - 510] : [n - 255])]);
    const first = r.sent[0]!.message.entries[0]!;
    // The plan ran at T0 + 2 s: inMs is the appointment less that.
    expect(first.inMs).toBeGreaterThanOrEqual(2_000);
    r.wa.stop();
  });

  it('does not send an appointment again unless the plan moves it by more than a second', async () => {
    const r = rig();
    const c = Array.from({ length: 10 }, (_, i) => label(i, 5_000 + 10 * i, 1_000));
    r.setCandidates(c);
    r.wa.planAll();
    const first = r.sent.flatMap((s) => s.message.entries);
    expect(first.length).toBeGreaterThan(0);
    for (const s of r.sent) s.answer(StatusCode.OK);
    await flush();
    r.wa.planAll();
    expect(r.sent).toHaveLength(1);
    // The crowd's first label is gone (served): the slots after it move 0.99 s earlier — not sent again; label 5 now
    // takes 3 s, so label 6's slot moves 1.01 s later — sent again.
    const before = new Map(first.map((x) => [x.labelId, x.inMs]));
    r.setCandidates(c.slice(1).map((x) => (x.labelId === c[5]!.labelId ? { ...x, airMs: 3_000 } : x)));
    r.wa.planAll();
    expect(r.sent.length).toBe(2);
    const again = new Set(r.sent[1]!.message.entries.map((x) => x.labelId));
    expect(before.has(c[4]!.labelId) && before.has(c[6]!.labelId)).toBe(true);
    expect(again.has(c[4]!.labelId)).toBe(false);
    expect(again.has(c[6]!.labelId)).toBe(true);
  });

  it('forgets what an AP did not acknowledge (sent again by the next plan), and stops after UNSUPPORTED_FEATURE', async () => {
    const r = rig();
    r.setCandidates(Array.from({ length: 10 }, (_, i) => label(i, 5_000 + 10 * i, 1_000)));
    r.wa.planAll();
    const n = r.sent[0]!.message.entries.length;
    r.sent[0]!.fail(new EdgeError(EdgeErrorCode.AP_ACK_TIMEOUT, 'no ACK'));
    await flush();
    expect(r.stats.aheadFailures).toBe(1);
    r.wa.planAll();
    expect(r.sent[1]!.message.entries.length).toBe(n);
    r.sent[1]!.answer(StatusCode.UNSUPPORTED_FEATURE);
    await flush();
    r.wa.planAll();
    expect(r.sent).toHaveLength(2);
    // A new hello starts a new session: the AP may have been updated.
    r.wa.apHello('AP-1');
    r.wa.planAll();
    expect(r.sent).toHaveLength(3);
  });

  it('D159: a label still waiting for its picture gets an appointment a third of a sleep after its next wake', async () => {
    const r = rig();
    const served = label(1, 5_000, 100);
    r.setCandidates([served]);
    // One label only waiting (its appointment 10 s after its wake), one that is both (the channel's plan wins).
    r.setPending([
      { labelId: '00AC000000000001', wakeAt: T0 + 4_000 },
      { labelId: served.labelId, wakeAt: T0 + 5_000 },
    ]);
    r.wa.planAll();
    const entries = new Map(r.sent.flatMap((x) => x.message.entries).map((e) => [e.labelId, e.inMs]));
    expect(entries.get('00AC000000000001')).toBe(14_000);
    expect(entries.get(served.labelId)).toBe(served.latestAt + 3_000 - T0);
    for (const x of r.sent) x.answer(StatusCode.OK);
    await flush();
    // It woke and was told its appointment (the AP drops it then); its next wake is known: a new one follows it.
    r.clock.advance(5_000);
    r.setCandidates([]);
    r.setPending([{ labelId: '00AC000000000001', wakeAt: T0 + 14_000 }]);
    r.wa.planAll();
    expect(r.sent.at(-1)!.message.entries).toEqual([{ labelId: '00AC000000000001', inMs: 19_000 }]);
  });

  it('plans only APs that announce WORK_AHEAD', () => {
    const r = rig(ApCapability.WAKE_REPORT);
    r.setCandidates(Array.from({ length: 10 }, (_, i) => label(i, 5_000 + 10 * i, 1_000)));
    r.wa.planAll();
    expect(r.sent).toHaveLength(0);
    expect(r.stats.aheadPlans).toBe(0);
  });
});

describe('pendingOf (D159): the labels waiting for a picture that get appointments', () => {
  const src = (id: string, o: Partial<PendingSource> & { refreshMs?: number; wake?: number | null } = {}) => ({
    id,
    apId: 'AP-1',
    labelType: 5,
    dirty: 1,
    needsSend: false,
    transferState: null,
    refreshMs: 30_000,
    wake: T0 + 2_000,
    ...o,
  });
  type Src = ReturnType<typeof src>;
  const walk = (labels: Src[], now = T0) =>
    pendingOf(labels, {
      now,
      sleepMs: 30_000,
      window: (l) => (l.wake === null ? null : { a: l.wake - 3_000, b: l.wake + 3_000 }),
      refreshMs: (l) => l.refreshMs,
    });
  const run = (labels: Src[], now = T0) => walk(labels, now).pending;

  it('takes dirty labels whose refresh is longer than half a sleep, by AP, with their expected wake', () => {
    const out = run([
      src('slow'),
      src('other-ap', { apId: 'AP-2', refreshMs: 25_000 }),
      src('fast', { refreshMs: 1_000 }),
      src('half', { refreshMs: 15_000 }),
      src('clean', { dirty: 0 }),
      src('planned', { needsSend: true }),
      src('sending', { transferState: 'staged' }),
      src('unknown-wake', { wake: null }),
      src('unbound', { apId: null }),
    ]);
    expect(out.get('AP-1')).toEqual([{ labelId: 'slow', wakeAt: T0 + 2_000 }]);
    expect(out.get('AP-2')).toEqual([{ labelId: 'other-ap', wakeAt: T0 + 2_000 }]);
  });

  it('D161 counts, in the same walk, every label waiting for its picture by AP, whatever its panel or wake', () => {
    const out = walk([
      src('slow'),
      src('fast', { refreshMs: 1_000 }),
      src('unknown-wake', { wake: null }),
      src('other-ap', { apId: 'AP-2' }),
      src('clean', { dirty: 0 }),
      src('planned', { needsSend: true }),
      src('sending', { transferState: 'staged' }),
      src('no-type', { labelType: null }),
      src('unbound', { apId: null }),
    ]).waiting;
    expect([...out]).toEqual([
      ['AP-1', 3],
      ['AP-2', 1],
    ]);
  });

  it('a window closed unseen moves a sleep on (the label woke and slept again); a wake never before now', () => {
    const out = run([src('passed', { wake: T0 - 40_000 }), src('inside', { wake: T0 - 1_000 })], T0);
    // T0 - 40 s + 30 s = T0 - 10 s: its window [-13, -7] s closed too, so one more sleep: T0 + 20 s.
    expect(out.get('AP-1')).toEqual([
      { labelId: 'passed', wakeAt: T0 + 20_000 },
      { labelId: 'inside', wakeAt: T0 },
    ]);
  });
});
