/**
 * The label-rule contract (issue 14, docs/decisions.md D49): HQ sends a store's or the whole chain's rule set as one
 * versioned event; the edge replaces the set of that scope atomically and evaluates the rules itself, so they keep
 * working while the uplink is down. Lots carry the best-before dates the short-dated markdown acts on.
 *
 * Kept apart from event-schemas.ts (which imports it) so the envelope file stays small and merges stay easy.
 */
import { z } from 'zod';
import { gtinCheckDigitOk } from './gtin.js';

/** Same rule as event-schemas.ts' GtinSchema (not imported from there: that file imports this one). */
const GtinSchema = z
  .string()
  .regex(/^\d{8}$|^\d{12,14}$/, 'GTIN must be 8, 12, 13 or 14 digits')
  .refine(gtinCheckDigitOk, 'GTIN check digit is wrong');

const cents = z.number().int().min(0).max(100_000_000);
const ruleId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'rule id: 1–64 of [a-z0-9-], starting with a letter or digit');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM');

/** Which products a rule acts on: listed GTINs and/or categories; neither = every product. */
const target = {
  gtins: z.array(GtinSchema).max(100_000).optional(),
  categories: z.array(z.string().min(1).max(100)).max(1000).optional(),
};

/** A daily window in store-local time (Europe/Berlin by default), e.g. the last two hours before closing. */
export const RuleWindowSchema = z
  .object({
    from: hhmm,
    to: hhmm,
    /** ISO weekdays 1 (Monday) – 7 (Sunday) the window opens on; default every day. */
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7).optional(),
  })
  .refine((w) => w.from < w.to, { message: 'the window must end after it starts on the same day', path: ['to'] });

export const LowStockRuleSchema = z
  .object({
    id: ruleId,
    kind: z.literal('low-stock'),
    ...target,
    /** Applies when stock falls to this quantity or below … */
    threshold: z.number().int().min(0).max(10_000_000),
    /** … until it is back above this one (hysteresis: releaseAbove ≥ threshold). */
    releaseAbove: z.number().int().min(0).max(10_000_000),
    promoPriceCents: cents.optional(),
    percentOff: z.number().gt(0).lt(100).optional(),
    badge: z.string().max(24).optional(),
    window: RuleWindowSchema.optional(),
  })
  .refine((r) => (r.promoPriceCents === undefined) !== (r.percentOff === undefined), { message: 'exactly one of promoPriceCents or percentOff', path: ['promoPriceCents'] })
  .refine((r) => r.releaseAbove >= r.threshold, { message: 'releaseAbove must be at least threshold', path: ['releaseAbove'] });

/** How a computed markdown price is rounded (always down: a markdown never costs more than the percentage says). */
export const RoundingSchema = z.enum(['cent', 'down-5', 'down-10', 'end-9']);

export const ShortDatedRuleSchema = z.object({
  id: ruleId,
  kind: z.literal('short-dated'),
  ...target,
  /** Applies when the earliest best-before date on the shelf is at most this many days away (0 = on the day). */
  withinDays: z.number().int().min(0).max(60),
  percentOff: z.number().gt(0).lt(100),
  rounding: RoundingSchema.default('cent'),
  /** Printed instead of the §11 line (PAngV §11(4) no. 2); default "wegen kurzer Haltbarkeit". */
  reason: z.string().min(1).max(60).optional(),
  badge: z.string().max(24).optional(),
});

export const PriceGuardRuleSchema = z
  .object({
    id: ruleId,
    kind: z.literal('price-guard'),
    ...target,
    floorCents: cents.optional(),
    ceilingCents: cents.optional(),
    /** Cost price per GTIN: no rule may go below it. */
    costCents: z.record(z.string().regex(/^\d{8,14}$/), cents).optional(),
  })
  .refine((r) => r.floorCents !== undefined || r.ceilingCents !== undefined || r.costCents !== undefined, { message: 'a guard needs a floor, a ceiling or costs' });

export const OutOfStockRuleSchema = z.object({
  id: ruleId,
  kind: z.literal('out-of-stock'),
  ...target,
  text: z.string().min(1).max(80).default('Zurzeit nicht vorrätig – online bestellbar'),
  /** The web shop's product page; {gtin} and {store} are replaced. Printed as a QR code. */
  shopUrl: z.string().url().max(300).optional(),
  template: z.string().regex(/^[a-z0-9-]+$/).default('out-of-stock'),
});

export const LabelRuleSchema = z.union([LowStockRuleSchema, ShortDatedRuleSchema, PriceGuardRuleSchema, OutOfStockRuleSchema]);
export type LabelRule = z.infer<typeof LabelRuleSchema>;

export const RuleSetDataSchema = z
  .object({
    /** "chain": the chain's set (every store); "store": this store's own set, whose rules replace chain rules of the same id. */
    scope: z.enum(['chain', 'store']),
    rules: z.array(LabelRuleSchema).max(1000),
    /** Store-local time zone of windows and best-before days. */
    timeZone: z.string().min(1).max(64).default('Europe/Berlin'),
  })
  .refine((s) => new Set(s.rules.map((r) => r.id)).size === s.rules.length, { message: 'rule ids must be unique within a set', path: ['rules'] });

export const LotDataSchema = z.object({
  gtin: GtinSchema,
  lotId: z.string().min(1).max(64),
  /** Best-before (or use-by) date as printed, a local calendar day. */
  bestBefore: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** Units of this lot on hand; 0 = the lot is gone. */
  quantity: z.number().int().min(0).max(10_000_000),
});
