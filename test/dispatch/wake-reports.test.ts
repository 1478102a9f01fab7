/**
 * Wake-report staging (protocol §5.6, D34–D35) on injected time: the store-wide jitter is learnt from residuals
 * (nothing about the simulator's ±10 % assumed), a label's next wake window follows from its last reported sleep, the
 * staging cost prefers labels that will wake soonest without having woken unseen, and the per-AP selection fills
 * free slots in ascending cost within the horizon — or stages everything at once when the slots suffice for all of
 * the AP's work, that still being planned included (D161).
 */
import { describe, expect, it } from 'vitest';
import { expectedRefreshMs, selectByCost, selectForAp } from '../../src/domain/dispatch/dispatcher.js';
import { WakeJitter, labelStagingCost, labelWakeKnown, observeReport, stagingCost, wakeWindow, type CostContext } from '../../src/domain/dispatch/wake-reports.js';
import type { WakeState } from '../../src/domain/dispatch/wake-predictor.js';
import type { LabelRecord } from '../../src/domain/labels/label-store.js';
import { selectionLabel } from './selection-label.js';

const T0 = Date.UTC(2026, 10, 30, 8, 0);
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const fresh = (): WakeState => ({ wakeAt: -1, wakeIntervalMs: 0, wakeSamples: 0, wakeToldMs: null });

describe('wake jitter, learnt from report residuals', () => {
  it('starts from a wide prior and converges to the labels’ real spread (uniform ±7 %)', () => {
    const j = new WakeJitter();
    expect(j.lo).toBe(-0.25);
    expect(j.hi).toBe(0.25);
    const r = rng(7);
    // 50 labels, each reported at every wake: sleep told 20 s, actual sleep 20 s × (1 ± 0.07), exchange 15 ms.
    const states = Array.from({ length: 50 }, fresh);
    const at = states.map((_, i) => T0 + i * 400);
    for (let round = 0; round < 40; round++) {
      states.forEach((s, i) => {
        const woke = at[i]!;
        observeReport(s, j, { wokeAt: woke, sleptAt: woke + 15, toldMs: 20_000 });
        at[i] = woke + 15 + 20_000 * (1 + 0.07 * (2 * r() - 1));
      });
    }
    expect(j.samples).toBe(50 * 39);
    expect(j.lo).toBeGreaterThan(-0.075);
    expect(j.lo).toBeLessThan(-0.06);
    expect(j.hi).toBeLessThan(0.075);
    expect(j.hi).toBeGreaterThan(0.06);
    expect(j.nominalToldMs).toBe(20_000);
  });

  it('ignores a residual that spans a lost report (two sleeps)', () => {
    const j = new WakeJitter();
    const s = fresh();
    observeReport(s, j, { wokeAt: T0, sleptAt: T0 + 10, toldMs: 30_000 });
    observeReport(s, j, { wokeAt: T0 + 60_000, sleptAt: T0 + 60_010, toldMs: 30_000 });
    expect(j.samples).toBe(0);
    // The state holds the newest sleep all the same.
    expect(s.wakeAt).toBe(T0 + 60_010);
    expect(wakeWindow(s, j)).toEqual({ a: T0 + 60_010 + 30_000 * 0.75, b: T0 + 60_010 + 30_000 * 1.25 });
  });

  it('a label without a report has no window', () => {
    expect(wakeWindow(fresh(), new WakeJitter())).toBeNull();
  });
});

const ctx = (over: Partial<CostContext> = {}): CostContext => ({
  now: T0,
  knownUntil: T0,
  stageLatencyMs: 200,
  missCostMs: 1_200,
  unknownMs: 15_000,
  staleAfterMs: 5_000,
  ...over,
});

describe('staging cost', () => {
  it('before the window: the wait to its middle', () => {
    expect(stagingCost({ a: T0 + 10_000, b: T0 + 16_000 }, ctx())).toBe(13_000);
  });

  it('inside the window, not reported awake: later in the window is better, until it may have woken unseen', () => {
    const w = { a: T0 - 5_000, b: T0 + 1_000 };
    const late = stagingCost(w, ctx());
    const early = stagingCost({ a: T0 - 1_000, b: T0 + 5_000 }, ctx());
    expect(late).toBeLessThan(early);
    expect(late).toBeLessThan(1_000);
    // The AP's last report is 900 ms old: the label may have woken since, and a miss costs slot time.
    const stale = stagingCost(w, ctx({ knownUntil: T0 - 900 }));
    expect(stale).toBeGreaterThan(late);
  });

  it('a window that closed without a report: woken unseen (Infinity), later unknown', () => {
    expect(stagingCost({ a: T0 - 6_000, b: T0 - 500 }, ctx())).toBe(Infinity);
    expect(stagingCost({ a: T0 - 16_000, b: T0 - 10_000 }, ctx())).toBe(15_000);
    expect(stagingCost(null, ctx())).toBe(15_000);
  });

  it('D149 of a label, without building its window: equal to stagingCost of wakeWindow for any state and context', () => {
    const r = rng(149);
    const j = new WakeJitter();
    for (let i = 0; i < 200; i++) j.add((r() - 0.5) * 0.2);
    for (let i = 0; i < 5_000; i++) {
      const s: WakeState = { ...fresh(), wakeAt: r() < 0.1 ? -1 : T0 - 40_000 + r() * 60_000, wakeToldMs: r() < 0.1 ? null : 5_000 + r() * 30_000 };
      const c = ctx({ knownUntil: T0 - r() * 2_000, stageLatencyMs: r() * 1_000 });
      expect(labelStagingCost(s, j, c)).toBe(stagingCost(wakeWindow(s, j), c));
    }
  });
});

describe('D161 a known wake', () => {
  it('is one with a report whose window closed no longer than the stale limit ago', () => {
    const j = new WakeJitter();
    const c = ctx({ now: T0, staleAfterMs: 5_000 });
    expect(labelWakeKnown(fresh(), j, c)).toBe(false);
    expect(labelWakeKnown({ ...fresh(), wakeAt: T0 - 1_000, wakeToldMs: null }, j, c)).toBe(false);
    // Told 20 s at T0 − 10 s: window up to T0 + 15 s (prior jitter +25 %).
    expect(labelWakeKnown({ ...fresh(), wakeAt: T0 - 10_000, wakeToldMs: 20_000 }, j, c)).toBe(true);
    // Window closed at T0 − 4 s: woke unseen, still known; closed at T0 − 6 s: stale, as a label never reported.
    expect(labelWakeKnown({ ...fresh(), wakeAt: T0 - 29_000, wakeToldMs: 20_000 }, j, c)).toBe(true);
    expect(labelWakeKnown({ ...fresh(), wakeAt: T0 - 31_000, wakeToldMs: 20_000 }, j, c)).toBe(false);
    expect(stagingCost(wakeWindow({ ...fresh(), wakeAt: T0 - 31_000, wakeToldMs: 20_000 }, j), c)).toBe(c.unknownMs);
  });
});

const label = (id: number, over: Partial<LabelRecord> = {}) => selectionLabel(id, T0 - 1_000, over);

describe('selection by cost (an AP with wake reports)', () => {
  const costs = new Map<string, number>();
  // One transfer already on the AP: the horizon applies (an idle AP takes the cheapest anyway, below).
  const cost = { of: (l: Readonly<LabelRecord>) => costs.get(l.id) ?? 15_000, horizonMs: 4_000, busy: 1 };
  const base = { now: T0, timedDisplay: true, stageAt: (_l: unknown, t: number) => t, wakeKey: (_l: unknown, t: number) => t, cost };

  it('fills the free slots in ascending cost, holds labels beyond the horizon and says when to look again', () => {
    costs.clear();
    const work = Array.from({ length: 10 }, (_, i) => label(i));
    [9_000, 300, 2_500, Infinity, 800, 3_900, 4_100, 15_000, 1_200, 6_000].forEach((c, i) => costs.set(`L${i}`, c));
    const r = selectForAp(work, { ...base, free: 4 });
    expect(r.picks.map((p) => p.label.id)).toEqual(['L1', 'L4', 'L8', 'L2']);
    expect(r.held).toBe(6);
    // L6 enters the horizon first (100 ms), and the label that woke unseen is looked at within 500 ms.
    expect(r.nextAt).toBe(T0 + 100);
  });

  it('keeps free slots free rather than give them to labels that wake late', () => {
    costs.clear();
    const work = Array.from({ length: 6 }, (_, i) => label(i));
    [300, 9_000, 12_000, 20_000, 8_000, 7_000].forEach((c, i) => costs.set(`L${i}`, c));
    const r = selectForAp(work, { ...base, free: 5 });
    expect(r.picks.map((p) => p.label.id)).toEqual(['L0']);
    expect(r.nextAt).toBe(T0 + 3_000);
  });

  it('stages everything at once when the free slots suffice (a small change: latency first)', () => {
    costs.clear();
    const work = Array.from({ length: 3 }, (_, i) => label(i));
    const r = selectForAp(work, { ...base, free: 3 });
    expect(r.picks).toHaveLength(3);
  });

  it('D161 while the AP has work still being planned, slots that would hold it all are not given beyond the horizon', () => {
    costs.clear();
    const work = Array.from({ length: 3 }, (_, i) => label(i));
    [300, 9_000, 20_000].forEach((c, i) => costs.set(`L${i}`, c));
    // Three candidates, ten free slots, but 40 labels of the AP still await their picture: L1 and L2 wake later
    // than the slots take to drain and would keep those slots from labels planned next that wake sooner.
    const r = selectForAp(work, { ...base, free: 10, cost: { ...cost, toCome: 40 } });
    expect(r.picks.map((p) => p.label.id)).toEqual(['L0']);
    expect(r.held).toBe(2);
    expect(r.nextAt).toBe(T0 + 5_000);
    // Everything fits, that to come included: all at once, as before (a small change, latency first).
    expect(selectForAp(work, { ...base, free: 10, cost: { ...cost, toCome: 7 } }).picks).toHaveLength(3);
  });

  it('D161 an idle AP with work to come stages only labels whose wake it does not know beyond the horizon', () => {
    costs.clear();
    const work = Array.from({ length: 4 }, (_, i) => label(i));
    [9_000, 20_000, 15_000, 15_000].forEach((c, i) => costs.set(`L${i}`, c));
    const known = (l: Readonly<LabelRecord>) => l.id === 'L0' || l.id === 'L1';
    const idle = { ...cost, busy: 0, wakeKnown: known };
    const r = selectForAp(work, { ...base, free: 2, cost: { ...idle, toCome: 100 } });
    expect(r.picks.map((p) => p.label.id).sort()).toEqual(['L2', 'L3']);
    // Nothing to come: the cheapest go at once whatever the horizon, as before.
    expect(selectForAp(work, { ...base, free: 2, cost: { ...idle, toCome: 0 } }).picks.map((p) => p.label.id)).toEqual(['L0', 'L2']);
    // Only known wakes and work to come: nothing staged, the pass looks again when L0 enters the horizon.
    const none = selectForAp(work.slice(0, 2), { ...base, free: 2, cost: { ...idle, toCome: 100 } });
    expect(none.picks).toEqual([]);
    expect(none.nextAt).toBe(T0 + 5_000);
  });

  it('an urgent timed picture (cost −1) goes first', () => {
    costs.clear();
    const work = [label(0), label(1), label(2, { needsSend: false, confirmedHash: 'bbbbbbbbbbbbbbbb', nextHash: 'cccccccccccccccc', nextAt: T0 + 50_000 })];
    costs.set('L0', 500);
    costs.set('L1', 600);
    costs.set('L2', -1);
    const r = selectForAp(work, { ...base, free: 2 });
    expect(r.picks.map((p) => [p.label.id, p.mode])).toEqual([
      ['L2', 'timed'],
      ['L0', 'now'],
    ]);
  });

  it('selectByCost alone: nothing eligible while the AP is busy, nothing picked', () => {
    const r = selectByCost([{ l: label(1), mode: 'now' }], 3, T0, { of: () => 10_000, horizonMs: 4_000, busy: 2 });
    expect(r.picks).toEqual([]);
    expect(r.held).toBe(1);
    expect(r.nextAt).toBe(T0 + 6_000);
  });

  it('an idle AP never waits for the horizon: the cheapest go at once (a wrong prediction never stalls the store)', () => {
    const r = selectByCost(
      [5, 1, 2, 3].map((i) => ({ l: label(i), mode: 'now' as const })),
      2,
      T0,
      { of: (l) => (l.id === 'L1' ? Infinity : Number(l.id.slice(1)) * 10_000), horizonMs: 4_000, busy: 0 },
    );
    expect(r.picks.map((p) => p.label.id)).toEqual(['L2', 'L3']);
  });
});

describe('D107 long panel refreshes go first among the eligible (Jackson\'s rule)', () => {
  // Types (firmware-protocol label-types.ts): 3 = 2.9" BWR (partial 1 s, full 15 s), 4 = 4.2" BWRY (25 s, no
  // partial refresh), 5 = 7.5" BWR (30 s, no partial), 1 = 1.54" BW (partial 1 s, full 2 s).
  it('expects a partial refresh for a delta where the type has one, the full refresh otherwise', () => {
    expect(expectedRefreshMs(label(1, { labelType: 3 }))).toBe(1_000);
    expect(expectedRefreshMs(label(1, { labelType: 3, confirmedHash: null }))).toBe(15_000);
    expect(expectedRefreshMs(label(1, { labelType: 4 }))).toBe(25_000);
    expect(expectedRefreshMs(label(1, { labelType: 5 }))).toBe(30_000);
    expect(expectedRefreshMs(label(1, { labelType: 1, confirmedHash: null }))).toBe(2_000);
    expect(expectedRefreshMs(label(1, { labelType: null }))).toBe(0);
    // Both pictures planned here: equal colour planes refresh partially, a changed red plane fully (§6.3.2).
    expect(expectedRefreshMs(label(1, { labelType: 3, desiredColour: 5, confirmedColour: 5 }))).toBe(1_000);
    expect(expectedRefreshMs(label(1, { labelType: 3, desiredColour: 5, confirmedColour: 6 }))).toBe(15_000);
    expect(expectedRefreshMs(label(1, { labelType: 3, desiredColour: 5, confirmedColour: null }))).toBe(1_000);
  });

  const cands = [
    { l: label(1, { labelType: 3 }), cost: 500 },
    { l: label(2, { labelType: 3 }), cost: 800 },
    { l: label(3, { labelType: 4 }), cost: 3_000 },
    { l: label(4, { labelType: 5 }), cost: 8_000 },
    // Beyond the horizon: a long refresh does not make it eligible, so it takes no slot for longer than others do.
    { l: label(5, { labelType: 5 }), cost: 12_000 },
  ];
  const costOf = (l: Readonly<LabelRecord>) => cands.find((c) => c.l.id === l.id)!.cost;
  const pick = (refresh: boolean) =>
    selectByCost(
      cands.map((c) => ({ l: c.l, mode: 'now' as const })),
      3,
      T0,
      { of: costOf, horizonMs: 9_000, busy: 10, ...(refresh ? { refreshMs: expectedRefreshMs } : {}) },
    ).picks.map((p) => p.label.id);

  it('without refresh times the cheapest slot times win; with them the 30 s and 25 s panels go before 1 s ones', () => {
    expect(pick(false)).toEqual(['L1', 'L2', 'L3']);
    // Keys: L1 500 − 1,000, L2 800 − 1,000, L3 3,000 − 9,000 (25 s capped at the horizon), L4 8,000 − 9,000.
    expect(pick(true)).toEqual(['L3', 'L4', 'L1']);
  });

  it('eligibility stays the slot time: with nothing else, a long refresh beyond the horizon waits', () => {
    const r = selectByCost([{ l: cands[4]!.l, mode: 'now' }], 3, T0, { of: costOf, horizonMs: 9_000, busy: 10, refreshMs: expectedRefreshMs });
    expect(r.picks).toEqual([]);
    expect(r.nextAt).toBe(T0 + 3_000);
  });
});
