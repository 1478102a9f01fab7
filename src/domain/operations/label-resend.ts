/**
 * "Send again": a label that failed or is stuck gets its desired picture again now — attempts and backoff reset,
 * and a full image rather than a delta (the label's own base image may be what went wrong, protocol §6.3). The
 * label store owns the label's state (D17) and the dispatcher the transfer; this only makes the label due and asks
 * for a pass.
 */
import type { LabelStore } from '../labels/label-store.js';

export type ResendOutcome = ReturnType<LabelStore['resend']>;

export function resendLabel(labels: Pick<LabelStore, 'resend'>, labelId: string, kickDispatch: () => void): { labelId: string; outcome: ResendOutcome } {
  // The label acknowledged the desired hash: it shows exactly what it should (§5.3); a resend would only drain its battery.
  const outcome = labels.resend(labelId);
  if (outcome === 'queued') kickDispatch();
  return { labelId, outcome };
}
