/**
 * The event contract between HQ / the store's POS-ERP and the edge (published as docs/asyncapi.json and the OpenAPI
 * at GET /docs). Written once, here, as zod schemas; the HTTP intake, the MQTT intake, the HQ push tool and the docs
 * all derive from these.
 *
 * Every event carries an `id` (unique per sender, used for de-duplication), a `source` and a `version`: a number
 * that grows with every change of the same entity at the sender (epoch ms of the change is a good choice). The edge
 * applies an event once; a repeated id is a no-op, a version older than the newest seen for the entity is "stale".
 */
import { z } from 'zod';
import { gtinCheckDigitOk } from './gtin.js';
import { LotDataSchema, RuleSetDataSchema } from './rule-schemas.js';

export const GtinSchema = z
  .string()
  .regex(/^\d{8}$|^\d{12,14}$/, 'GTIN must be 8, 12, 13 or 14 digits')
  .refine(gtinCheckDigitOk, 'GTIN check digit is wrong');

export const LabelIdSchema = z.string().regex(/^[0-9A-F]{16}$/, 'label id must be 16 upper-case hex digits');
const cents = z.number().int().min(0).max(100_000_000);
const isoInstant = z.iso.datetime({ offset: true });

export const PackUnitSchema = z.enum(['g', 'kg', 'ml', 'cl', 'l', 'mm', 'cm', 'm', 'm2', 'm3', 'piece']);

export const ProductDataSchema = z.object({
  gtin: GtinSchema,
  sku: z.string().max(64).optional(),
  name: z.string().min(1).max(200),
  brand: z.string().max(100).optional(),
  /** Net quantity per pack and its unit: the basis of the unit price (PAngV §4/§5). */
  packSize: z
    .object({
      quantity: z.number().positive().max(1_000_000),
      unit: PackUnitSchema,
      /** Packs per multipack (6 × 1,5 l → multipack 6, quantity 1.5, unit l). */
      multipack: z.number().int().min(1).max(1000).optional(),
      /** Drained weight for food in a packing liquid (PAngV §5). */
      drainedQuantity: z.number().positive().optional(),
      /** As printed, if it differs from what the edge would print, e.g. "6 x 1,5 l". */
      display: z.string().max(40).optional(),
    })
    .optional(),
  /** Sold loose (by weight at the counter): the unit price may use 100 g / 100 ml (PAngV §5(2)). */
  loose: z.boolean().optional(),
  category: z.string().max(100).optional(),
  /** false = the store no longer sells it; its labels are reported by the audit. */
  active: z.boolean().optional(),
});

export const PriceDataSchema = z.object({
  gtin: GtinSchema,
  /** Regular total price in cents (EUR). */
  priceCents: cents,
  currency: z.literal('EUR').default('EUR'),
  /** When the price takes effect at the till; default: at once. */
  validFrom: isoInstant.optional(),
  /** true: an implausible value (a price of 0) is meant; without it such an event is refused with an alert. */
  intended: z.boolean().optional(),
});

export const StockDataSchema = z.object({
  gtin: GtinSchema,
  quantity: z.number().int().min(0).max(10_000_000),
  /** Overrides the state the edge derives from quantity and threshold. */
  state: z.enum(['in_stock', 'low', 'out_of_stock', 'online_only']).optional(),
  restockThreshold: z.number().int().min(0).max(10_000_000).optional(),
});

export const PromotionDataSchema = z
  .object({
    promotionId: z.string().min(1).max(64),
    name: z.string().max(100).optional(),
    gtins: z.array(GtinSchema).min(1).max(100_000),
    promoPriceCents: cents.optional(),
    percentOff: z.number().gt(0).lt(100).optional(),
    /** Start and end as instants with offset, e.g. 2026-11-27T00:00:00+01:00 (store local time). */
    start: isoInstant,
    end: isoInstant,
    badge: z.string().max(24).optional(),
    /** true withdraws the promotion. */
    cancelled: z.boolean().optional(),
    /** true: a promotion price of 0 is meant; without it such an event is refused with an alert. */
    intended: z.boolean().optional(),
  })
  .refine((p) => (p.promoPriceCents === undefined) !== (p.percentOff === undefined), {
    message: 'exactly one of promoPriceCents or percentOff',
    path: ['promoPriceCents'],
  })
  .refine((p) => Date.parse(p.end) > Date.parse(p.start), { message: 'end must be after start', path: ['end'] });

export const BindingDataSchema = z.object({
  labelId: LabelIdSchema,
  /** null unbinds the label. */
  gtin: GtinSchema.nullable(),
  template: z.string().regex(/^[a-z0-9-]+$/).optional(),
});

const envelope = {
  id: z.string().min(1).max(128),
  source: z.string().min(1).max(64),
  version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  occurredAt: isoInstant.optional(),
  /** Where to send the reply (must lie under the store's reply/ topic); MQTT 5 response-topic also works. */
  replyTo: z.string().max(256).optional(),
};

export const ProductEventSchema = z.object({ ...envelope, type: z.literal('product'), data: ProductDataSchema });
export const PriceEventSchema = z.object({ ...envelope, type: z.literal('price'), data: PriceDataSchema });
export const StockEventSchema = z.object({ ...envelope, type: z.literal('stock'), data: StockDataSchema });
export const PromotionEventSchema = z.object({ ...envelope, type: z.literal('promotion'), data: PromotionDataSchema });
export const BindingEventSchema = z.object({ ...envelope, type: z.literal('binding'), data: BindingDataSchema });

// ---- label rules and lots (issue 14, rule-schemas.ts): a rule set per scope, a lot per (gtin, lotId) ----
export { LotDataSchema, RuleSetDataSchema } from './rule-schemas.js';
export const RulesEventSchema = z.object({ ...envelope, type: z.literal('rules'), data: RuleSetDataSchema });
export const LotEventSchema = z.object({ ...envelope, type: z.literal('lot'), data: LotDataSchema });
// ---- end label rules and lots ----

export const SingleEventSchema = z.discriminatedUnion('type', [
  ProductEventSchema,
  PriceEventSchema,
  StockEventSchema,
  PromotionEventSchema,
  BindingEventSchema,
  RulesEventSchema,
  LotEventSchema,
]);

/** Events one batch may hold. */
export const BATCH_MAX_EVENTS = 200_000;
const batchEnvelope = { ...envelope, type: z.literal('batch') };

/** A whole price list or catalogue as one event: applied in one transaction, all or nothing. */
export const BatchEventSchema = z.object({
  ...batchEnvelope,
  data: z.object({ events: z.array(SingleEventSchema).min(1).max(BATCH_MAX_EVENTS) }),
});

/**
 * A batch with its events not yet checked: with SingleEventSchema on each event it accepts what BatchEventSchema
 * accepts. The edge checks a large batch so, its events a slice at a time (docs/decisions.md D148), so that a price
 * list of 25,000 events does not hold its event loop for the whole check.
 */
export const BatchShellSchema = z.object({
  ...batchEnvelope,
  data: z.object({ events: z.array(z.unknown()).min(1).max(BATCH_MAX_EVENTS) }),
});

export const EventSchema = z.discriminatedUnion('type', [
  ProductEventSchema,
  PriceEventSchema,
  StockEventSchema,
  PromotionEventSchema,
  BindingEventSchema,
  RulesEventSchema,
  LotEventSchema,
  BatchEventSchema,
]);

export type EdgeEvent = z.infer<typeof EventSchema>;
export type SingleEvent = z.infer<typeof SingleEventSchema>;
export type EventType = EdgeEvent['type'];
export const EVENT_TYPES = ['product', 'price', 'stock', 'promotion', 'binding', 'rules', 'lot', 'batch'] as const satisfies readonly EventType[];

/** The edge's answer to every event (on the reply topic and in the HTTP response). */
export const EventReplySchema = z.object({
  eventId: z.string().nullable(),
  status: z.enum(['applied', 'duplicate', 'stale', 'rejected']),
  code: z.string().optional(),
  reason: z.string().optional(),
  /** For batches: how many contained events were applied / stale. */
  applied: z.number().int().optional(),
  stale: z.number().int().optional(),
});
export type EventReply = z.infer<typeof EventReplySchema>;
