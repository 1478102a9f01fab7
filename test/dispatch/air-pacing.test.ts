/**
 * Staging paced by air time, and misses told from deferrals (protocol §5.6.2, §9.1.1, §9.5.2; D57–D58), on injected
 * time: a deferral (a short nextWakeS) is never a miss; a true miss is told apart by when the label woke against the
 * staging; a transfer's air time follows the §9.5.2 formulas and the AP's rate is learnt from the awake times of the
 * exchanges that took a transfer; the selection stages no more expected air time within the horizon than the
 * channel carries, yet an AP with nothing expected is never left idle and an urgent timed picture always goes.
 */
import { describe, expect, it } from 'vitest';
import { AIR_COMMIT, selectByCost } from '../../src/domain/dispatch/dispatcher.js';
import { ApAirRate, PRIOR_MS_PER_UNIT, transferUnits } from '../../src/domain/dispatch/air-time.js';
import { missCause, wakeShare } from '../../src/domain/dispatch/wake-reports.js';
import type { LabelRecord } from '../../src/domain/labels/label-store.js';
import { selectionLabel } from './selection-label.js';

const T0 = Date.UTC(2026, 10, 30, 11, 0);

const label = (id: number) => selectionLabel(id, T0 - 1_000);

describe('misses and deferrals (D57)', () => {
  const nominal = 30_000;
  const staged = { heldAt: T0 + 400, windowA: T0 + 1_000 };

  it('a short nextWakeS is a deferral whenever the label woke: the AP keeps the transfer (§9.1.1)', () => {
    expect(missCause({ wokeAt: T0 + 2_000, toldMs: 4_000 }, nominal, staged)).toBe('deferral');
    expect(missCause({ wokeAt: T0 + 200, toldMs: 1_000 }, nominal, staged)).toBe('deferral');
    // Just under the usual sleep (90 %) is still one: the AP never tells a longer sleep than the usual one.
    expect(missCause({ wokeAt: T0 + 2_000, toldMs: 26_000 }, nominal, staged)).toBe('deferral');
  });

  it('a normal sleep: woke before the AP held the blocks (inside or before its window) or while it held them', () => {
    expect(missCause({ wokeAt: T0 + 300, toldMs: nominal }, nominal, { heldAt: T0 + 400, windowA: T0 + 100 })).toBe('missStaging');
    expect(missCause({ wokeAt: T0 + 300, toldMs: nominal }, nominal, staged)).toBe('missEarly');
    expect(missCause({ wokeAt: T0 + 500, toldMs: nominal }, nominal, staged)).toBe('missHeld');
    // Still being sent (held at Infinity): not held, whenever it woke.
    expect(missCause({ wokeAt: T0 + 5_000, toldMs: nominal }, nominal, { heldAt: Infinity, windowA: T0 })).toBe('missStaging');
  });

  it('before the usual sleep is known nothing counts as a deferral', () => {
    expect(missCause({ wokeAt: T0 + 2_000, toldMs: 4_000 }, 0, staged)).toBe('missHeld');
  });
});

describe('air time of a transfer (§9.5.2, D58)', () => {
  const delta = { baseHash: '1111111111111111', region: { x: 8, y: 16, width: 64, height: 32 }, displayAt: 0, page: 0, totalSize: 113 };

  it('matches the §9.5.2 example: a 2.9" CTX price change, 300 units with RADIO_PENDING, 253 with RADIO_OFFER', () => {
    expect(transferUnits(delta, false)).toBe(300);
    expect(transferUnits(delta, true)).toBe(253);
  });

  it('the AP rate starts at the reference 5,000 B/s and learns the channel from awake times', () => {
    const r = new ApAirRate();
    expect(r.msPerUnit).toBe(PRIOR_MS_PER_UNIT);
    const before = r.ms(253);
    // A channel 1.5 × slower than the reference: every exchange that took a 253-unit transfer lasted 1.5 × as long.
    for (let i = 0; i < 200; i++) r.observe(253, 1.5 * before);
    expect(r.msPerUnit).toBeGreaterThan(0.29);
    expect(r.msPerUnit).toBeLessThan(0.31);
    // One exchange that lasted a minute (a resumed transfer) moves the rate by little.
    const rate = r.msPerUnit;
    r.observe(253, 60_000);
    expect(r.msPerUnit).toBeLessThan(rate * 1.2);
    // Saturated or empty observations say nothing.
    r.observe(253, 0xffff);
    r.observe(0, 500);
    expect(r.samples).toBe(201);
  });

  it('the mean transfer follows the sizes encoded for the AP', () => {
    const r = new ApAirRate();
    r.noteTransfer(1_000);
    expect(r.meanTransferMs).toBeCloseTo(r.ms(1_000));
    for (let i = 0; i < 200; i++) r.noteTransfer(250);
    expect(r.meanTransferMs).toBeLessThan(r.ms(260));
  });
});

describe('wake share within the horizon (D58)', () => {
  const c = { now: T0, knownUntil: T0, withinMs: 4_000, unknownMs: 15_000 };

  it('a window inside the horizon counts fully, half inside by half, beyond it not at all', () => {
    expect(wakeShare({ a: T0 + 1_000, b: T0 + 3_000 }, c)).toBe(1);
    expect(wakeShare({ a: T0 + 2_000, b: T0 + 6_000 }, c)).toBe(0.5);
    expect(wakeShare({ a: T0 + 5_000, b: T0 + 11_000 }, c)).toBe(0);
  });

  it('a label not reported awake up to the last report wakes in the rest of its window', () => {
    // Window [−2 s, +2 s]; the AP's report of now shows no wake: the label wakes in [now, +2 s].
    expect(wakeShare({ a: T0 - 2_000, b: T0 + 2_000 }, c)).toBe(1);
    // A report 1 s old: a quarter of the window may have passed unseen, not all of it is ahead.
    expect(wakeShare({ a: T0 - 2_000, b: T0 + 6_000 }, { ...c, knownUntil: T0 - 1_000 })).toBeCloseTo(4_000 / 7_000);
  });

  it('a window that passed counts as waking now (a deferral or a report on the way); none: spread over a sleep', () => {
    expect(wakeShare({ a: T0 - 6_000, b: T0 - 100 }, c)).toBe(1);
    expect(wakeShare(null, c)).toBeCloseTo(4_000 / 30_000);
  });
});

describe('selection paced by air time (D58)', () => {
  const horizonMs = 4_000;
  const costs = (l: Readonly<LabelRecord>) => Number(l.id.slice(1)) * 100;
  const cands = Array.from({ length: 30 }, (_, i) => ({ l: label(i), mode: 'now' as const }));

  it('stages in ascending cost until the channel time of the horizon is taken', () => {
    // 180 ms a transfer (a full image), each sure to wake within the horizon; 1 s already expected on air.
    const air = { budgetMs: AIR_COMMIT * horizonMs, committedMs: 1_000, of: () => 180 };
    const r = selectByCost(cands, 64, T0, { of: costs, horizonMs, busy: 5, air });
    const fit = Math.floor((AIR_COMMIT * horizonMs - 1_000) / 180);
    // Only the 30 candidates within the horizon (cost ≤ 4 s) are eligible; the budget takes fewer.
    expect(r.picks).toHaveLength(fit);
    expect(r.picks.map((p) => p.label.id)).toEqual(cands.slice(0, fit).map((c) => c.l.id));
    expect(r.held).toBe(30 - fit);
  });

  it('small transfers fill more of the free slots than large ones', () => {
    const large = selectByCost(cands, 64, T0, { of: costs, horizonMs, busy: 1, air: { budgetMs: 4_800, committedMs: 0, of: () => 180 } });
    const small = selectByCost(cands, 64, T0, { of: costs, horizonMs, busy: 1, air: { budgetMs: 4_800, committedMs: 0, of: () => 60 } });
    expect(large.picks.length).toBeLessThan(small.picks.length);
    expect(small.picks).toHaveLength(30);
  });

  it('a full budget holds everything but an urgent timed picture; an AP with nothing expected takes one', () => {
    const urgent = (l: Readonly<LabelRecord>) => (l.id === 'L7' ? -1 : costs(l));
    const full = selectByCost(cands, 64, T0, { of: urgent, horizonMs, busy: 10, air: { budgetMs: 4_800, committedMs: 4_800, of: () => 180 } });
    expect(full.picks.map((p) => p.label.id)).toEqual(['L7']);
    const idle = selectByCost(cands, 64, T0, { of: costs, horizonMs, busy: 0, air: { budgetMs: 100, committedMs: 0, of: () => 180 } });
    expect(idle.picks.map((p) => p.label.id)).toEqual(['L0']);
  });
});
