/**
 * Wake-aware staging (D19), with injected time: the predictor learns a label's wake interval and phase from the
 * instants it was seen awake, predicts the next wake, and stages just before it. Jittered wakes, sparse observations
 * (a TIMER check-in is forwarded at most once per report interval) and a wrong estimate are covered; a label whose
 * wake cannot be predicted is staged at once.
 */
import { describe, expect, it } from 'vitest';
import { WakePredictor, approxGcd, type WakeState } from '../../src/domain/dispatch/wake-predictor.js';

const fresh = (): WakeState => ({ wakeAt: -1, wakeIntervalMs: 0, wakeSamples: 0 });
/** A deterministic pseudo-random sequence in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('wake predictor', () => {
  const opts = { leadMs: 1_000, maxIntervalMs: 150_000 };

  it('stages at once while nothing is known', () => {
    const p = new WakePredictor(opts);
    const s = fresh();
    expect(p.stageAt(s, 5_000)).toBe(5_000);
    p.observe(s, 0);
    // One sighting gives a phase but no interval.
    expect(p.nextWake(s, 5_000)).toBeNull();
    expect(p.stageAt(s, 5_000)).toBe(5_000);
  });

  it('learns the interval from two wakes and stages shortly before the next', () => {
    const p = new WakePredictor(opts);
    // Labels that wake like clockwork (the jitter learnt so far is small).
    p.jitter = 0.03;
    const s = fresh();
    p.observe(s, 100_000);
    p.observe(s, 130_000);
    expect(s.wakeIntervalMs).toBe(30_000);
    expect(p.nextWake(s, 140_000)).toBe(160_000);
    const at = p.stageAt(s, 140_000);
    expect(at).toBeLessThan(160_000 - 1_000);
    expect(at).toBeGreaterThan(140_000);
  });

  it('reduces a multiple of the interval (sparse TIMER check-ins) to the interval itself', () => {
    const p = new WakePredictor(opts);
    const s = fresh();
    p.observe(s, 0);
    p.observe(s, 90_000); // three wakes apart
    p.observe(s, 120_000); // the next one
    expect(s.wakeIntervalMs).toBe(30_000);
    expect(approxGcd(300_000, 210_000, 0.25, 2_000)).toBe(30_000);
  });

  it('refines a biased first estimate from the long spacings of TIMER reports (one per report interval)', () => {
    const p = new WakePredictor(opts);
    const s = fresh();
    const random = rng(3);
    // True wakes every 30 s ± 10 %.
    const wakes: number[] = [1_000];
    for (let i = 1; i < 60; i++) wakes.push(wakes[i - 1]! + 30_000 * (1 + 0.1 * (2 * random() - 1)));
    // A transfer result 1.5 s after wake 0 (its air time), the TRANSFER_DONE check-in at wake 1 …
    p.observe(s, wakes[0]! + 1_500);
    p.observe(s, wakes[1]!);
    expect(Math.abs(s.wakeIntervalMs - 30_000)).toBeLessThan(5_000);
    // … then a forwarded TIMER check-in every ~10 wakes (report interval 300 s).
    for (const i of [11, 21, 31, 41, 51]) p.observe(s, wakes[i]!);
    // The ambiguous long spacings do not corrupt the estimate (no collapse to a fraction of it).
    expect(Math.abs(s.wakeIntervalMs - 30_000)).toBeLessThan(3_500);
    // A label the edge sees wake now and then (the next transfer's result and check-in) is known precisely.
    p.observe(s, wakes[52]! + 1_000);
    p.observe(s, wakes[53]!);
    p.observe(s, wakes[54]!);
    const now = wakes[54]! + 5_000;
    const at = p.stageAt(s, now);
    expect(p.nextWake(s, now)).not.toBeNull();
    expect(at).toBeLessThan(wakes[55]!);
    expect(wakes[55]! - at).toBeLessThan(15_000);
  });

  it('does not trust an interval that may be a multiple of the report interval', () => {
    const p = new WakePredictor(opts);
    const s = fresh();
    p.observe(s, 0);
    p.observe(s, 310_000);
    expect(p.nextWake(s, 320_000)).toBeNull();
    expect(p.stageAt(s, 320_000)).toBe(320_000);
  });

  it('tracks jittered wakes: the predicted wake is within the stated uncertainty of the real one', () => {
    const p = new WakePredictor(opts);
    const s = fresh();
    const random = rng(7);
    let t = 0;
    const wakes: number[] = [];
    for (let i = 0; i < 40; i++) {
      t += 30_000 * (1 + 0.1 * (2 * random() - 1));
      wakes.push(t);
    }
    // Learn from the first 20 wakes, seen every other one.
    for (let i = 0; i < 20; i += 2) p.observe(s, wakes[i]!);
    p.observe(s, wakes[19]!);
    expect(s.wakeIntervalMs).toBeGreaterThan(27_000);
    expect(s.wakeIntervalMs).toBeLessThan(33_000);
    expect(p.jitter).toBeLessThan(0.15);
    const now = wakes[19]! + 5_000;
    const predicted = p.nextWake(s, now)!;
    expect(Math.abs(predicted - wakes[20]!)).toBeLessThan(6_000);
    // Staged before the real wake: the transfer is on the AP when the label asks.
    expect(p.stageAt(s, now)).toBeLessThan(wakes[20]!);
  });

  it('a wrong prediction costs at most one interval: a missed wake is followed by the next one', () => {
    const p = new WakePredictor(opts);
    p.jitter = 0.03;
    const s = fresh();
    p.observe(s, 0);
    p.observe(s, 30_000);
    // Just after the predicted wake at 60 s (which may still be happening): stage now.
    expect(p.stageAt(s, 60_500)).toBe(60_500);
    // Long after it: the next predicted wake, one interval later.
    expect(p.nextWake(s, 75_000)).toBe(90_000);
  });

  it('gives up predicting when the phase is blurred over the interval', () => {
    const p = new WakePredictor(opts);
    p.jitter = 0.1;
    const s = fresh();
    p.observe(s, 0);
    p.observe(s, 30_000);
    // 0.1 × 30 s × √n: after ~9 intervals four sigmas cover an interval.
    expect(p.nextWake(s, 60_000 + 30_000 * 10)).toBeNull();
  });
});
