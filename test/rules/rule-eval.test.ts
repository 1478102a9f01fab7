/**
 * Rule evaluation is a pure function of facts, rules, stored effects and the injected instant (issue 14): the same
 * input gives the same effects, time windows open and close at store-local wall time, and the DST days of
 * Europe/Berlin (29 March and 25 October 2026) move them with the clock, not by an hour.
 */
import { describe, expect, it } from 'vitest';
import { LabelRuleSchema, type LabelRule } from '#contracts';
import { evaluateRules, nextWindow, roundMarkdown, type Effect, type ProductFacts } from '../../src/domain/rules/rule-eval.js';
import { ceilMinute, localInstant } from '../../src/domain/rules/store-time.js';

const TZ = 'Europe/Berlin';
const rule = (r: unknown): LabelRule => LabelRuleSchema.parse(r);
const facts = (over: Partial<ProductFacts> = {}): ProductFacts => ({ gtin: '4006381333931', category: 'Backwaren', regularCents: 249, stock: { quantity: 20, state: 'in_stock' }, earliestBestBefore: null, ...over });
const at = (iso: string) => Date.parse(iso);
const run = (rules: LabelRule[], f: ProductFacts, now: number, current = new Map<string, Effect>()) => evaluateRules({ rules, timeZone: TZ, facts: f, current, now, switchAt: ceilMinute(now + 60_000) });

const evening = rule({ id: 'low-stock-evening', kind: 'low-stock', categories: ['Backwaren'], threshold: 5, releaseAbove: 10, promoPriceCents: 149, window: { from: '19:30', to: '21:30' } });
const always = rule({ id: 'low-stock', kind: 'low-stock', threshold: 5, releaseAbove: 10, percentOff: 40 });

describe('low-stock promotion', () => {
  it('starts at the switch minute when stock falls to the threshold, keeps its start, ends above releaseAbove (hysteresis)', () => {
    const now = at('2026-11-30T14:00:10Z');
    const [e] = run([always], facts({ stock: { quantity: 5, state: 'low' } }), now);
    expect(e).toMatchObject({ ruleId: 'low-stock', status: 'active', cents: 149, startAt: at('2026-11-30T14:02:00Z'), endAt: null });
    const current = new Map([[e!.ruleId, e!]]);
    // Stock 8 (above threshold, not above releaseAbove): still on, same start.
    expect(run([always], facts({ stock: { quantity: 8, state: 'in_stock' } }), now + 600_000, current)[0]).toEqual(e);
    // Above releaseAbove: no longer wanted.
    expect(run([always], facts({ stock: { quantity: 11, state: 'in_stock' } }), now + 600_000, current)).toEqual([]);
    // Without the latch, 8 does not start it.
    expect(run([always], facts({ stock: { quantity: 8, state: 'in_stock' } }), now)).toEqual([]);
  });

  it('applies only within its window, in Berlin wall time, and is scheduled for the window when stock is low before it', () => {
    const low = facts({ stock: { quantity: 3, state: 'low' } });
    // 15:00 CET: the window 19:30–21:30 CET = 18:30–20:30 UTC lies ahead.
    expect(run([evening], low, at('2026-11-30T14:00:00Z'))[0]).toMatchObject({ startAt: at('2026-11-30T18:30:00Z'), endAt: at('2026-11-30T20:30:00Z'), cents: 149 });
    // 20:00 CET, inside: from the next switch minute to the window's end.
    expect(run([evening], low, at('2026-11-30T19:00:30Z'))[0]).toMatchObject({ startAt: at('2026-11-30T19:02:00Z'), endAt: at('2026-11-30T20:30:00Z') });
    // 21:29:30 CET: the switch minute lies past the window's end, so tomorrow's window.
    expect(run([evening], low, at('2026-11-30T20:29:30Z'))[0]).toMatchObject({ startAt: at('2026-12-01T18:30:00Z'), endAt: at('2026-12-01T20:30:00Z') });
    // A product of another category is not concerned.
    expect(run([evening], { ...low, category: 'Molkerei' }, at('2026-11-30T19:00:30Z'))).toEqual([]);
  });

  it('follows the clock change: 19:30 is 18:30 UTC in winter and 17:30 UTC in summer, on and around the DST days', () => {
    const w = { from: '19:30', to: '21:30' };
    // Spring forward, Sunday 29 March 2026 (02:00 CET → 03:00 CEST): that evening is already CEST.
    expect(nextWindow(w, at('2026-03-29T00:30:00Z'), TZ)).toEqual({ start: at('2026-03-29T17:30:00Z'), end: at('2026-03-29T19:30:00Z') });
    expect(nextWindow(w, at('2026-03-28T12:00:00Z'), TZ)).toEqual({ start: at('2026-03-28T18:30:00Z'), end: at('2026-03-28T20:30:00Z') });
    // Fall back, Sunday 25 October 2026 (03:00 CEST → 02:00 CET): that evening is CET.
    expect(nextWindow(w, at('2026-10-25T00:30:00Z'), TZ)).toEqual({ start: at('2026-10-25T18:30:00Z'), end: at('2026-10-25T20:30:00Z') });
    expect(nextWindow(w, at('2026-10-24T12:00:00Z'), TZ)).toEqual({ start: at('2026-10-24T17:30:00Z'), end: at('2026-10-24T19:30:00Z') });
    // A window across the skipped hour is moved by the gap (02:30 → 03:30 CEST); the repeated hour takes its first occurrence.
    expect(localInstant({ year: 2026, month: 3, day: 29 }, 2, 30, TZ)).toBe(at('2026-03-29T01:30:00Z'));
    expect(localInstant({ year: 2026, month: 10, day: 25 }, 2, 30, TZ)).toBe(at('2026-10-25T00:30:00Z'));
    // Weekdays: a Saturday-only window on Thursday 26 November 2026 is next on Saturday the 28th.
    expect(nextWindow({ ...w, days: [6] }, at('2026-11-26T12:00:00Z'), TZ)?.start).toBe(at('2026-11-28T18:30:00Z'));
  });

  it('is deterministic: the same input gives the same output', () => {
    const input = [[evening, always], facts({ stock: { quantity: 2, state: 'low' } }), at('2026-10-25T18:45:00Z')] as const;
    expect(run([...input[0]], input[1], input[2])).toEqual(run([...input[0]], input[1], input[2]));
  });
});

describe('short-dated markdown', () => {
  const fresh = rule({ id: 'short-dated-fresh', kind: 'short-dated', withinDays: 2, percentOff: 30, rounding: 'end-9' });

  it('runs from local midnight D days before the best-before date to the end of that day, rounded, with its reason', () => {
    const f = facts({ regularCents: 199, earliestBestBefore: '2026-12-03' });
    // 30 Nov: three days before; scheduled from 1 Dec 00:00 CET (= 30 Nov 23:00 UTC) to 4 Dec 00:00 CET.
    const [e] = run([fresh], f, at('2026-11-30T10:00:00Z'));
    expect(e).toMatchObject({ kind: 'short-dated', cents: 139, startAt: at('2026-11-30T23:00:00Z'), endAt: at('2026-12-03T23:00:00Z'), reason: 'wegen kurzer Haltbarkeit' });
    // Over the fall-back night the local day is 25 h long: the end is midnight CET, not 24 h after the start of day.
    const [d] = run([fresh], facts({ earliestBestBefore: '2026-10-25' }), at('2026-10-24T10:00:00Z'));
    expect(d!.endAt).toBe(at('2026-10-25T23:00:00Z'));
    // Past the best-before day: nothing.
    expect(run([fresh], f, at('2026-12-04T00:00:00Z'))).toEqual([]);
  });

  it('rounds down by the rule', () => {
    expect(roundMarkdown(199, 30, 'cent')).toBe(139);
    expect(roundMarkdown(249, 30, 'cent')).toBe(174);
    expect(roundMarkdown(249, 30, 'end-9')).toBe(169);
    expect(roundMarkdown(249, 30, 'down-10')).toBe(170);
    expect(roundMarkdown(249, 30, 'down-5')).toBe(170);
    expect(roundMarkdown(100, 1, 'end-9')).toBe(99);
    expect(roundMarkdown(100, 10, 'end-9')).toBe(89);
  });
});

describe('price guards and out of stock', () => {
  it('refuses a rule price below the floor or the cost, and keeps the refusal from when it was first seen', () => {
    const guard = rule({ id: 'guard', kind: 'price-guard', floorCents: 50, costCents: { '4006381333931': 160 } });
    const now = at('2026-11-30T14:00:00Z');
    const [e] = run([always, guard], facts({ stock: { quantity: 1, state: 'low' } }), now);
    expect(e).toMatchObject({ status: 'refused', cents: 149, startAt: now, detail: { guard: 'guard', floorCents: 160 } });
    expect(run([always, guard], facts({ stock: { quantity: 1, state: 'low' } }), now + 60_000, new Map([[e!.ruleId, e!]]))[0]).toEqual(e);
    const ceiling = rule({ id: 'ceiling', kind: 'price-guard', ceilingCents: 100 });
    expect(run([always, ceiling], facts({ stock: { quantity: 1, state: 'low' } }), now)[0]).toMatchObject({ status: 'refused', detail: { ceilingCents: 100 } });
  });

  it('shows the out-of-stock picture at quantity 0 and not after restock', () => {
    const oos = rule({ id: 'oos', kind: 'out-of-stock', shopUrl: 'https://shop.example.de/p/{gtin}' });
    const now = at('2026-11-30T14:00:00Z');
    expect(run([oos], facts({ stock: { quantity: 0, state: 'out_of_stock' } }), now)[0]).toMatchObject({ kind: 'out-of-stock', cents: null, detail: { url: 'https://shop.example.de/p/{gtin}', template: 'out-of-stock' } });
    expect(run([oos], facts({ stock: { quantity: 4, state: 'in_stock' } }), now)).toEqual([]);
  });
});
