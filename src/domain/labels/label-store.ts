/**
 * The one owner of every label's state (docs/architecture.md, D17). Nothing else writes the `labels` table
 * (test/labels/label-ownership.test.ts scans the sources for it); the planner, dispatcher, audit, alerts and HTTP
 * queries read the records here and change them only through the named transitions below.
 *
 * The working set lives in memory: one compact record per label plus the indexes the stages ask for (labels of a
 * product, dirty labels, labels with dispatch work per AP, transfers in flight per AP). sqlite is the durable record
 * it is rebuilt from at start. Two kinds of writes reach it:
 *
 *  - transaction-bound (`markDirtyTx`, `bindTx`): run inside the caller's transaction — the event that caused them
 *    and the dirty mark commit together, so an acknowledged event can never lose its label update (D4). Memory
 *    follows in the transaction's commit hook.
 *  - write-behind: every other transition changes memory at once and is persisted in batches, one transaction per
 *    short tick (`flushIntervalMs`). What a crash may lose of them is re-learnt: transfers are re-sent after every
 *    AP's hello, labels report the hash they show at their next check-in, telemetry is refreshed (D18).
 */
import type { Database, PreparedStatement, Tx } from '../../persistence/database.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { LoopSlices } from '../../core/loop-tasks.js';
import { errorMessage } from '#contracts';
import { BLANK_HASH, WakeReason, type MessageOf } from '#protocol';
import type { WakeState } from './label-record.js';
import { LabelColumns, LabelRecord, UPSERT_JSON_SQL, recordFromRow, upsertParams, type LabelRow } from './label-record.js';

export { LabelRecord, expectsDelta } from './label-record.js';

/** What a check-in changed, for the dispatcher's side effects (cancel at the old AP, logs). */
export interface CheckinOutcome {
  created: boolean;
  previousAp: string | null;
  rebooted: boolean;
  /** A transfer of ours ended with this check-in (shown, roamed, rebooted, or lost at the AP). */
  transferEnded: boolean;
  /** The label roamed while an AP held our transfer for it: cancel it there (protocol §4.3). */
  cancelAt?: { apId: string; transferId: number };
  /** §6.4: the label shows neither what we believed nor what we sent; the next image is a full one. */
  baseMismatch: boolean;
}

export interface LabelCounts {
  total: number;
  noContent: number;
  consistent: number;
  transferring: number;
  waiting: number;
}

type TelemetryRow = [string, number, string, number, number, number, number];

export class LabelStore {
  private readonly labels = new Map<string, LabelRecord>();
  private readonly cols = new LabelColumns();
  /** A product's label, or its labels when it has several (most products have one: no Set per label). */
  private readonly byGtinIndex = new Map<string, LabelRecord | Set<LabelRecord>>();
  private readonly workIndex = new Map<string, Set<LabelRecord>>();
  private readonly queuedIndex = new Map<string, Set<LabelRecord>>();
  private readonly dirtySet = new Set<LabelRecord>();
  private readonly transferSet = new Set<LabelRecord>();
  /** Hash strings, one copy each: many labels share a picture. */
  private readonly hashes = new Map<string, string>();

  private pending = new Set<LabelRecord>();
  /** Change of the dirty counter not yet written (increments outside a transaction, clears by the planner). */
  private dirtyDelta = new Map<LabelRecord, number>();
  private telemetry: TelemetryRow[] = [];
  private transferSeq = 0;
  private transferSeqWritten = 0;
  private flushTimer: TimerHandle | null = null;
  private flushing: Promise<void> | null = null;
  private stopped = false;
  /** Write-behind batches committed so far, and rows written (metrics, benchmarks). */
  readonly flushStats = { batches: 0, rows: 0 };

  private constructor(
    private readonly deps: { db: Database; clock: Clock; log: Logger; flushIntervalMs: number; telemetrySampleMs: number },
  ) {}

  /**
   * Rebuilds the working set from sqlite. Transfers that were under way are forgotten (D18). `telemetrySampleMs`: a
   * label's telemetry point (and its row, with last seen) is written at most this often when nothing else changed
   * (D128; config storage.telemetry.sampleIntervalS).
   */
  static async load(deps: { db: Database; clock: Clock; log: Logger; flushIntervalMs?: number; telemetrySampleMs?: number }): Promise<LabelStore> {
    const store = new LabelStore({ ...deps, flushIntervalMs: deps.flushIntervalMs ?? 100, telemetrySampleMs: deps.telemetrySampleMs ?? 600_000 });
    const rows = await deps.db.all<LabelRow>('SELECT * FROM labels');
    for (const r of rows) {
      const l = recordFromRow(r, store.cols, (h) => store.intern(h), (n) => store.name(n));
      store.labels.set(l.id, l);
      store.index(l);
      if (r.transfer_state !== null) store.pending.add(l);
    }
    const seq = await deps.db.get<{ value: string }>("SELECT value FROM meta WHERE key = 'transfer_seq'");
    // Transfer ids handed out after the last flush were lost with the crash; an AP may still hold one (its queue
    // survives an edge restart behind an external broker), so continue well past them.
    store.transferSeq = ((Number(seq?.value ?? 0) + (rows.length > 0 ? 1_000_000 : 0)) % 0xfffffffe) >>> 0;
    if (store.pending.size > 0) store.scheduleFlush();
    return store;
  }

  // ---- reads ------------------------------------------------------------------------------------------

  get size(): number {
    return this.labels.size;
  }
  get(labelId: string): Readonly<LabelRecord> | undefined {
    return this.labels.get(labelId);
  }
  all(): IterableIterator<Readonly<LabelRecord>> {
    return this.labels.values();
  }
  byGtin(gtin: string): readonly Readonly<LabelRecord>[] {
    return this.labelsOf(gtin);
  }
  /** Labels with a pending change (dirty counter > 0), for the planner. */
  dirty(): Readonly<LabelRecord>[] {
    return [...this.dirtySet];
  }
  /** The same without a copy, for a reader that does not change them while it walks (D159). */
  dirtyLabels(): IterableIterator<Readonly<LabelRecord>> {
    return this.dirtySet.values();
  }
  /** How many labels have a pending change (D161). */
  get dirtyCount(): number {
    return this.dirtySet.size;
  }
  /** Labels of an AP that need something sent: their desired picture, a withdrawal, or a timed picture. */
  workOn(apId: string): ReadonlySet<Readonly<LabelRecord>> {
    return this.workIndex.get(apId) ?? new Set();
  }
  /** All labels with dispatch work, over every AP. */
  *withWork(): IterableIterator<Readonly<LabelRecord>> {
    for (const set of this.workIndex.values()) yield* set;
  }
  /** Transfers an AP holds or is being sent (its queue slots in use). */
  /** Labels whose transfer is being sent to or staged on this AP (the AP's queue as the edge knows it). */
  queuedOn(apId: string): ReadonlySet<Readonly<LabelRecord>> {
    return this.queuedIndex.get(apId) ?? new Set();
  }
  inFlightOn(apId: string): number {
    return this.queuedIndex.get(apId)?.size ?? 0;
  }
  /** Labels with a transfer under way (sending, staged or delivered). */
  withTransfers(): Readonly<LabelRecord>[] {
    return [...this.transferSet];
  }
  counts(): LabelCounts {
    const c: LabelCounts = { total: this.labels.size, noContent: 0, consistent: 0, transferring: 0, waiting: 0 };
    for (const l of this.labels.values()) {
      if (l.desiredHash === null) c.noContent++;
      else if (l.confirmedHash === l.desiredHash) c.consistent++;
      else if (l.transferState !== null) c.transferring++;
      else c.waiting++;
    }
    return c;
  }

  // ---- transaction-bound transitions (the caller's transaction; memory follows its commit) -----------

  /** Intake changed a product: its labels must be planned again. Durable with the caller's transaction (D4). */
  async markDirtyTx(tx: Tx, gtin: string): Promise<void> {
    await this.stmt(tx, 'UPDATE labels SET dirty = dirty + 1 WHERE gtin = ?').run([gtin]);
    tx.onCommit(() => {
      for (const l of this.labelsOf(gtin)) this.mutate(l, false, () => l.dirty++);
    });
  }

  /** Binds a label to a product and template (gtin null unbinds it); it is planned again. */
  async bindTx(tx: Tx, labelId: string, gtin: string | null, template: string | null): Promise<void> {
    await this.stmt(
      tx,
      `INSERT INTO labels (label_id, gtin, template, dirty) VALUES (?, ?, ?, 1)
       ON CONFLICT(label_id) DO UPDATE SET gtin = excluded.gtin, template = excluded.template, dirty = labels.dirty + 1`,
    ).run([labelId, gtin, template]);
    tx.onCommit(() => {
      const l = this.obtain(labelId);
      this.mutate(l, false, () => {
        l.gtin = gtin;
        l.template = template;
        l.dirty++;
      });
    });
  }

  /**
   * markDirtyTx and bindTx for a whole intake tick (group commit, D20–D21): one statement each, whatever the tick's
   * size. Every label showing one of `gtins` and every label in `labelIds` is marked once — in sqlite and in memory
   * alike, so the planner's "clear only if unchanged" compares like with like.
   */
  async markDirtyManyTx(tx: Tx, gtins: readonly string[], labelIds: readonly string[]): Promise<void> {
    if (gtins.length === 0 && labelIds.length === 0) return;
    // Which labels show these products is known here, in memory (bindings are written durably and in queue order,
    // so memory equals the table at the start of the caller's transaction): the rows are updated by primary key,
    // and a tick whose products have no labels writes nothing (D43). A label (re)bound in this tick is in labelIds.
    const ids = new Set(labelIds);
    for (const g of gtins) for (const l of this.labelsOf(g)) ids.add(l.id);
    if (ids.size > 0) await tx.run('UPDATE labels SET dirty = dirty + 1 WHERE label_id IN (SELECT value FROM json_each(?))', [JSON.stringify([...ids])]);
    tx.onCommit(() => {
      const marked = new Set<LabelRecord>();
      for (const g of gtins) for (const l of this.labelsOf(g)) marked.add(l);
      for (const id of labelIds) {
        const l = this.labels.get(id);
        if (l) marked.add(l);
      }
      for (const l of marked) this.mutate(l, false, () => l.dirty++);
    });
  }

  /** Binds (gtin null: unbinds) labels; a label bound for the first time appears. The dirty mark is markDirtyManyTx's. */
  async bindManyTx(tx: Tx, rows: readonly { labelId: string; gtin: string | null; template: string | null }[]): Promise<void> {
    if (rows.length === 0) return;
    await tx.run(
      `INSERT INTO labels (label_id, gtin, template) SELECT value->>0, value->>1, value->>2 FROM json_each(?) WHERE true
       ON CONFLICT(label_id) DO UPDATE SET gtin = excluded.gtin, template = excluded.template`,
      [JSON.stringify(rows.map((r) => [r.labelId, r.gtin, r.template]))],
    );
    tx.onCommit(() => {
      for (const r of rows) {
        const l = this.obtain(r.labelId);
        this.mutate(l, false, () => {
          l.gtin = r.gtin;
          l.template = this.name(r.template);
        });
      }
    });
  }

  private readonly statements = new WeakMap<Tx, Map<string, PreparedStatement>>();
  private stmt(tx: Tx, sql: string): PreparedStatement {
    let m = this.statements.get(tx);
    if (!m) this.statements.set(tx, (m = new Map()));
    let s = m.get(sql);
    if (!s) m.set(sql, (s = tx.prepare(sql)));
    return s;
  }

  // ---- planner transitions ----------------------------------------------------------------------------

  /**
   * The planner rendered what the label must show (hash null: nothing, e.g. an unknown product). Clears the dirty
   * counter only if it is still the value the planner read (`seenDirty`), so a change that arrived meanwhile is
   * planned again. Returns whether the desired picture changed.
   */
  planned(labelId: string, p: { hash: string | null; priority: number; now: number; seenDirty: number; colour?: number | null }): boolean {
    const l = this.labels.get(labelId);
    if (!l) return false;
    const hash = this.intern(p.hash);
    let changed = false;
    this.mutate(l, true, () => {
      if (hash !== l.desiredHash) {
        changed = true;
        l.desiredHash = hash;
        l.desiredColour = p.colour ?? null;
        l.desiredSince = p.now;
        l.priority = p.priority;
        l.attempts = 0;
        l.nextAttemptAt = 0;
        l.forceFull = false;
        if (l.confirmedHash !== hash) l.consistentSince = null;
      }
      // What the label must show next may have changed too: forget the pre-rendered next picture, and withdraw a
      // timed picture the label holds unless it is exactly what it must show now (D13).
      if (l.nextAt !== null || l.transferDisplayAt !== null) {
        const timedOther = l.transferDisplayAt !== null && l.transferHash !== hash;
        if (timedOther && l.transferDisplayAt! > p.now) l.dropTimed = true;
        if (timedOther) this.clearTransferFields(l);
        l.nextHash = null;
        l.nextAt = null;
      }
      if (l.dirty === p.seenDirty) {
        this.addDelta(l, -l.dirty);
        l.dirty = 0;
      }
    });
    return changed;
  }

  /** The picture a label must show from `at` (a price or promotion boundary), rendered ahead (§6.5, D13). */
  plannedNext(labelId: string, hash: string | null, at: number): void {
    const l = this.labels.get(labelId);
    // A label that became dirty meanwhile is planned anew first.
    if (!l || l.dirty > 0) return;
    this.mutate(l, true, () => {
      l.nextHash = this.intern(hash);
      l.nextAt = at;
    });
  }

  // ---- dispatcher transitions -------------------------------------------------------------------------

  /**
   * Claims a label for a transfer if it still wants what the pass saw (a label re-planned meanwhile is not sent a
   * stale picture). Returns the transfer id (u32, never 0: §5.3 pendingTransferId 0 means none), or 0.
   */
  claim(labelId: string, c: { mode: 'now' | 'timed' | 'drop'; apId: string; hash: string; displayAt: number; now: number }): number {
    const l = this.labels.get(labelId);
    if (!l || l.transferState !== null) return 0;
    const wanted = c.mode === 'timed' ? l.nextHash === c.hash : c.mode === 'drop' ? l.dropTimed && l.desiredHash === c.hash : l.desiredHash === c.hash;
    if (!wanted) return 0;
    this.transferSeq = ((this.transferSeq % 0xfffffffe) + 1) >>> 0;
    const id = this.transferSeq;
    // Memory only (D128): a transfer is forgotten at a restart (D18); the counter alone is written (transfer_seq),
    // with the next tick's batch.
    this.scheduleFlush();
    this.mutate(l, false, () => {
      l.transferId = id;
      l.transferAp = this.name(c.apId);
      l.transferHash = this.intern(c.hash);
      l.transferState = 'sending';
      l.transferAt = c.now;
      l.transferDisplayAt = c.displayAt || null;
    });
    return id;
  }

  /** The AP acknowledged every block: it holds the transfer until the label wakes. Memory only (D128). */
  staged(labelId: string, transferId: number): void {
    const l = this.current(labelId, transferId);
    if (l) this.mutate(l, false, () => (l.transferState = 'staged'));
  }

  /**
   * The label verified the image (TRANSFER_RESULT OK); a timed picture's delivery timeout counts from its time. Memory
   * only (D128): what the label shows is written when it checks in with it.
   */
  delivered(labelId: string, transferId: number, now: number): void {
    const l = this.current(labelId, transferId);
    if (!l) return;
    this.mutate(l, false, () => {
      l.transferState = 'delivered';
      l.transferAt = Math.max(now, l.transferDisplayAt ?? 0);
    });
  }

  /** A withdrawal (D13) was delivered: the label dropped its timed picture and keeps what it shows. */
  withdrawn(labelId: string, transferId: number): void {
    const l = this.current(labelId, transferId);
    if (!l) return;
    this.mutate(l, true, () => {
      this.clearTransferFields(l);
      l.dropTimed = false;
    });
  }

  /** Forgets a transfer without counting an attempt (QUEUE_FULL backpressure); `nextAttemptAt` holds the label back. */
  released(labelId: string, transferId: number, nextAttemptAt?: number): void {
    const l = this.current(labelId, transferId);
    if (!l) return;
    // Only the hold-back is worth writing; the transfer itself never was (D128).
    this.mutate(l, nextAttemptAt !== undefined && nextAttemptAt !== l.nextAttemptAt, () => {
      this.clearTransferFields(l);
      if (nextAttemptAt !== undefined) l.nextAttemptAt = nextAttemptAt;
    });
  }

  /** A failed transfer: one more attempt counted, retried at `nextAttemptAt` (backoff with jitter). */
  retry(labelId: string, transferId: number, r: { nextAttemptAt: number; reason: string; forceFull?: boolean }): boolean {
    const l = this.current(labelId, transferId);
    if (!l) return false;
    this.mutate(l, true, () => {
      this.clearTransferFields(l);
      l.attempts++;
      l.nextAttemptAt = r.nextAttemptAt;
      l.lastError = r.reason;
      if (r.forceFull) l.forceFull = true;
    });
    return true;
  }

  /** §6.4 BASE_MISMATCH / HASH_MISMATCH: the label shows something else; it gets a full image at once. */
  mismatched(labelId: string, transferId: number, displayedHash: string): void {
    const l = this.current(labelId, transferId);
    if (!l) return;
    this.mutate(l, true, () => {
      this.clearTransferFields(l);
      l.forceFull = true;
      if (displayedHash !== BLANK_HASH) this.setConfirmed(l, this.intern(displayedHash));
      l.nextAttemptAt = 0;
    });
  }

  /** The label shows `hash`; the colour digest follows when it is the picture this process planned (D107). */
  private setConfirmed(l: LabelRecord, hash: string | null): void {
    if (hash !== l.confirmedHash) l.confirmedColour = hash !== null && hash === l.desiredHash ? l.desiredColour : null;
    l.confirmedHash = hash;
  }

  /** What we believed the label shows is wrong: no delta on it until it confirms a picture of ours. */
  forceFull(labelId: string): void {
    const l = this.labels.get(labelId);
    if (l && !l.forceFull) this.mutate(l, true, () => (l.forceFull = true));
  }

  /**
   * An operator's "send again" (dashboard): attempts and backoff reset, and a full image rather than a delta (the
   * label's own base image may be what went wrong, protocol §6.3). Only a label that is neither consistent nor
   * in transfer is touched; the answer says which case applied.
   */
  resend(labelId: string): 'queued' | 'unknown_label' | 'nothing_to_send' | 'consistent' | 'in_flight' {
    const l = this.labels.get(labelId);
    if (!l) return 'unknown_label';
    if (l.desiredHash === null) return 'nothing_to_send';
    if (l.confirmedHash === l.desiredHash) return 'consistent';
    if (l.transferState !== null) return 'in_flight';
    this.mutate(l, true, () => {
      l.attempts = 0;
      l.nextAttemptAt = 0;
      l.forceFull = true;
      l.lastError = null;
    });
    return 'queued';
  }

  /** An AP said hello: it starts with an empty queue, so whatever we had staged there is gone. */
  apRestarted(apId: string): void {
    for (const l of [...this.transferSet]) if (l.transferAp === apId) this.mutate(l, false, () => this.clearTransferFields(l));
  }

  /**
   * A label checked in (protocol §5.3): what it shows, where it is (roaming), telemetry. Ends our transfer when the
   * label shows it, roamed, rebooted, or the AP no longer holds it. A label seen with another panel type is planned
   * again.
   *
   * D128 A check-in that changes nothing but telemetry (a label wakes every ~30 s, and nearly every check-in is such)
   * writes neither the label's row nor a telemetry point, except once per `telemetrySampleMs`: then both, so the
   * row's last seen is never older than that. A label's first check-in since start, a roam and a reboot always write
   * a point.
   */
  checkin(apId: string, msg: MessageOf<'LABEL_CHECKIN'>, now: number): CheckinOutcome {
    let l = this.labels.get(msg.labelId);
    const created = !l;
    l ??= this.obtain(msg.labelId);
    const rec = l;
    const rebooted = msg.wakeReason === WakeReason.BOOT;
    const out: CheckinOutcome = { created, previousAp: rec.apId, rebooted, transferEnded: false, baseMismatch: false };
    const displayed = this.intern(msg.displayedHash)!;
    const was = persistedByCheckin(rec);
    this.mutate(rec, false, () => {
      if (!created && rec.labelType !== msg.labelType) {
        // A label seen with another panel must be planned for its type.
        rec.dirty++;
        this.addDelta(rec, 1);
      }
      rec.labelType = msg.labelType;
      rec.apId = this.name(apId);
      if (rec.confirmedHash !== displayed || rec.confirmedAt === null) rec.confirmedAt = now;
      const before = { confirmed: rec.confirmedHash };
      this.setConfirmed(rec, displayed);
      rec.lastSeenAt = now;
      rec.batteryMv = msg.batteryMv;
      rec.rssi = msg.rssi;
      rec.lqi = msg.lqi;
      rec.temperatureC = msg.temperatureC;
      rec.wakeReason = msg.wakeReason;
      rec.page = msg.page;
      // §5.3 decoders: what the label can decode, for chooseEncoding; absent = a label of before §6.6.
      rec.decoders = msg.decoders ?? null;
      if (!created) {
        const consistent = displayed === rec.desiredHash;
        rec.consistentSince = consistent ? (rec.consistentSince ?? now) : null;
        if (consistent) {
          rec.attempts = 0;
          // Once the label shows what it should, our picture of it is right again: deltas are safe.
          rec.forceFull = false;
        }
      }
      if (rec.transferState === null || rec.transferId === null) return;
      const done = displayed === rec.transferHash;
      if (!done && !rebooted && before.confirmed !== null && displayed !== before.confirmed) {
        out.baseMismatch = true;
        rec.forceFull = true;
      }
      const roamed = rec.transferAp !== apId;
      // The AP no longer holds our staged transfer (it restarted, or dropped it): send again.
      const lostAtAp = rec.transferState === 'staged' && !roamed && msg.pendingTransferId !== rec.transferId;
      if (done || roamed || rebooted || lostAtAp) {
        if (roamed && rec.transferAp && !done) out.cancelAt = { apId: rec.transferAp, transferId: rec.transferId };
        this.clearTransferFields(rec);
        rec.nextAttemptAt = 0;
        out.transferEnded = true;
      }
    });
    // A new label has no point yet (telemetryAt null), so its first check-in is always one.
    const point = rebooted || out.previousAp !== rec.apId || rec.telemetryAt === null || now - rec.telemetryAt >= this.deps.telemetrySampleMs;
    if (point) {
      rec.telemetryAt = now;
      this.telemetry.push([msg.labelId, now, apId, msg.batteryMv, msg.rssi, msg.lqi, msg.temperatureC]);
    }
    if (point || persistedByCheckin(rec) !== was) this.persist(rec);
    return out;
  }

  /** The label was seen awake: the wake predictor learns from it (memory only, nothing persisted). */
  observeWake(labelId: string, learn: (s: WakeState) => void): void {
    const l = this.labels.get(labelId);
    if (l) learn(l);
  }

  // ---- alerts ---------------------------------------------------------------------------------------------

  /** The label alerts raised or cleared, in the transaction that put the alert into the outbox (raised once). */
  async setAlertFlagsTx(tx: Tx, labelId: string, flags: number): Promise<void> {
    await this.stmt(tx, 'UPDATE labels SET alert_flags = ? WHERE label_id = ?').run([flags, labelId]);
    tx.onCommit(() => {
      const l = this.labels.get(labelId);
      // Persisted with the next batch too, for a label whose row the batch has not created yet.
      if (l && l.alertFlags !== flags) this.mutate(l, true, () => (l.alertFlags = flags));
    });
  }

  // ---- persistence ----------------------------------------------------------------------------------------

  /** Writes every pending change now (one transaction). Shutdown, settle() and tests call it. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.flushTimer) {
      this.deps.clock.clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.pending.size === 0 && this.telemetry.length === 0 && this.transferSeq === this.transferSeqWritten) return;
    const rows = this.pending;
    const deltas = this.dirtyDelta;
    const telemetry = this.telemetry;
    const seq = this.transferSeq;
    this.pending = new Set();
    this.dirtyDelta = new Map();
    this.telemetry = [];
    this.flushing = this.deps.db
      .transaction(
        (tx) => {
          const all = [...rows];
          for (const l of deltas.keys()) if (!rows.has(l)) all.push(l);
          // D127 The whole batch is one trip to sqlite: BEGIN, one statement per table (the rows as one JSON
          // parameter, written into the SQL) and COMMIT in one exec. The queue is held for sqlite's work, not for
          // turns of a busy event loop between statements. The rows are read from memory inside the transaction, so
          // what it writes is never older than what another transaction wrote of them before it.
          if (all.length > 0) tx.runLater(UPSERT_JSON_SQL, [JSON.stringify(all.map((l) => upsertParams(l, deltas.get(l) ?? 0)))]);
          if (telemetry.length > 0) {
            // One statement for the batch (D21's json_each), not a thread-pool round trip per check-in (D67).
            tx.runLater(
              `INSERT INTO label_telemetry (label_id, at, ap_id, battery_mv, rssi, lqi, temperature_c)
               SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6 FROM json_each(?)`,
              [JSON.stringify(telemetry)],
            );
          }
          if (seq !== this.transferSeqWritten) {
            tx.runLater("INSERT INTO meta (key, value) VALUES ('transfer_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [String(seq)]);
          }
          return Promise.resolve();
        },
        { begin: 'with-first-write' },
      )
      .then(
        () => {
          this.transferSeqWritten = seq;
          this.flushStats.batches++;
          this.flushStats.rows += rows.size;
        },
        (err: unknown) => {
          // Keep what was not written for the next batch (a newer delta adds to the one that failed).
          for (const l of rows) this.pending.add(l);
          for (const [l, d] of deltas) this.dirtyDelta.set(l, (this.dirtyDelta.get(l) ?? 0) + d);
          this.telemetry = telemetry.concat(this.telemetry);
          this.deps.log.error({ evt: 'labels.flush_failed', rows: rows.size, err: errorMessage(err) }, 'label state could not be written; will retry');
        },
      )
      .finally(() => {
        this.flushing = null;
        if (this.pending.size > 0 || this.telemetry.length > 0) this.scheduleFlush();
      });
    await this.flushing;
  }

  /** Stops the flush timer after writing what is pending. */
  async stop(): Promise<void> {
    await this.flush();
    this.stopped = true;
    if (this.flushTimer) this.deps.clock.clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.flushing || this.stopped) return;
    this.flushTimer = this.deps.clock.setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, this.deps.flushIntervalMs);
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private labelsOf(gtin: string): LabelRecord[] {
    const v = this.byGtinIndex.get(gtin);
    return v === undefined ? [] : v instanceof Set ? [...v] : [v];
  }

  /** AP ids and template names, one copy each (a few distinct values shared by every label). */
  private readonly names = new Map<string, string>();
  private name(n: string | null): string | null {
    if (n === null) return null;
    const known = this.names.get(n);
    if (known !== undefined) return known;
    this.names.set(n, n);
    return n;
  }

  private intern(h: string | null): string | null {
    if (h === null) return null;
    const known = this.hashes.get(h);
    if (known !== undefined) return known;
    this.hashes.set(h, h);
    return h;
  }

  /** Drops the interned hashes not in `used` (the image sweep's referencedHashes). */
  pruneHashes(used: ReadonlySet<string>): void {
    for (const h of this.hashes.keys()) if (!used.has(h)) this.hashes.delete(h);
  }

  /**
   * Every hash some label refers to (desired, confirmed, in transfer, next): the pictures still needed. With `slices`
   * the walk yields to the event loop between labels when its slice is spent (D147: image-sweep.ts).
   */
  async referencedHashes(slices?: LoopSlices): Promise<Set<string>> {
    const used = new Set<string>();
    const add = (h: string | null) => {
      if (h !== null) used.add(h);
    };
    for (const l of this.labels.values()) {
      if (slices?.due()) await slices.next();
      add(l.desiredHash);
      add(l.confirmedHash);
      add(l.transferHash);
      add(l.nextHash);
    }
    slices?.end();
    return used;
  }

  private obtain(labelId: string): LabelRecord {
    let l = this.labels.get(labelId);
    if (!l) {
      l = new LabelRecord(labelId, this.cols);
      this.labels.set(labelId, l);
    }
    return l;
  }

  private current(labelId: string, transferId: number): LabelRecord | undefined {
    const l = this.labels.get(labelId);
    return l && l.transferId === transferId ? l : undefined;
  }

  private clearTransferFields(l: LabelRecord): void {
    l.transferId = null;
    l.transferAp = null;
    l.transferHash = null;
    l.transferState = null;
    l.transferAt = null;
    l.transferDisplayAt = null;
  }

  private addDelta(l: LabelRecord, d: number): void {
    this.dirtyDelta.set(l, (this.dirtyDelta.get(l) ?? 0) + d);
  }

  /**
   * Every change goes through here: the indexes follow the record, and the row is queued for the next batch. D149
   * Only the indexes whose membership the change moved are touched: most changes (a check-in's wake, a claim, a
   * transfer's step) leave the label in its product's, AP's and dirty sets, and re-inserting it into all of them on
   * every change cost ~1.7 s of the main thread in a reference repricing (D148's profile: index, unindex, removeFrom).
   */
  private mutate(l: LabelRecord, persist: boolean, fn: () => void): void {
    const gtin = l.gtin;
    const work = workAp(l);
    const queued = queuedAp(l);
    const transferring = l.transferState !== null;
    const dirty = l.dirty > 0;
    fn();
    if (l.gtin !== gtin) {
      if (gtin !== null) this.unindexGtin(l, gtin);
      if (l.gtin !== null) this.indexGtin(l, l.gtin);
    }
    const workNow = workAp(l);
    if (workNow !== work) {
      if (work !== null) removeFrom(this.workIndex, work, l);
      if (workNow !== null) addTo(this.workIndex, workNow, l);
    }
    const queuedNow = queuedAp(l);
    if (queuedNow !== queued) {
      if (queued !== null) removeFrom(this.queuedIndex, queued, l);
      if (queuedNow !== null) addTo(this.queuedIndex, queuedNow, l);
    }
    if ((l.transferState !== null) !== transferring) {
      if (transferring) this.transferSet.delete(l);
      else this.transferSet.add(l);
    }
    if ((l.dirty > 0) !== dirty) {
      if (dirty) this.dirtySet.delete(l);
      else this.dirtySet.add(l);
    }
    if (persist) this.persist(l);
  }

  private persist(l: LabelRecord): void {
    this.pending.add(l);
    this.scheduleFlush();
  }

  /** Indexes a label loaded from sqlite (mutate keeps the indexes after that). */
  private index(l: LabelRecord): void {
    if (l.gtin !== null) this.indexGtin(l, l.gtin);
    const work = workAp(l);
    if (work !== null) addTo(this.workIndex, work, l);
    const queued = queuedAp(l);
    if (queued !== null) addTo(this.queuedIndex, queued, l);
    if (l.transferState !== null) this.transferSet.add(l);
    if (l.dirty > 0) this.dirtySet.add(l);
  }

  private indexGtin(l: LabelRecord, gtin: string): void {
    const v = this.byGtinIndex.get(gtin);
    if (v === undefined) this.byGtinIndex.set(gtin, l);
    else if (v instanceof Set) v.add(l);
    else if (v !== l) this.byGtinIndex.set(gtin, new Set([v, l]));
  }

  private unindexGtin(l: LabelRecord, gtin: string): void {
    const v = this.byGtinIndex.get(gtin);
    if (v === l) this.byGtinIndex.delete(gtin);
    else if (v instanceof Set) {
      v.delete(l);
      if (v.size === 1) this.byGtinIndex.set(gtin, [...v][0]!);
    }
  }
}

/** The AP whose work index holds the label: its AP, when it has something to be sent (hasWork). */
function workAp(l: LabelRecord): string | null {
  return l.apId !== null && l.hasWork ? l.apId : null;
}

/** The AP whose queue holds the label's transfer: being sent to it or staged on it. */
function queuedAp(l: LabelRecord): string | null {
  return l.transferAp !== null && (l.transferState === 'sending' || l.transferState === 'staged') ? l.transferAp : null;
}

function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(v);
}
function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(v);
  if (s.size === 0) m.delete(k);
}

/**
 * The columns a check-in may change besides telemetry (last seen, battery, radio, temperature, wake reason), as one
 * string: the row is written when it differs after the check-in (D128). Dirty marks persist through their own deltas.
 */
function persistedByCheckin(l: LabelRecord): string {
  return `${l.labelType}|${l.apId}|${l.confirmedHash}|${l.confirmedAt}|${l.consistentSince}|${l.attempts}|${l.forceFull}|${l.decoders}|${l.page}|${l.nextAttemptAt}`;
}
