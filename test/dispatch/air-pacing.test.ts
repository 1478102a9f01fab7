/**
 * Staging paced by air time, and misses told from deferrals (protocol §5.6.2, §9.1.1, §9.5.2; D57–D58), on injected
 * time: a deferral (a short nextWakeS) is never a miss; a true miss is told apart by when the label woke against the
 * staging; a transfer's air time follows the §9.5.2 formulas and the AP's rate is learnt from the awake times of the
 * exchanges that took a transfer; the selection stages, cheapest first, the labels expected to wake within the AP's
 * drain time (D91), yet an AP with nothing staged is never left idle and an urgent timed picture always goes.
 */
import { describe, expect, it } from 'vitest';
import { selectByCost, transferShape } from '../../src/domain/dispatch/dispatcher.js';
import { BLANK_HASH } from '#protocol';
import { ApAirRate, PRIOR_MS_PER_UNIT, stagingHorizonMs, transferUnits } from '../../src/domain/dispatch/air-time.js';
import { missCause } from '../../src/domain/dispatch/wake-reports.js';
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

  it('a normal sleep that began with a wake before the claim, reported after it, is a miss too (D91 missUnseen)', () => {
    // The staging cost gambled that the label had not woken since the AP's last report; it had. Without a cancel the
    // transfer would hold its slot for a whole sleep.
    expect(missCause({ wokeAt: T0 - 300, toldMs: nominal }, nominal, staged, T0)).toBe('missUnseen');
    expect(missCause({ wokeAt: T0 + 300, toldMs: nominal }, nominal, staged, T0)).toBe('missEarly');
    // A deferral stays a deferral whenever the label woke.
    expect(missCause({ wokeAt: T0 - 300, toldMs: 1_000 }, nominal, staged, T0)).toBe('deferral');
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

  it('§9.12 a burst after the offer saves block 0\'s request (8 bytes and a frame: 28 units); without an offer there is none', () => {
    expect(transferUnits(delta, true, true)).toBe(225);
    expect(transferUnits(delta, false, true)).toBe(300);
    // A payload that fits in the offer has no request to save.
    expect(transferUnits({ ...delta, totalSize: 60 }, true, true)).toBe(transferUnits({ ...delta, totalSize: 60 }, true));
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
    r.noteTransfer(1_000, 'full');
    expect(r.meanTransferMs.full).toBeCloseTo(r.ms(1_000));
    for (let i = 0; i < 200; i++) r.noteTransfer(250, 'full');
    expect(r.meanTransferMs.full).toBeLessThan(r.ms(260));
  });

  it('D123 full images and deltas keep their own means: a fill does not lengthen the repricing after it', () => {
    const r = new ApAirRate();
    for (let i = 0; i < 500; i++) r.noteTransfer(800, 'full');
    // No delta seen yet: the horizon falls back to its floor, not to the fill's 25 s.
    expect(r.meanTransferMs.delta).toBe(0);
    expect(stagingHorizonMs(64, r.meanTransferMs.delta, 4_000, 200)).toBe(4_200);
    expect(stagingHorizonMs(64, r.meanTransferMs.full, 4_000, 200)).toBeGreaterThan(20_000);
    // The first delta sets its mean at once.
    r.noteTransfer(200, 'delta');
    expect(r.meanTransferMs.delta).toBeCloseTo(r.ms(200));
    expect(r.meanTransferMs.full).toBeCloseTo(r.ms(800));
  });
});

describe('selection within the drain time of the AP (D91)', () => {
  const horizonMs = 4_000;
  const costs = (l: Readonly<LabelRecord>) => Number(l.id.slice(1)) * 100;
  const cands = Array.from({ length: 60 }, (_, i) => ({ l: label(i), mode: 'now' as const }));

  it('the horizon is twice the time the slots take to drain through the channel, at least the configured floor', () => {
    // 64 slots of 200-ms fill transfers drain in 12.8 s; of 70-ms delta transfers in 4.48 s; nothing known yet: 4 s.
    expect(stagingHorizonMs(64, 200, 4_000, 300)).toBe(25_600 + 300);
    expect(stagingHorizonMs(64, 70, 4_000, 300)).toBeCloseTo(8_960 + 300);
    expect(stagingHorizonMs(64, 20, 4_000, 300)).toBe(4_300);
    expect(stagingHorizonMs(64, 0, 4_000, 300)).toBe(4_300);
  });

  it('stages in ascending cost the labels within the horizon, at most the free slots', () => {
    const r = selectByCost(cands, 64, T0, { of: costs, horizonMs, busy: 5 });
    // Costs 0, 100, … 5,900 ms: the 41 up to 4 s are eligible.
    expect(r.picks.map((p) => p.label.id)).toEqual(cands.slice(0, 41).map((c) => c.l.id));
    expect(r.held).toBe(19);
    const few = selectByCost(cands, 10, T0, { of: costs, horizonMs, busy: 54 });
    expect(few.picks.map((p) => p.label.id)).toEqual(cands.slice(0, 10).map((c) => c.l.id));
    // The pass looks again when the next held label enters the horizon.
    expect(r.nextAt).toBe(T0 + 100);
  });

  it('a longer drain time fills more slots', () => {
    const short = selectByCost(cands, 64, T0, { of: costs, horizonMs: stagingHorizonMs(64, 25, 2_000, 0), busy: 0 });
    const long = selectByCost(cands, 64, T0, { of: costs, horizonMs: stagingHorizonMs(64, 100, 2_000, 0), busy: 0 });
    expect(short.picks).toHaveLength(33);
    expect(long.picks).toHaveLength(60);
  });

  it('D123 each candidate is held to the horizon of its own shape: a delta to the deltas\' drain time', () => {
    // Labels 0–29 show a picture (a delta comes), 30–59 show none (a full image); costs 0 … 5.9 s as above.
    const mixed = cands.map((c, i) => ({ l: i < 30 ? c.l : selectionLabel(i, T0 - 1_000, { confirmedHash: null }), mode: 'now' as const }));
    const horizons = { delta: 1_000, full: 4_000 };
    const r = selectByCost(mixed, 64, T0, { of: costs, horizonMs: horizons.full, horizonOf: (l) => horizons[transferShape(l)], busy: 5 });
    // Deltas up to 1 s (L0–L10), full images up to 4 s (L30–L40).
    expect(r.picks.map((p) => p.label.id)).toEqual([...cands.slice(0, 11), ...cands.slice(30, 41)].map((c) => c.l.id));
    expect(transferShape(selectionLabel(1, T0, { forceFull: true }))).toBe('full');
    expect(transferShape(selectionLabel(1, T0, { confirmedHash: BLANK_HASH }))).toBe('full');
  });

  it('an urgent timed picture goes first; an AP with nothing staged takes the cheapest whatever the horizon', () => {
    const urgent = (l: Readonly<LabelRecord>) => (l.id === 'L57' ? -1 : costs(l));
    expect(selectByCost(cands, 1, T0, { of: urgent, horizonMs, busy: 63 }).picks.map((p) => p.label.id)).toEqual(['L57']);
    const far = (l: Readonly<LabelRecord>) => 10_000 + costs(l);
    expect(selectByCost(cands, 64, T0, { of: far, horizonMs, busy: 0 }).picks).toHaveLength(60);
    expect(selectByCost(cands, 64, T0, { of: far, horizonMs, busy: 3 }).picks).toHaveLength(0);
  });
});
