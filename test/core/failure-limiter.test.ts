/** The failure limiter behind the HTTP auth brake (D27), on simulated time. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { FailureLimiter } from '../../src/core/failure-limiter.js';

const opts = { freeFailures: 3, baseDelayMs: 1_000, maxDelayMs: 8_000, forgetAfterMs: 60_000, maxKeys: 3 };

describe('FailureLimiter', () => {
  it('lets the free failures through, then doubles the delay up to the cap', () => {
    const clock = new ManualClock(0);
    const l = new FailureLimiter(clock, opts);
    expect([l.fail('a'), l.fail('a'), l.fail('a')]).toEqual([0, 0, 0]);
    expect(l.blockedForMs('a')).toBe(0);
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      delays.push(l.fail('a'));
      expect(l.blockedForMs('a')).toBe(delays[i]);
      clock.advance(delays[i]!);
      expect(l.blockedForMs('a')).toBe(0);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('keeps keys apart, clears on success, forgets idle keys', () => {
    const clock = new ManualClock(0);
    const l = new FailureLimiter(clock, opts);
    for (let i = 0; i < 4; i++) l.fail('a');
    expect(l.blockedForMs('a')).toBe(1_000);
    expect(l.blockedForMs('b')).toBe(0);
    l.succeed('a');
    expect(l.blockedForMs('a')).toBe(0);
    for (let i = 0; i < 4; i++) l.fail('c');
    clock.advance(61_000);
    expect(l.fail('c')).toBe(0); // forgotten: starts afresh
  });

  it('holds at most maxKeys keys, dropping the stalest', () => {
    const clock = new ManualClock(0);
    const l = new FailureLimiter(clock, opts);
    for (const k of ['a', 'b', 'c', 'd']) for (let i = 0; i < 4; i++) l.fail(k);
    expect(l.size).toBe(3);
    expect(l.blockedForMs('a')).toBe(0);
    expect(l.blockedForMs('d')).toBe(1_000);
  });
});
