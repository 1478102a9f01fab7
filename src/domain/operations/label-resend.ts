/**
 * "Send again": a label that failed or is stuck gets its desired picture again now — attempts and backoff reset,
 * and a full image rather than a delta (the label's own base image may be what went wrong, protocol §6.3). The
 * dispatcher owns the transfer; this only makes the label due and asks for a pass.
 */
import type { Database } from '../../persistence/database.js';

export type ResendOutcome = 'queued' | 'unknown_label' | 'nothing_to_send' | 'consistent' | 'in_flight';

export async function resendLabel(db: Database, labelId: string, kickDispatch: () => void): Promise<{ labelId: string; outcome: ResendOutcome }> {
  const row = await db.get<{ desired_hash: string | null; confirmed_hash: string | null; transfer_state: string | null }>(
    'SELECT desired_hash, confirmed_hash, transfer_state FROM labels WHERE label_id = ?',
    [labelId],
  );
  if (!row) return { labelId, outcome: 'unknown_label' };
  if (!row.desired_hash) return { labelId, outcome: 'nothing_to_send' };
  // The label acknowledged the desired hash: it shows exactly what it should (§5.3); a resend would only drain its battery.
  if (row.confirmed_hash === row.desired_hash) return { labelId, outcome: 'consistent' };
  if (row.transfer_state !== null) return { labelId, outcome: 'in_flight' };
  await db.run(
    'UPDATE labels SET attempts = 0, next_attempt_at = 0, force_full = 1, last_error = NULL WHERE label_id = ? AND transfer_state IS NULL',
    [labelId],
  );
  kickDispatch();
  return { labelId, outcome: 'queued' };
}
