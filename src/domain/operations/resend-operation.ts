/**
 * "Send again": a label that failed or is stuck gets its desired picture again now — attempts and backoff reset,
 * and a full image rather than a delta (the label's own base image may be what went wrong, protocol §6.3). The
 * label store owns the label's state (D17) and the dispatcher the transfer; this only makes the label due and asks
 * for a pass. MQTT request `…/req/resend`, HTTP `POST /api/v1/labels/{id}/resend`, the dashboard.
 */
import type { LabelStore } from '../labels/label-store.js';
import { ResendRequestSchema } from '#contracts';
import type { Operation } from './operation.js';
import type { OperationDeps } from './operation-deps.js';

export type ResendOutcome = ReturnType<LabelStore['resend']>;

export function resendOperation(deps: Pick<OperationDeps, 'labels' | 'kickDispatch' | 'log'>): Operation<typeof ResendRequestSchema, { labelId: string; outcome: ResendOutcome }> {
  return {
    name: 'resend',
    summary: 'Send a label its desired picture again now (full image, attempts reset)',
    input: ResendRequestSchema,
    run: async ({ labelId }, caller) => {
      // A label that acknowledged the desired hash shows exactly what it should (§5.3): a resend would only drain
      // its battery, so the store answers `consistent` and nothing is sent.
      const outcome = deps.labels.resend(labelId);
      if (outcome === 'queued') deps.kickDispatch();
      deps.log.info({ evt: 'label.resend', labelId, outcome, via: caller.via }, 'send again');
      return { labelId, outcome };
    },
  };
}
