/**
 * Store operations on labels: flash a label's LED (find-my-label) and pick-to-light for click & collect (flash the
 * labels of every product of an order). Commands go to the label's AP, which delivers them at the label's next
 * wake-up (protocol §4 LED_FLASH, §9.6).
 */
import { z } from 'zod';
import type { LabelStore } from '../labels/label-store.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '../../core/errors.js';
import { LedColour, StatusCode, labelTypeById } from '../../../firmware-protocol/src/index.js';
import type { ApGateway } from '../ports.js';
import { GtinSchema, LabelIdSchema } from '../events/event-schemas.js';

export const FlashOptionsSchema = z.object({
  colour: z.enum(['red', 'green', 'blue', 'white', 'yellow']).default('green'),
  onMs: z.number().int().min(10).max(5_000).default(200),
  offMs: z.number().int().min(10).max(5_000).default(300),
  repeat: z.number().int().min(1).max(255).default(20),
});
export type FlashOptions = z.infer<typeof FlashOptionsSchema>;

export const FlashRequestSchema = FlashOptionsSchema.extend({ labelId: LabelIdSchema });
export const PickRequestSchema = FlashOptionsSchema.extend({ orderId: z.string().min(1).max(64), gtins: z.array(GtinSchema).min(1).max(500) });

export type FlashOutcome = 'sent' | 'no_led' | 'unknown_label' | 'no_ap' | 'refused' | 'ap_unreachable';
export interface FlashResult {
  labelId: string;
  apId: string | null;
  outcome: FlashOutcome;
  detail?: string;
}

const COLOURS = { red: LedColour.RED, green: LedColour.GREEN, blue: LedColour.BLUE, white: LedColour.WHITE, yellow: LedColour.YELLOW } as const;

export class LabelOperations {
  constructor(private readonly deps: { labels: Pick<LabelStore, 'get' | 'byGtin'>; gateway: ApGateway; log: Logger }) {}

  async flash(labelId: string, opts: FlashOptions): Promise<FlashResult> {
    const l = this.deps.labels.get(labelId);
    if (!l) return { labelId, apId: null, outcome: 'unknown_label' };
    const row = { ap_id: l.apId, label_type: l.labelType };
    if (!row.ap_id) return { labelId, apId: null, outcome: 'no_ap', detail: 'the label has not checked in yet' };
    const type = row.label_type !== null ? labelTypeById(row.label_type) : undefined;
    if (type && !type.led) return { labelId, apId: row.ap_id, outcome: 'no_led', detail: `${type.name} has no LED` };
    try {
      const status = await this.deps.gateway.send(row.ap_id, { type: 'LED_FLASH', labelId, colour: COLOURS[opts.colour], onMs: opts.onMs, offMs: opts.offMs, repeat: opts.repeat });
      if (status !== StatusCode.OK) return { labelId, apId: row.ap_id, outcome: 'refused', detail: `AP status ${status}` };
      this.deps.log.info({ evt: 'label.flash', labelId, apId: row.ap_id, colour: opts.colour }, 'LED flash queued');
      return { labelId, apId: row.ap_id, outcome: 'sent' };
    } catch (err) {
      return { labelId, apId: row.ap_id, outcome: 'ap_unreachable', detail: errorMessage(err) };
    }
  }

  /** Flashes every label bound to the order's products. Products without a label are listed as missing. */
  async pick(orderId: string, gtins: string[], opts: FlashOptions): Promise<{ orderId: string; results: FlashResult[]; missingGtins: string[] }> {
    const unique = [...new Set(gtins)];
    const labels = unique
      .flatMap((gtin) => this.deps.labels.byGtin(gtin).map((l) => ({ label_id: l.id, gtin })))
      .sort((a, b) => (a.label_id < b.label_id ? -1 : a.label_id > b.label_id ? 1 : 0));
    const results = await Promise.all(labels.map((l) => this.flash(l.label_id, opts)));
    const found = new Set(labels.map((l) => l.gtin));
    this.deps.log.info({ evt: 'order.pick', orderId, labels: labels.length, missing: unique.length - found.size }, 'pick-to-light');
    return { orderId, results, missingGtins: unique.filter((g) => !found.has(g)) };
  }
}
