/**
 * What the label rules want for one product at an instant (issue 14, docs/decisions.md D49–D50). Pure: the facts,
 * the rules, the effects in force and the clock go in, the wanted effects come out; the engine (rule-engine.ts)
 * compares them with the stored ones and writes the difference. Same input, same output — time windows and DST days
 * included (test/rules/rule-eval.test.ts).
 *
 * Timing: an effect that starts or ends because of an event (stock fell, a lot arrived, restock) switches at
 * `switchAt`, the first whole minute at least the lead time ahead, so the till (price feed) and the labels (timed
 * display, D13) can switch at the same instant. An effect whose instant is known from the calendar (a window's
 * start and end, the day a best-before date comes within reach) switches exactly then.
 */
import type { LabelRule } from '#contracts';
import { addDays, isoWeekday, localDateOf, localInstant, parseLocalDate, startOfLocalDay, type LocalDate } from './store-time.js';

export interface ProductFacts {
  gtin: string;
  category: string | null;
  regularCents: number;
  stock: { quantity: number; state: string } | null;
  /** Earliest best-before date of the lots on hand, YYYY-MM-DD. */
  earliestBestBefore: string | null;
}

export type EffectKind = 'low-stock' | 'short-dated' | 'out-of-stock';

export interface Effect {
  ruleId: string;
  kind: EffectKind;
  status: 'active' | 'refused';
  /** The price the rule sets (null: a picture, not a price). */
  cents: number | null;
  startAt: number;
  /** Exclusive; null = until further notice (restock, lot gone). */
  endAt: number | null;
  /** The line printed instead of §11 (short-dated, PAngV §11(4) no. 2). */
  reason: string | null;
  badge: string | null;
  /** Kind-specific: the out-of-stock picture (text, url, template) or the refusing guard. */
  detail: Record<string, unknown> | null;
}

export const DEFAULT_SHORT_DATED_REASON = 'wegen kurzer Haltbarkeit';

export function targets(rule: LabelRule, p: Pick<ProductFacts, 'gtin' | 'category'>): boolean {
  const byGtin = rule.gtins?.includes(p.gtin) ?? false;
  const byCategory = p.category !== null && (rule.categories?.includes(p.category) ?? false);
  if (rule.gtins === undefined && rule.categories === undefined) return true;
  return byGtin || byCategory;
}

/** The markdown price, rounded down by the rule (a markdown never costs more than its percentage says). */
export function roundMarkdown(regularCents: number, percentOff: number, rounding: 'cent' | 'down-5' | 'down-10' | 'end-9'): number {
  const exact = (regularCents * (100 - percentOff)) / 100;
  switch (rounding) {
    case 'cent':
      // Percentage reductions round half up to the cent, as tills do (price-resolver.ts).
      return Math.round(exact);
    case 'down-5':
      return Math.floor(exact / 5) * 5;
    case 'down-10':
      return Math.floor(exact / 10) * 10;
    case 'end-9': {
      // The highest price ending in 9 cents not above the exact one (1,34 → 1,29; 1,39 → 1,39).
      const c = Math.floor(exact);
      const r = c - ((c % 10) + 1) % 10;
      return Math.max(0, c % 10 === 9 ? c : r);
    }
  }
}

/** True while the stored effect holds (started or pending, not ended). */
function live(e: Effect | undefined, now: number): e is Effect {
  return e !== undefined && (e.endAt === null || e.endAt > now);
}

/** The first occurrence of the daily window that still leaves time after `from`: [start, end). */
export function nextWindow(w: { from: string; to: string; days?: number[] | undefined }, from: number, timeZone: string): { start: number; end: number } | null {
  const [fh, fm] = w.from.split(':').map(Number) as [number, number];
  const [th, tm] = w.to.split(':').map(Number) as [number, number];
  const today = localDateOf(from, timeZone);
  for (let i = -1; i <= 8; i++) {
    const d: LocalDate = addDays(today, i);
    if (w.days && !w.days.includes(isoWeekday(d))) continue;
    const start = localInstant(d, fh, fm, timeZone);
    const end = localInstant(d, th, tm, timeZone);
    if (end > from && end > start) return { start, end };
  }
  return null;
}

export interface EvalInput {
  rules: readonly LabelRule[];
  timeZone: string;
  facts: ProductFacts;
  /** The effects stored for this product, by rule id. */
  current: ReadonlyMap<string, Effect>;
  now: number;
  /** The minute an event-driven switch happens (ceilMinute(now + lead)). */
  switchAt: number;
}

export function evaluateRules(input: EvalInput): Effect[] {
  const { rules, timeZone, facts, current, now, switchAt } = input;
  const out: Effect[] = [];
  const guards = rules.filter((r) => r.kind === 'price-guard' && targets(r, facts));
  for (const rule of rules) {
    if (!targets(rule, facts)) continue;
    const cur = current.get(rule.id);
    const latched = live(cur, now);
    // An effect that already started keeps its start; otherwise it starts at the next switch minute.
    const startFrom = (earliest: number) => (latched && cur.startAt <= Math.max(now, earliest) ? cur.startAt : Math.max(earliest, switchAt));
    switch (rule.kind) {
      case 'low-stock': {
        const q = facts.stock?.quantity;
        if (q === undefined) break;
        // Hysteresis: on at ≤ threshold, off only above releaseAbove ("solange Vorrat reicht").
        const low = q <= rule.threshold || (latched && q <= rule.releaseAbove);
        if (!low) break;
        const cents = rule.promoPriceCents ?? Math.round((facts.regularCents * (100 - (rule.percentOff ?? 0))) / 100);
        const base = { ruleId: rule.id, kind: 'low-stock' as const, status: 'active' as const, cents, reason: null, badge: rule.badge ?? null, detail: null };
        if (!rule.window) {
          out.push({ ...base, startAt: startFrom(now), endAt: null });
          break;
        }
        // The window occurrence that still has time after the switch minute.
        const w = nextWindow(rule.window, latched ? Math.min(now + 1, switchAt) : switchAt, timeZone);
        if (!w) break;
        const startAt = w.start <= now ? startFrom(w.start) : w.start;
        if (startAt >= w.end) break;
        out.push({ ...base, startAt, endAt: w.end });
        break;
      }
      case 'short-dated': {
        if (!facts.earliestBestBefore) break;
        const bb = parseLocalDate(facts.earliestBestBefore);
        // From the start of the day the date comes within reach, to the end of the best-before day (local days).
        const from = startOfLocalDay(addDays(bb, -rule.withinDays), timeZone);
        const until = startOfLocalDay(addDays(bb, 1), timeZone);
        if (until <= now) break;
        const startAt = from > now ? from : startFrom(from);
        if (startAt >= until) break;
        out.push({
          ruleId: rule.id,
          kind: 'short-dated',
          status: 'active',
          cents: roundMarkdown(facts.regularCents, rule.percentOff, rule.rounding),
          startAt,
          endAt: until,
          reason: rule.reason ?? DEFAULT_SHORT_DATED_REASON,
          badge: rule.badge ?? null,
          detail: { bestBefore: facts.earliestBestBefore },
        });
        break;
      }
      case 'out-of-stock': {
        const s = facts.stock;
        if (!s || (s.quantity > 0 && s.state !== 'out_of_stock')) break;
        out.push({
          ruleId: rule.id,
          kind: 'out-of-stock',
          status: 'active',
          cents: null,
          startAt: startFrom(now),
          endAt: null,
          reason: null,
          badge: null,
          detail: { text: rule.text, template: rule.template, ...(rule.shopUrl ? { url: rule.shopUrl } : {}) },
        });
        break;
      }
      case 'price-guard':
        break;
    }
  }
  // Price guards: a rule price outside [floor, ceiling] is not applied; the refusal is kept (raised once).
  return out.map((e) => {
    if (e.cents === null) return e;
    for (const g of guards) {
      if (g.kind !== 'price-guard') continue;
      const floor = Math.max(g.floorCents ?? 0, g.costCents?.[facts.gtin] ?? 0);
      const ceiling = g.ceilingCents ?? Number.POSITIVE_INFINITY;
      if (e.cents < floor || e.cents > ceiling) {
        const prior = current.get(e.ruleId);
        return {
          ...e,
          status: 'refused' as const,
          // A refusal has no schedule of its own: it holds from when it was first seen.
          startAt: prior?.status === 'refused' && live(prior, now) ? prior.startAt : now,
          endAt: null,
          detail: { guard: g.id, floorCents: floor, ...(Number.isFinite(ceiling) ? { ceilingCents: ceiling } : {}) },
        };
      }
    }
    return e;
  });
}
