/**
 * One label's state as the label store keeps it in memory (src/domain/labels/label-store.ts), and its mapping to a
 * row of the `labels` table (migrations 1, 3, 4). Every field is initialised in the constructor so all records
 * share one hidden class: a record is ~35 in-object slots (~300 B), hashes are interned by the store, so a
 * 200,000-label store's working set stays in tens of MB (D17, measured in test/labels/label-store.test.ts).
 */

/** Where a label's transfer stands: claimed and being sent, held by the AP, verified by the label. */
export type TransferState = 'sending' | 'staged' | 'delivered';

export class LabelRecord {
  labelType: number | null = null;
  gtin: string | null = null;
  template: string | null = null;
  apId: string | null = null;
  /** A change counter: intake increments it durably, the planner clears it only if unchanged since it read it (D4). */
  dirty = 0;
  desiredHash: string | null = null;
  desiredSince: number | null = null;
  priority = 2;
  confirmedHash: string | null = null;
  confirmedAt: number | null = null;
  consistentSince: number | null = null;
  lastSeenAt: number | null = null;
  batteryMv: number | null = null;
  rssi: number | null = null;
  lqi: number | null = null;
  temperatureC: number | null = null;
  wakeReason: number | null = null;
  page: number | null = null;
  transferId: number | null = null;
  transferAp: string | null = null;
  transferHash: string | null = null;
  transferState: TransferState | null = null;
  transferAt: number | null = null;
  transferDisplayAt: number | null = null;
  attempts = 0;
  nextAttemptAt = 0;
  lastError: string | null = null;
  forceFull = false;
  alertFlags = 0;
  /** Timed display (protocol §6.5): the picture the label must show from nextAt, rendered ahead (D13). */
  nextHash: string | null = null;
  nextAt: number | null = null;
  /** A timed picture the label holds is no longer wanted: withdraw it. */
  dropTimed = false;
  /** Wake learning (src/domain/dispatch/wake-predictor.ts); memory only: re-learnt from check-ins after a restart. */
  wakeAt = -1;
  wakeIntervalMs = 0;

  constructor(readonly id: string) {}

  /** The label must be sent its desired picture. */
  get needsSend(): boolean {
    return this.desiredHash !== null && this.confirmedHash !== this.desiredHash;
  }

  /** Anything for the dispatcher to do for this label: send, withdraw, or stage a timed picture. */
  get hasWork(): boolean {
    return this.needsSend || this.dropTimed || this.nextHash !== null;
  }
}

/** A row of the `labels` table as sqlite returns it. */
export interface LabelRow {
  label_id: string;
  label_type: number | null;
  gtin: string | null;
  template: string | null;
  ap_id: string | null;
  dirty: number;
  desired_hash: string | null;
  desired_since: number | null;
  priority: number;
  confirmed_hash: string | null;
  confirmed_at: number | null;
  consistent_since: number | null;
  last_seen_at: number | null;
  battery_mv: number | null;
  rssi: number | null;
  lqi: number | null;
  temperature_c: number | null;
  wake_reason: number | null;
  page: number | null;
  transfer_id: number | null;
  transfer_ap: string | null;
  transfer_hash: string | null;
  transfer_state: string | null;
  transfer_at: number | null;
  transfer_display_at: number | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  force_full: number;
  alert_flags: number;
  next_hash: string | null;
  next_at: number | null;
  drop_timed: number;
}

export function recordFromRow(r: LabelRow, intern: (h: string | null) => string | null): LabelRecord {
  const l = new LabelRecord(r.label_id);
  l.labelType = r.label_type;
  l.gtin = r.gtin;
  l.template = r.template;
  l.apId = r.ap_id;
  l.dirty = r.dirty;
  l.desiredHash = intern(r.desired_hash);
  l.desiredSince = r.desired_since;
  l.priority = r.priority;
  l.confirmedHash = intern(r.confirmed_hash);
  l.confirmedAt = r.confirmed_at;
  l.consistentSince = r.consistent_since;
  l.lastSeenAt = r.last_seen_at;
  l.batteryMv = r.battery_mv;
  l.rssi = r.rssi;
  l.lqi = r.lqi;
  l.temperatureC = r.temperature_c;
  l.wakeReason = r.wake_reason;
  l.page = r.page;
  // Transfers under way are not restored: after a restart every AP says hello with an empty queue (D18).
  l.attempts = r.attempts;
  l.nextAttemptAt = r.next_attempt_at;
  l.lastError = r.last_error;
  l.forceFull = r.force_full === 1;
  l.alertFlags = r.alert_flags;
  l.nextHash = intern(r.next_hash);
  l.nextAt = r.next_at;
  l.dropTimed = r.drop_timed === 1;
  return l;
}

/**
 * The write-behind upsert. It never writes `gtin` and `template` on conflict (only the transaction-bound binding
 * writes them), and it adds the pending change of the dirty counter instead of writing its value, so it cannot
 * overwrite what an intake transaction committed meanwhile (D17).
 */
export const UPSERT_SQL = `INSERT INTO labels (label_id, gtin, template, dirty, label_type, ap_id, desired_hash, desired_since, priority,
    confirmed_hash, confirmed_at, consistent_since, last_seen_at, battery_mv, rssi, lqi, temperature_c, wake_reason, page,
    transfer_id, transfer_ap, transfer_hash, transfer_state, transfer_at, transfer_display_at, attempts, next_attempt_at,
    last_error, force_full, alert_flags, next_hash, next_at, drop_timed)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT(label_id) DO UPDATE SET dirty = max(0, labels.dirty + ?), label_type = excluded.label_type, ap_id = excluded.ap_id,
    desired_hash = excluded.desired_hash, desired_since = excluded.desired_since, priority = excluded.priority,
    confirmed_hash = excluded.confirmed_hash, confirmed_at = excluded.confirmed_at, consistent_since = excluded.consistent_since,
    last_seen_at = excluded.last_seen_at, battery_mv = excluded.battery_mv, rssi = excluded.rssi, lqi = excluded.lqi,
    temperature_c = excluded.temperature_c, wake_reason = excluded.wake_reason, page = excluded.page,
    transfer_id = excluded.transfer_id, transfer_ap = excluded.transfer_ap, transfer_hash = excluded.transfer_hash,
    transfer_state = excluded.transfer_state, transfer_at = excluded.transfer_at, transfer_display_at = excluded.transfer_display_at,
    attempts = excluded.attempts, next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error,
    force_full = excluded.force_full, alert_flags = excluded.alert_flags, next_hash = excluded.next_hash, next_at = excluded.next_at,
    drop_timed = excluded.drop_timed`;

export function upsertParams(l: LabelRecord, dirtyDelta: number): (string | number | null)[] {
  return [
    l.id,
    l.gtin,
    l.template,
    Math.max(0, l.dirty),
    l.labelType,
    l.apId,
    l.desiredHash,
    l.desiredSince,
    l.priority,
    l.confirmedHash,
    l.confirmedAt,
    l.consistentSince,
    l.lastSeenAt,
    l.batteryMv,
    l.rssi,
    l.lqi,
    l.temperatureC,
    l.wakeReason,
    l.page,
    l.transferId,
    l.transferAp,
    l.transferHash,
    l.transferState,
    l.transferAt,
    l.transferDisplayAt,
    l.attempts,
    l.nextAttemptAt,
    l.lastError,
    l.forceFull ? 1 : 0,
    l.alertFlags,
    l.nextHash,
    l.nextAt,
    l.dropTimed ? 1 : 0,
    dirtyDelta,
  ];
}
