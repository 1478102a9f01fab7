/**
 * "Find my label": flash a label's LED. The command goes to the label's AP, which delivers it at the label's next
 * wake-up (protocol §4 LED_FLASH, §9.6). MQTT request `…/req/flash`, HTTP `POST /api/v1/labels/{id}/flash`, the
 * dashboard's flash button.
 */
import type { z } from 'zod';
import { LedColour, StatusCode, labelTypeById } from '#protocol';
import { errorMessage, FlashRequestSchema, type FlashOptionsSchema } from '#contracts';
import type { Operation } from './operation.js';
import type { OperationDeps } from './operation-deps.js';

export type FlashOptions = z.infer<typeof FlashOptionsSchema>;


export type FlashOutcome = 'sent' | 'no_led' | 'unknown_label' | 'no_ap' | 'refused' | 'ap_unreachable';
export interface FlashResult {
  labelId: string;
  apId: string | null;
  outcome: FlashOutcome;
  detail?: string;
}

const COLOURS = { red: LedColour.RED, green: LedColour.GREEN, blue: LedColour.BLUE, white: LedColour.WHITE, yellow: LedColour.YELLOW } as const;

export type FlashDeps = Pick<OperationDeps, 'labels' | 'gateway' | 'log'>;

/** Flashes one label. Never throws: what stands in the way is the result's outcome. */
export async function flashLabel(deps: FlashDeps, labelId: string, opts: FlashOptions): Promise<FlashResult> {
  const l = deps.labels.get(labelId);
  if (!l) return { labelId, apId: null, outcome: 'unknown_label' };
  if (!l.apId) return { labelId, apId: null, outcome: 'no_ap', detail: 'the label has not checked in yet' };
  const type = l.labelType !== null ? labelTypeById(l.labelType) : undefined;
  if (type && !type.led) return { labelId, apId: l.apId, outcome: 'no_led', detail: `${type.name} has no LED` };
  try {
    const status = await deps.gateway.send(l.apId, { type: 'LED_FLASH', labelId, colour: COLOURS[opts.colour], onMs: opts.onMs, offMs: opts.offMs, repeat: opts.repeat });
    if (status !== StatusCode.OK) return { labelId, apId: l.apId, outcome: 'refused', detail: `AP status ${status}` };
    deps.log.info({ evt: 'label.flash', labelId, apId: l.apId, colour: opts.colour }, 'LED flash queued');
    return { labelId, apId: l.apId, outcome: 'sent' };
  } catch (err) {
    return { labelId, apId: l.apId, outcome: 'ap_unreachable', detail: errorMessage(err) };
  }
}

export function flashOperation(deps: FlashDeps): Operation<typeof FlashRequestSchema, FlashResult> {
  return {
    name: 'flash',
    summary: "Flash a label's LED (find-my-label); delivered at the label's next wake-up",
    input: FlashRequestSchema,
    run: async (r) => flashLabel(deps, r.labelId, r),
  };
}
