import { describe, expect, it } from 'vitest';
import { lowestPriorPrice, type PriceHistoryEntry } from '../../src/domain/pricing/lowest-prior-price.js';

const DAY = 86_400_000;
/** Reduction starts 2026-11-24 00:00 UTC. */
const START = Date.UTC(2026, 10, 24);
const daysBefore = (d: number) => START - d * DAY;

describe('lowestPriorPrice (PAngV §11)', () => {
  const cases: [string, PriceHistoryEntry[], number | undefined, Parameters<typeof lowestPriorPrice>[2]?][] = [
    ['plain reduction: one regular price for months', [{ cents: 249, from: daysBefore(200) }, { cents: 199, from: START }], 249],
    ['a cheaper price 20 days ago counts', [
      { cents: 249, from: daysBefore(100) },
      { cents: 229, from: daysBefore(20) },
      { cents: 249, from: daysBefore(13) },
      { cents: 199, from: START },
    ], 229],
    ['a cheaper price 40 days ago that ended 35 days ago is ignored', [
      { cents: 249, from: daysBefore(100) },
      { cents: 179, from: daysBefore(40) },
      { cents: 249, from: daysBefore(35) },
      { cents: 199, from: START },
    ], 249],
    ['a price set 40 days ago and still in force at the window start counts', [
      { cents: 249, from: daysBefore(100) },
      { cents: 219, from: daysBefore(40) },
      { cents: 249, from: daysBefore(10) },
      { cents: 199, from: START },
    ], 219],
    ['a price that ended exactly at the window start does not count', [
      { cents: 179, from: daysBefore(45) },
      { cents: 249, from: daysBefore(30) },
    ], 249],
    ['a price that began in the last millisecond of the window counts', [
      { cents: 249, from: daysBefore(90) },
      { cents: 149, from: START - 1 },
    ], 149],
    ['the reduced price itself (from the start on) is not prior', [{ cents: 249, from: daysBefore(60) }, { cents: 99, from: START }, { cents: 89, from: START + DAY }], 249],
    ['stepwise (§11(2)): later steps are measured before the first step', [
      { cents: 299, from: daysBefore(90) },
      { cents: 269, from: daysBefore(10) }, // first step
      { cents: 239, from: daysBefore(5) }, // second step
      { cents: 199, from: START }, // third step: the one being announced now
    ], 299, { stepwise: { firstStepStart: daysBefore(10) } }],
    ['without the stepwise option the second step would be the reference', [
      { cents: 299, from: daysBefore(90) },
      { cents: 269, from: daysBefore(10) },
      { cents: 239, from: daysBefore(5) },
      { cents: 199, from: START },
    ], 239],
    ['short history (product listed 12 days ago) uses what is known', [{ cents: 349, from: daysBefore(12) }, { cents: 299, from: daysBefore(4) }], 299],
    ['no price known before the reduction → undefined', [{ cents: 199, from: START }], undefined],
    ['empty history → undefined', [], undefined],
    ['unsorted input is ordered by time', [
      { cents: 199, from: START },
      { cents: 229, from: daysBefore(20) },
      { cents: 249, from: daysBefore(100) },
      { cents: 249, from: daysBefore(13) },
    ], 229],
    ['two entries at the same instant: the later one is in force', [{ cents: 99, from: daysBefore(50) }, { cents: 249, from: daysBefore(50) }], 249],
    ['a 7-day window', [{ cents: 249, from: daysBefore(30) }, { cents: 229, from: daysBefore(10) }, { cents: 239, from: daysBefore(8) }], 239, { days: 7 }],
  ];
  it.each(cases)('%s', (_name, history, expected, opts) => {
    expect(lowestPriorPrice(history, START, opts)).toBe(expected);
  });

  it('refuses malformed history with a stable code', () => {
    expect(() => lowestPriorPrice([{ cents: 1.5, from: 0 }], START)).toThrow(/LOWEST_PRIOR_PRICE_INVALID_INPUT/);
  });
});
