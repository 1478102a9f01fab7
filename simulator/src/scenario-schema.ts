/**
 * The scenario file (simulator/scenarios/*.json): a store, the radio, the clock speed and a timeline of steps at
 * simulated times that a QA run plays against a real edge — faults on the simulator side (APs offline, label
 * reboots, battery drops, frame loss, corruption, duplication, a label moved to another AP), price events on the
 * edge side (sent over MQTT as a POS or HQ would), and convergence checkpoints. Documented in simulator/README.md.
 */
import { z } from 'zod';
import { labelTypeByName } from '#protocol';
import { RadioModelSchema, type RadioModel } from './radio-model.js';
import { GtinSchema, StoreFileSchema } from './store-file.js';

/** "mm:ss" or "hh:mm:ss" from the start of the timeline (minutes of "mm:ss" may exceed 59: "90:00"). */
export const AT_PATTERN = /^(\d{1,4}):([0-5]\d)$|^(\d{1,3}):([0-5]\d):([0-5]\d)$/;

/** Milliseconds from the start of the timeline for an "at" string (validated by AT_PATTERN). */
export function atToMs(at: string): number {
  const m = AT_PATTERN.exec(at);
  if (m === null) throw new RangeError(`"${at}" is not mm:ss or hh:mm:ss`);
  if (m[1] !== undefined) return (Number(m[1]) * 60 + Number(m[2])) * 1000;
  return (Number(m[3]) * 3600 + Number(m[4]) * 60 + Number(m[5])) * 1000;
}

/** "hh:mm:ss" of a duration, for reports and the progress line. */
export function msToClock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const apId = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'AP id: 1–32 of A–Z a–z 0–9 _ -');
const labelId = z.string().regex(/^[0-9A-F]{16}$/, 'label id must be 16 upper-case hex digits');
const probability = z.number().min(0).max(1);
const fraction = z.number().gt(0).max(1);
const durationS = z.number().positive().max(7 * 86_400);
/** A price change in percent: -10 is 10 % cheaper. */
const percent = z.number().gt(-100).max(1000).refine((p) => p !== 0, 'a price change of 0 % changes nothing');
const at = z.string().regex(AT_PATTERN, 'expected "mm:ss" or "hh:mm:ss" from the start of the timeline');

/** Exactly one of `keys` must be present (the ways a step can pick its targets). */
function exactlyOne(keys: readonly string[]) {
  return (v: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const given = keys.filter((k) => v[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [given[1] ?? keys[0]!], message: `give exactly one of ${keys.join(', ')}${given.length > 1 ? ` (got ${given.join(' and ')})` : ''}` });
    }
  };
}

const LabelPick = { labelIds: z.array(labelId).min(1).optional(), count: z.number().int().positive().optional(), fraction: fraction.optional() };
const LABEL_PICK_KEYS = ['labelIds', 'count', 'fraction'] as const;

export const ApOfflineStepSchema = z.strictObject({
  at,
  type: z.literal('ap-offline'),
  apId,
  durationS,
  /** power: the AP loses power (staged transfers gone, labels roam to a neighbour); network: only its uplink drops. */
  fault: z.enum(['power', 'network']).default('power'),
});

export const RebootLabelsStepSchema = z.strictObject({ at, type: z.literal('reboot-labels'), ...LabelPick }).superRefine(exactlyOne(LABEL_PICK_KEYS));

export const BatteryStepSchema = z
  .strictObject({ at, type: z.literal('battery'), ...LabelPick, mv: z.number().int().min(0).max(0xffff) })
  .superRefine(exactlyOne(LABEL_PICK_KEYS));

const radioFault = <T extends string>(type: T) => z.strictObject({ at, type: z.literal(type), p: probability, durationS: durationS.optional() });
/** Radio frame loss from `at` on; with durationS it returns to the value before afterwards. */
export const FrameLossStepSchema = radioFault('frame-loss');
export const CorruptionStepSchema = radioFault('corruption');
export const DuplicationStepSchema = radioFault('duplication');

export const MoveLabelStepSchema = z
  .strictObject({ at, type: z.literal('move-label'), labelId: labelId.optional(), labelIndex: z.number().int().min(0).optional(), toApId: apId })
  .superRefine(exactlyOne(['labelId', 'labelIndex']));

export const PriceChangeStepSchema = z
  .strictObject({
    at,
    type: z.literal('price-change'),
    gtins: z.array(GtinSchema).min(1).optional(),
    count: z.number().int().positive().optional(),
    fraction: fraction.optional(),
    percent,
    /** Sent one by one, evenly over this many simulated seconds (a POS during opening hours); else one batch event. */
    spreadS: durationS.optional(),
  })
  .superRefine(exactlyOne(['gtins', 'count', 'fraction']));

/** Every product's regular price changes at once (a nightly price list), as batch events. */
export const FullRepricingStepSchema = z.strictObject({ at, type: z.literal('full-repricing'), percent });

/**
 * Checkpoint: within withinS from `at`, every reachable label shows what the edge wants and the edge knows it. The
 * timeline waits here until that holds (or withinS passed): later steps act on a converged store, late if needed.
 */
export const ExpectConvergedStepSchema = z.strictObject({ at, type: z.literal('expect-converged'), withinS: durationS });

/**
 * Label rules (issue 14): HQ sends a rule set (the edge's contract, contracts/src/rule-schemas.ts), validated by
 * the edge when it arrives.
 */
export const LabelRulesStepSchema = z.strictObject({
  at,
  type: z.literal('label-rules'),
  scope: z.enum(['chain', 'store']).default('store'),
  rules: z.array(z.record(z.string(), z.unknown())).max(1000),
});

const ProductPick = { gtins: z.array(GtinSchema).min(1).optional(), count: z.number().int().positive().optional(), fraction: fraction.optional(), category: z.string().min(1).max(60).optional() };
const PRODUCT_PICK_KEYS = ['gtins', 'count', 'fraction', 'category'] as const;

/** The POS reports stock of the picked products (one stock event each); with `category`, every product of it. */
export const StockStepSchema = z
  .strictObject({ at, type: z.literal('stock'), ...ProductPick, quantity: z.number().int().min(0).max(10_000_000) })
  .superRefine(exactlyOne(PRODUCT_PICK_KEYS));

/** The ERP reports a lot on hand with its best-before date, `bestBeforeInDays` store-local days from the step. */
export const LotStepSchema = z
  .strictObject({ at, type: z.literal('lot'), ...ProductPick, bestBeforeInDays: z.number().int().min(0).max(365), quantity: z.number().int().min(0).max(10_000_000) })
  .superRefine(exactlyOne(PRODUCT_PICK_KEYS));

export const StepSchema = z.discriminatedUnion('type', [
  LabelRulesStepSchema,
  StockStepSchema,
  LotStepSchema,
  ApOfflineStepSchema,
  RebootLabelsStepSchema,
  BatteryStepSchema,
  FrameLossStepSchema,
  CorruptionStepSchema,
  DuplicationStepSchema,
  MoveLabelStepSchema,
  PriceChangeStepSchema,
  FullRepricingStepSchema,
  ExpectConvergedStepSchema,
]);
export type Step = z.infer<typeof StepSchema>;
export type StepType = Step['type'];

/** A generated store: N APs, M labels with a label-type mix, one seeded German-style catalogue. */
export const GeneratedStoreSchema = z.strictObject({
  chain: z.string().regex(/^[a-z0-9-]{1,32}$/).default('demo'),
  store: z.string().regex(/^[a-z0-9-]{1,32}$/).default('berlin-01'),
  aps: z.number().int().min(1).max(128),
  labels: z.number().int().min(1).max(200_000),
  /** Products in the catalogue (default: one per label). Labels are bound round-robin, so several may share one. */
  products: z.number().int().min(1).max(100_000).optional(),
  /** Label type name (firmware-protocol/src/label-types.ts) → weight; the mix is allocated exactly, then shuffled. */
  labelTypes: z
    .record(z.string().refine((n) => labelTypeByName(n) !== undefined, 'unknown label type name'), z.number().positive())
    .refine((r) => Object.keys(r).length > 0, 'at least one label type')
    .default({ 'epd-29-bwr': 6, 'epd-213-bwr': 3, 'epd-154-bw': 1 }),
  /** Fraction of labels a second AP also hears (they roam there when their AP is down). */
  neighbourFraction: probability.default(0.1),
  /** AP ids are `${apIdPrefix}1` … `${apIdPrefix}N`. */
  apIdPrefix: z.string().regex(/^[A-Za-z0-9_-]{1,24}$/).default('AP-'),
  seed: z.number().int().default(1),
});
export type GeneratedStore = z.infer<typeof GeneratedStoreSchema>;

export const StoreSourceSchema = z
  .strictObject({
    /** A store file (simulator/stores/*.json), relative to the scenario file. */
    file: z.string().min(1).optional(),
    generate: GeneratedStoreSchema.optional(),
    /** A store file's content, inline. */
    inline: StoreFileSchema.optional(),
  })
  .superRefine(exactlyOne(['file', 'generate', 'inline']));

/** Overrides of the radio and panel model, checked against RadioModelSchema (unknown names are refused). */
export const RadioOverridesSchema = z
  .record(z.string(), z.unknown())
  .superRefine((r, ctx) => {
    const res = RadioModelSchema.strict().safeParse(r);
    if (!res.success) for (const i of res.error.issues) ctx.addIssue({ code: 'custom', path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message });
  })
  // Validated just above: every key is a RadioModel field with a valid value.
  .transform((r) => r as Partial<RadioModel>);

export const ScenarioSchema = z.strictObject({
    name: z.string().regex(/^[a-z0-9-]{1,64}$/, 'lower-case letters, digits and "-"'),
    description: z.string().max(2000).optional(),
    store: StoreSourceSchema,
    /** Radio and panel model overrides (radio-model.ts field names, e.g. { "frameLoss": 0.02 }). */
    radio: RadioOverridesSchema.optional(),
    /** Simulated time runs this many times faster than the wall clock (the edge's too, when it runs in-process). */
    speed: z.number().positive().max(1000).default(1),
    /** Seed of the simulator's radio and of every random pick of the timeline. */
    seed: z.number().int().default(1),
    /** Before the timeline starts, the store fills: every label gets its first picture (no timeline step runs). */
    warmup: z.strictObject({ timeoutS: durationS.default(1800) }).default({ timeoutS: 1800 }),
    timeline: z.array(StepSchema).default([]),
    /** After the last step: wait until every reachable label converged, at most this long (simulated). */
    end: z.strictObject({ timeoutS: durationS.default(1800) }).default({ timeoutS: 1800 }),
});
export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.infer<typeof ScenarioSchema>;
