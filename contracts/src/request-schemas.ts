/**
 * The store's request contract (issue 15, D74): the input of every store operation reachable over HTTP and MQTT
 * (`…/req/{kind}` with `id` and `replyTo`, answered on `replyTo`), and the list of MQTT request kinds. Shared with
 * the HQ tool (it documents them in docs/asyncapi.json) and any POS/ERP client, so it imports only other contracts;
 * the operations in this folder run them.
 */
import { z } from 'zod';
import { AuditStatusSchema } from './audit-report.js';
import { GtinSchema, LabelIdSchema } from './event-schemas.js';

/** MQTT request kinds (`…/req/{kind}`); the broker's topic router accepts exactly these (D24). */
export const REQUEST_KINDS = ['audit', 'report', 'flash', 'pick', 'resend', 'bind'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];

export const AuditRequestSchema = z.object({ status: AuditStatusSchema.optional(), labelId: LabelIdSchema.optional() });
export const AuditSummaryRequestSchema = z.object({ status: AuditStatusSchema.optional() });
export const ReportRequestSchema = z.object({});

/** §4 LED_FLASH options: colour and timing of a "find my label" or pick-to-light flash. */
export const FlashOptionsSchema = z.object({
  colour: z.enum(['red', 'green', 'blue', 'white', 'yellow']).default('green'),
  onMs: z.number().int().min(10).max(5_000).default(200),
  offMs: z.number().int().min(10).max(5_000).default(300),
  repeat: z.number().int().min(1).max(255).default(20),
});
export const FlashRequestSchema = FlashOptionsSchema.extend({ labelId: LabelIdSchema });
export const PickRequestSchema = FlashOptionsSchema.extend({ orderId: z.string().min(1).max(64), gtins: z.array(GtinSchema).min(1).max(500) });
export const ResendRequestSchema = z.object({ labelId: LabelIdSchema });

export const BindRequestSchema = z.object({
  labelId: LabelIdSchema,
  gtin: GtinSchema.nullable(),
  template: z.string().regex(/^[a-z0-9-]+$/).max(64).optional(),
});

/** The body of a bind over HTTP (HTTP API, dashboard): the label is in the path, unbinding is its own route. */
export const BindBodySchema = BindRequestSchema.omit({ labelId: true }).extend({ gtin: GtinSchema }).strict();
