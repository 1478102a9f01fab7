/**
 * One label's state as the label store keeps it in memory (src/domain/labels/label-store.ts), and its mapping to a
 * row of the `labels` table (migrations 1, 3, 4). Strings (product, AP, hashes) are fields, interned by the store;
 * numbers live in typed-array columns shared by all records, so a 200,000-label store's working set stays in tens
 * of MB (D17, bench/label-store.ts).
 */

import { BLANK_HASH } from '#protocol';

/** Where a label's transfer stands: claimed and being sent, held by the AP, verified by the label. */
export type TransferState = 'sending' | 'staged' | 'delivered';
const TRANSFER_STATES = [null, 'sending', 'staged', 'delivered'] as const;

/** Numeric fields in a Float64Array column block (NaN: null): times in epoch ms, and the u32 transfer id. */
const F64 = ['desiredSince', 'confirmedAt', 'consistentSince', 'lastSeenAt', 'transferAt', 'transferDisplayAt', 'nextAttemptAt', 'nextAt', 'wakeAt', 'wakeIntervalMs', 'transferId', 'wakeToldMs', 'telemetryAt'] as const;
/** Small integers in an Int32Array column block (NULL_I: null). */
const I32 = ['labelType', 'dirty', 'priority', 'batteryMv', 'rssi', 'lqi', 'temperatureC', 'wakeReason', 'page', 'attempts', 'alertFlags', 'bits', 'wakeSamples', 'decoders', 'desiredColour', 'confirmedColour'] as const;
const NULL_I = -2147483648;
const BIT_FORCE_FULL = 1;
const BIT_DROP_TIMED = 2;
const STATE_SHIFT = 2;

/**
 * The numbers of every label, column blocks indexed by a record's slot. A record's numbers in typed arrays take
 * 13 × 8 + 16 × 4 bytes, where object fields would take a pointer each and a boxed heap number per time (D17).
 */
export class LabelColumns {
  f64 = new Float64Array(0);
  i32 = new Int32Array(0);
  private used = 0;

  allocate(): number {
    if (this.used * F64.length >= this.f64.length) {
      const cap = Math.max(1024, this.used * 2);
      const f = new Float64Array(cap * F64.length);
      f.set(this.f64);
      const i = new Int32Array(cap * I32.length);
      i.set(this.i32);
      this.f64 = f;
      this.i32 = i;
    }
    const slot = this.used++;
    this.f64.fill(NaN, slot * F64.length, (slot + 1) * F64.length);
    this.i32.fill(NULL_I, slot * I32.length, (slot + 1) * I32.length);
    return slot;
  }
}

export class LabelRecord {
  gtin: string | null = null;
  template: string | null = null;
  apId: string | null = null;
  desiredHash: string | null = null;
  confirmedHash: string | null = null;
  transferAp: string | null = null;
  transferHash: string | null = null;
  /** Timed display (protocol §6.5): the picture the label must show from nextAt, rendered ahead (D13). */
  nextHash: string | null = null;
  lastError: string | null = null;
  private readonly slot: number;

  declare labelType: number | null;
  /** A change counter: intake increments it durably, the planner clears it only if unchanged since it read it (D4). */
  declare dirty: number;
  declare priority: number;
  declare desiredSince: number | null;
  declare confirmedAt: number | null;
  declare consistentSince: number | null;
  declare lastSeenAt: number | null;
  declare batteryMv: number | null;
  declare rssi: number | null;
  declare lqi: number | null;
  declare temperatureC: number | null;
  declare wakeReason: number | null;
  declare page: number | null;
  declare transferId: number | null;
  declare transferAt: number | null;
  declare transferDisplayAt: number | null;
  declare attempts: number;
  declare nextAttemptAt: number;
  declare alertFlags: number;
  declare nextAt: number | null;
  /** Wake learning (src/domain/dispatch/wake-predictor.ts); memory only: re-learnt from check-ins after a restart. */
  declare wakeAt: number;
  declare wakeIntervalMs: number;
  declare wakeSamples: number;
  /** §5.6 The sleep told at the last reported wake (wake-reports.ts); null: none. Memory only. */
  declare wakeToldMs: number | null;
  /** Protocol §5.3 LabelDecoder bits of the last check-in; null: never announced (a label of before §6.6). */
  declare decoders: number | null;
  /** When the label's last telemetry point was written (D128); null: none since start. Memory only. */
  declare telemetryAt: number | null;
  /**
   * D107 colourDigest of the desired and of the confirmed picture, when this process planned them (memory only: null
   * after a restart, and then the dispatcher guesses a transfer's panel time from the label type alone).
   */
  declare desiredColour: number | null;
  declare confirmedColour: number | null;
  private declare bits: number;

  constructor(
    readonly id: string,
    private readonly cols: LabelColumns,
  ) {
    this.slot = cols.allocate();
    this.dirty = 0;
    this.priority = 2;
    this.attempts = 0;
    this.nextAttemptAt = 0;
    this.alertFlags = 0;
    this.bits = 0;
    this.wakeAt = -1;
    this.wakeIntervalMs = 0;
    this.wakeSamples = 0;
  }

  get transferState(): TransferState | null {
    return TRANSFER_STATES[this.bits >>> STATE_SHIFT] ?? null;
  }
  set transferState(v: TransferState | null) {
    this.bits = (this.bits & ((1 << STATE_SHIFT) - 1)) | (TRANSFER_STATES.indexOf(v) << STATE_SHIFT);
  }
  get forceFull(): boolean {
    return (this.bits & BIT_FORCE_FULL) !== 0;
  }
  set forceFull(v: boolean) {
    this.bits = v ? this.bits | BIT_FORCE_FULL : this.bits & ~BIT_FORCE_FULL;
  }
  /** A timed picture the label holds is no longer wanted: withdraw it. */
  get dropTimed(): boolean {
    return (this.bits & BIT_DROP_TIMED) !== 0;
  }
  set dropTimed(v: boolean) {
    this.bits = v ? this.bits | BIT_DROP_TIMED : this.bits & ~BIT_DROP_TIMED;
  }

  /** The label must be sent its desired picture. */
  get needsSend(): boolean {
    return this.desiredHash !== null && this.confirmedHash !== this.desiredHash;
  }

  /** Anything for the dispatcher to do for this label: send, withdraw, or stage a timed picture. */
  get hasWork(): boolean {
    return this.needsSend || this.dropTimed || this.nextHash !== null;
  }
}

/**
 * The label's next transfer is a delta against what it shows (§6.3): it shows a known picture (not blank, not
 * unknown) and is not forced to a full one (§6.4). The dispatcher's delta base (delta-preparer.ts `deltaBase`) and
 * the planner's wake wave (wave-order.ts, D129) both ask this.
 */
export function expectsDelta(l: { readonly confirmedHash: string | null; readonly forceFull: boolean }): boolean {
  return !l.forceFull && l.confirmedHash !== null && l.confirmedHash !== BLANK_HASH;
}

for (const [i, name] of F64.entries()) {
  Object.defineProperty(LabelRecord.prototype, name, {
    get(this: { cols: LabelColumns; slot: number }) {
      const v = this.cols.f64[this.slot * F64.length + i]!;
      return Number.isNaN(v) ? null : v;
    },
    set(this: { cols: LabelColumns; slot: number }, v: number | null) {
      this.cols.f64[this.slot * F64.length + i] = v ?? NaN;
    },
  });
}
for (const [i, name] of I32.entries()) {
  Object.defineProperty(LabelRecord.prototype, name, {
    get(this: { cols: LabelColumns; slot: number }) {
      const v = this.cols.i32[this.slot * I32.length + i]!;
      return v === NULL_I ? null : v;
    },
    set(this: { cols: LabelColumns; slot: number }, v: number | null) {
      this.cols.i32[this.slot * I32.length + i] = v ?? NULL_I;
    },
  });
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
  decoders: number | null;
}

export function recordFromRow(r: LabelRow, cols: LabelColumns, intern: (h: string | null) => string | null, name: (n: string | null) => string | null): LabelRecord {
  const l = new LabelRecord(r.label_id, cols);
  l.labelType = r.label_type;
  l.gtin = r.gtin;
  l.template = name(r.template);
  l.apId = name(r.ap_id);
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
  l.decoders = r.decoders;
  return l;
}

/**
 * The write-behind upsert of many labels in one statement: its one parameter is a JSON array of upsertParams() rows
 * (sqlite's json_each, as the telemetry batch, D21). A round trip to sqlite's thread per row made a batch of a whole
 * store take a minute; one per 50 rows still made a repricing's batch of ~1,500 rows 30 trips, each waiting its turn
 * on a busy event loop while the one queue was held (D127). It never writes `gtin` and `template` on conflict (only
 * the transaction-bound binding writes them), and its `dirty` value is the pending change of the counter, added to the
 * stored one, so it cannot overwrite what an intake transaction committed meanwhile (D18). A row it inserts exists in
 * memory only: its counter is all pending changes, so the same value is right there.
 *
 * The transfer columns are written NULL: a transfer under way is forgotten at a restart anyway (D18), so its claim,
 * staging and delivery are not persisted at all (D128). The columns stay for databases of before D128, whose rows the
 * first batch after start clears.
 */
const UPSERT_COLUMNS = [
  'label_id', 'gtin', 'template', 'dirty', 'label_type', 'ap_id', 'desired_hash', 'desired_since', 'priority',
  'confirmed_hash', 'confirmed_at', 'consistent_since', 'last_seen_at', 'battery_mv', 'rssi', 'lqi', 'temperature_c',
  'wake_reason', 'page', 'attempts', 'next_attempt_at', 'last_error', 'force_full', 'alert_flags', 'next_hash', 'next_at',
  'drop_timed', 'decoders',
] as const;
/** Written by the binding only (transaction-bound), or added as a delta: not plainly replaced on conflict. */
const NOT_REPLACED = new Set<string>(['label_id', 'gtin', 'template', 'dirty']);
const TRANSFER_COLUMNS = ['transfer_id', 'transfer_ap', 'transfer_hash', 'transfer_state', 'transfer_at', 'transfer_display_at'];
export const UPSERT_JSON_SQL = `INSERT INTO labels (${UPSERT_COLUMNS.join(', ')})
  SELECT ${UPSERT_COLUMNS.map((_, i) => `value->>${i}`).join(', ')} FROM json_each(?) WHERE true
  ON CONFLICT(label_id) DO UPDATE SET dirty = max(0, labels.dirty + excluded.dirty), ${UPSERT_COLUMNS.filter((c) => !NOT_REPLACED.has(c))
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}, ${TRANSFER_COLUMNS.map((c) => `${c} = NULL`).join(', ')}`;
/** A label's row for UPSERT_JSON_SQL, its columns in order. */
export function upsertParams(l: LabelRecord, dirtyDelta: number): (string | number | null)[] {
  return [
    l.id,
    l.gtin,
    l.template,
    dirtyDelta,
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
    l.attempts,
    l.nextAttemptAt,
    l.lastError,
    l.forceFull ? 1 : 0,
    l.alertFlags,
    l.nextHash,
    l.nextAt,
    l.dropTimed ? 1 : 0,
    l.decoders,
  ];
}

/** What the wake predictor (dispatch/wake-predictor.ts) keeps per label: numbers of the label's record. */
export interface WakeState {
  /** Last instant the label was seen awake (epoch ms); < 0: never. */
  wakeAt: number;
  /** Learnt wake interval (ms); 0: not known yet. */
  wakeIntervalMs: number;
  /** How many spacings confirmed the interval: its uncertainty shrinks with them. */
  wakeSamples: number;
  /**
   * §5.6 The sleep the AP told the label at its last reported wake (ms), wakeAt then being that sleep's start; null:
   * no wake report (the AP lacks capability WAKE_REPORT), and wakeAt is this predictor's (wake-reports.ts).
   */
  wakeToldMs?: number | null;
}
