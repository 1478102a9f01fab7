/**
 * The durable dispatch engine: brings every label from what it confirmed to what it should show.
 *
 * State lives in the `labels` table (desired hash, confirmed hash, the transfer under way), so a crash loses
 * nothing: on start, transfers that were under way are forgotten and re-sent, and labels whose confirmed hash
 * differs from the desired one are dispatched again. Only the newest desired image matters: ten price changes in
 * a minute cost one transfer (a newer desired hash cancels a transfer of an older one).
 *
 * Per AP at most min(maxInFlightPerAp, the AP's queue capacity) transfers are staged at once, and a QUEUE_FULL
 * NACK backs the AP off (protocol §7.1), so a store-wide repricing never floods an AP. Failed transfers are retried
 * with exponential backoff and jitter. A label that checks in through another AP is re-routed there; one that
 * reports a reboot, or a hash that is not what we sent, gets its content again without anyone asking.
 */
import type { Database } from '../../persistence/database.js';
import type { Clock, Random, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { EdgeError, errorMessage } from '../../core/errors.js';
import type { Config } from '../../config/config-schema.js';
import {
  ApCapability,
  BLANK_HASH,
  ImageKind,
  StatusCode,
  WakeReason,
  chooseEncoding,
  labelTypeById,
  splitBlocks,
  type MessageOf,
  type StatusCodeValue,
} from '../../../firmware-protocol/src/index.js';
import type { ApGateway } from '../ports.js';
import type { ApRegistry } from '../aps/ap-registry.js';
import { loadImage } from '../labels/image-store.js';
import { backoffMs } from './backoff.js';

interface LabelRow {
  label_id: string;
  label_type: number | null;
  ap_id: string | null;
  desired_hash: string | null;
  confirmed_hash: string | null;
  transfer_id: number | null;
  transfer_ap: string | null;
  transfer_hash: string | null;
  transfer_state: string | null;
  transfer_at: number | null;
  attempts: number;
  force_full: number;
  gtin: string | null;
  next_hash: string | null;
  next_at: number | null;
  drop_timed: number;
  transfer_display_at: number | null;
  /** §5.3 LabelDecoder bits of the last check-in; null = never announced (a label of before §6.6). */
  decoders: number | null;
}

/** now: the desired picture at once; timed: the next picture, shown at next_at (§6.5); drop: withdraw a timed picture. */
type TransferMode = 'now' | 'timed' | 'drop';

export interface DispatchStats {
  transfersStarted: number;
  transfersStaged: number;
  transfersDelivered: number;
  transfersFailed: number;
  bytesSent: number;
  fullImages: number;
  deltaImages: number;
  /** Labels that reported their picture was not the base we assumed (§6.4), answered with a full image. */
  baseMismatches: number;
}

/**
 * The queries of a dispatch pass, with the index each must use (test/labels/dispatch-queries.test.ts checks the
 * plans). Their WHERE terms repeat those of the partial indexes of migration 5 verbatim — sqlite uses a partial index
 * only when it sees the implication — so a pass reads only labels with work, not all of an AP's labels (D16).
 */
export const PASS_QUERIES = {
  /** Transfers in flight on an AP. Index labels_transfer_ap. */
  inFlight: "SELECT count(*) AS n FROM labels WHERE transfer_ap = ? AND transfer_state IN ('sending', 'staged')",
  /** Labels of an AP that must get their desired picture, most urgent first. Index labels_to_send. */
  toSend: `SELECT * FROM labels
     WHERE ap_id = ? AND desired_hash IS NOT NULL AND confirmed_hash IS NOT desired_hash
       AND label_type IS NOT NULL AND transfer_state IS NULL AND next_attempt_at <= ?
     ORDER BY priority, desired_since LIMIT ?`,
  /** Timed pictures to withdraw (protocol §6.5). Index labels_to_drop. */
  toDrop: 'SELECT * FROM labels WHERE ap_id = ? AND drop_timed = 1 AND desired_hash IS NOT NULL AND transfer_state IS NULL AND next_attempt_at <= ? LIMIT ?',
  /** Upcoming pictures to stage with a display time, soonest first. Index labels_to_stage. */
  toStage: `SELECT * FROM labels
     WHERE ap_id = ? AND next_hash IS NOT NULL AND next_at > ? AND confirmed_hash = desired_hash AND drop_timed = 0
       AND transfer_state IS NULL AND label_type IS NOT NULL AND next_attempt_at <= ?
     ORDER BY next_at LIMIT ?`,
  /** When the pass must run again for a label in backoff. Index labels_next_attempt. */
  nextRetry: `SELECT min(next_attempt_at) AS at FROM labels WHERE next_attempt_at > ? AND desired_hash IS NOT NULL
     AND confirmed_hash IS NOT desired_hash AND transfer_state IS NULL`,
} as const;

export class Dispatcher {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private sweepTimer: TimerHandle | null = null;
  private wakeTimer: TimerHandle | null = null;
  private kickTimer: TimerHandle | null = null;
  private lastPassAt = -Infinity;
  /** Dispatch passes run so far (metrics, benchmarks). */
  passes = 0;
  /** Transfers being sent right now (ACKs awaited), per AP. */
  private readonly sending = new Map<string, Set<string>>();
  readonly stats: DispatchStats = { transfersStarted: 0, transfersStaged: 0, transfersDelivered: 0, transfersFailed: 0, bytesSent: 0, fullImages: 0, deltaImages: 0, baseMismatches: 0 };

  constructor(
    private readonly deps: {
      db: Database;
      gateway: ApGateway;
      aps: ApRegistry;
      clock: Clock;
      random: Random;
      log: Logger;
      config: Config['dispatch'];
      /** Told about every check-in, for telemetry alerts and metrics. */
      onCheckin?: (labelId: string, apId: string, msg: MessageOf<'LABEL_CHECKIN'>) => void;
    },
  ) {}

  /** Forgets transfers that were under way when the edge stopped: the APs are told again after their hello. */
  async start(): Promise<void> {
    await this.deps.db.run(
      `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL
       WHERE transfer_state IS NOT NULL`,
    );
    this.scheduleSweep();
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) this.deps.clock.clearTimeout(this.sweepTimer);
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    if (this.kickTimer) this.deps.clock.clearTimeout(this.kickTimer);
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
    const pending = [...this.sending.values()].reduce((n, s) => n + s.size, 0);
    if (pending > 0) await new Promise((r) => setTimeout(r, 20)).then(() => this.idle());
  }

  /**
   * Asks for a dispatch pass. Passes run one at a time and start at most once per `minPassIntervalMs`: every
   * check-in, transfer result and heartbeat kicks, and a large store forwards hundreds of check-ins a second, so
   * unthrottled passes (a few queries per AP each) would run back to back (docs/decisions.md D16). A staged
   * transfer waits ~15 s for its label's wake-up anyway.
   */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.kickTimer) return;
    const wait = this.lastPassAt + this.deps.config.minPassIntervalMs - this.deps.clock.now();
    if (wait > 0) {
      this.kickTimer = this.deps.clock.setTimeout(() => {
        this.kickTimer = null;
        this.kick();
      }, wait);
      return;
    }
    this.lastPassAt = this.deps.clock.now();
    this.passes++;
    this.running = this.pass()
      .catch((err) => this.deps.log.error({ evt: 'dispatch.failed', err: errorMessage(err) }, 'dispatch pass failed'))
      .finally(() => {
        this.running = null;
        if (this.again && !this.stopped) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async pass(): Promise<void> {
    const now = this.deps.clock.now();
    let earliestRetry = Infinity;
    for (const ap of this.deps.aps.online()) {
      if (ap.backoffUntil > now) {
        earliestRetry = Math.min(earliestRetry, ap.backoffUntil);
        continue;
      }
      const capacity = Math.min(this.deps.config.maxInFlightPerAp, ap.queueCapacity || this.deps.config.maxInFlightPerAp);
      const inFlight = await this.deps.db.get<{ n: number }>(
        PASS_QUERIES.inFlight,
        [ap.apId],
      );
      const free = capacity - (inFlight?.n ?? 0);
      if (free <= 0) continue;
      const candidates = await this.deps.db.all<LabelRow>(PASS_QUERIES.toSend, [ap.apId, now, free]);
      for (const label of candidates) void this.startTransfer(ap.apId, label, 'now');
      let left = free - candidates.length;
      if (left > 0) {
        // Withdraw timed pictures that are no longer wanted, then stage upcoming ones (protocol §6.5).
        const drops = await this.deps.db.all<LabelRow>(PASS_QUERIES.toDrop, [ap.apId, now, left]);
        for (const label of drops) void this.startTransfer(ap.apId, label, 'drop');
        left -= drops.length;
      }
      if (left > 0 && ap.capabilities & ApCapability.TIMED_DISPLAY) {
        const timed = await this.deps.db.all<LabelRow>(PASS_QUERIES.toStage, [ap.apId, now, now, left]);
        for (const label of timed) void this.startTransfer(ap.apId, label, 'timed');
      }
    }
    const next = await this.deps.db.get<{ at: number | null }>(PASS_QUERIES.nextRetry, [now]);
    if (next?.at) earliestRetry = Math.min(earliestRetry, next.at);
    if (earliestRetry !== Infinity) this.wakeAt(earliestRetry);
  }

  private wakeAt(at: number): void {
    if (this.wakeTimer) this.deps.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = this.deps.clock.setTimeout(() => {
      this.wakeTimer = null;
      this.kick();
    }, Math.max(0, at - this.deps.clock.now()));
  }

  private async startTransfer(apId: string, label: LabelRow, mode: TransferMode): Promise<void> {
    const { db, clock, gateway, log } = this.deps;
    const set = this.sending.get(apId) ?? new Set<string>();
    this.sending.set(apId, set);
    if (set.has(label.label_id)) return;
    set.add(label.label_id);
    const targetHash = mode === 'timed' ? label.next_hash! : label.desired_hash!;
    const displayAt = mode === 'timed' ? label.next_at! : 0;
    // The claim re-checks what the pass saw, so a label re-planned meanwhile is not sent a stale picture.
    const claimWhere = mode === 'timed' ? 'next_hash = ?' : mode === 'drop' ? 'drop_timed = 1 AND desired_hash = ?' : 'desired_hash = ?';
    let transferId = 0;
    try {
      transferId = await db.transaction(async (tx) => {
        const row = await tx.get<{ value: string }>("SELECT value FROM meta WHERE key = 'transfer_seq'");
        // u32 transfer ids; 0 means "none" on the wire (§5.3 pendingTransferId).
        const id = ((Number(row?.value ?? 0) % 0xfffffffe) + 1) >>> 0;
        await tx.run("INSERT INTO meta (key, value) VALUES ('transfer_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [String(id)]);
        const claimed = await tx.run(
          `UPDATE labels SET transfer_id = ?, transfer_ap = ?, transfer_hash = ?, transfer_state = 'sending', transfer_at = ?, transfer_display_at = ?
           WHERE label_id = ? AND transfer_state IS NULL AND ${claimWhere}`,
          [id, apId, targetHash, clock.now(), displayAt || null, label.label_id, targetHash],
        );
        return claimed.changes === 1 ? id : 0;
      });
      if (transferId === 0) return;
      this.stats.transfersStarted++;

      const ap = this.deps.aps.get(apId);
      const type = labelTypeById(label.label_type!);
      const target = await loadImage(db, targetHash);
      if (!ap || !type || !target) throw new EdgeError('RENDER_FAILED', `no image ${targetHash} or label type ${label.label_type} for ${label.label_id}`);
      const base =
        !label.force_full && label.confirmed_hash && label.confirmed_hash !== BLANK_HASH ? await loadImage(db, label.confirmed_hash) : undefined;
      const basePlanes = base && base.labelType === type.id ? base.planes : undefined;
      // §6.6.1: the smallest payload both the AP and the label decode (label.decoders: its last check-in).
      const encoded = chooseEncoding({ ap: ap.capabilities, label: label.decoders }, type, target.planes, basePlanes);
      if (encoded.kind === ImageKind.FULL) this.stats.fullImages++;
      else this.stats.deltaImages++;

      const begin: MessageOf<'IMAGE_BEGIN'> = {
        type: 'IMAGE_BEGIN',
        transferId,
        labelId: label.label_id,
        labelType: type.id,
        kind: encoded.kind,
        encoding: encoded.encoding,
        baseHash: encoded.baseHash,
        targetHash: encoded.targetHash,
        totalSize: encoded.payload.length,
        region: encoded.region,
        displayAt,
        page: 0,
        priority: mode === 'timed' ? 1 : 0,
      };
      const status = await gateway.send(apId, begin);
      if (status !== StatusCode.OK) return await this.nacked(apId, label.label_id, transferId, status);
      const blocks = splitBlocks(encoded.payload, ap.maxBlockSize);
      for (const [blockIndex, data] of blocks.entries()) {
        const s = await gateway.send(apId, { type: 'IMAGE_BLOCK', transferId, blockIndex, data });
        if (s !== StatusCode.OK) return await this.nacked(apId, label.label_id, transferId, s);
        this.stats.bytesSent += data.length;
      }
      await db.run("UPDATE labels SET transfer_state = 'staged' WHERE label_id = ? AND transfer_id = ?", [label.label_id, transferId]);
      this.stats.transfersStaged++;
      log.debug({ evt: 'transfer.staged', labelId: label.label_id, apId, transferId, kind: encoded.kind, bytes: encoded.payload.length }, 'transfer staged');
    } catch (err) {
      log.warn({ evt: 'transfer.send_failed', labelId: label.label_id, apId, transferId, err: errorMessage(err) }, 'transfer could not be sent');
      if (transferId) await this.retryLater(label.label_id, transferId, errorMessage(err)).catch(() => undefined);
    } finally {
      set.delete(label.label_id);
      this.kick();
    }
  }

  private async nacked(apId: string, labelId: string, transferId: number, status: StatusCodeValue): Promise<void> {
    const now = this.deps.clock.now();
    if (status === StatusCode.QUEUE_FULL || status === StatusCode.BUSY) {
      // Backpressure: the AP is full. Hold this AP back and retry the label without counting an attempt.
      const ap = this.deps.aps.get(apId);
      if (ap) ap.backoffUntil = now + 2_000 + Math.floor(this.deps.random() * 1_000);
      await this.clearTransfer(labelId, transferId, { nextAttemptAt: ap?.backoffUntil ?? now + 2_000 });
      return;
    }
    await this.retryLater(labelId, transferId, `AP answered status ${status}`);
  }

  private async clearTransfer(labelId: string, transferId: number, opts: { nextAttemptAt?: number } = {}): Promise<void> {
    await this.deps.db.run(
      `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL,
         next_attempt_at = coalesce(?, next_attempt_at)
       WHERE label_id = ? AND transfer_id = ?`,
      [opts.nextAttemptAt ?? null, labelId, transferId],
    );
  }

  private async retryLater(labelId: string, transferId: number, reason: string, opts: { forceFull?: boolean } = {}): Promise<void> {
    const row = await this.deps.db.get<{ attempts: number }>('SELECT attempts FROM labels WHERE label_id = ?', [labelId]);
    const attempts = (row?.attempts ?? 0) + 1;
    const delay = backoffMs(attempts, this.deps.config, this.deps.random);
    this.stats.transfersFailed++;
    await this.deps.db.run(
      `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL,
         attempts = ?, next_attempt_at = ?, last_error = ?, force_full = CASE WHEN ? THEN 1 ELSE force_full END
       WHERE label_id = ? AND transfer_id = ?`,
      [attempts, this.deps.clock.now() + delay, reason, opts.forceFull ? 1 : 0, labelId, transferId],
    );
    this.wakeAt(this.deps.clock.now() + delay);
  }

  // ---- inbound from the APs -------------------------------------------------------------------------

  async labelCheckin(apId: string, msg: MessageOf<'LABEL_CHECKIN'>): Promise<StatusCodeValue> {
    const { db, clock } = this.deps;
    const now = clock.now();
    const before = await db.get<LabelRow>('SELECT * FROM labels WHERE label_id = ?', [msg.labelId]);
    const rebooted = msg.wakeReason === WakeReason.BOOT;
    let cancelAt: { apId: string; transferId: number } | undefined;
    await db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO labels (label_id, label_type, ap_id, confirmed_hash, confirmed_at, last_seen_at, battery_mv, rssi, lqi, temperature_c, wake_reason, page, dirty)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
         ON CONFLICT(label_id) DO UPDATE SET
           label_type = excluded.label_type, ap_id = excluded.ap_id,
           confirmed_at = CASE WHEN labels.confirmed_hash IS excluded.confirmed_hash THEN labels.confirmed_at ELSE excluded.confirmed_at END,
           confirmed_hash = excluded.confirmed_hash, last_seen_at = excluded.last_seen_at, battery_mv = excluded.battery_mv,
           rssi = excluded.rssi, lqi = excluded.lqi, temperature_c = excluded.temperature_c, wake_reason = excluded.wake_reason,
           page = excluded.page,
           -- a label seen for the first time (or with another panel) must be planned for its type
           dirty = CASE WHEN labels.label_type IS excluded.label_type THEN labels.dirty ELSE labels.dirty + 1 END,
           consistent_since = CASE WHEN excluded.confirmed_hash = labels.desired_hash THEN coalesce(labels.consistent_since, excluded.last_seen_at) ELSE NULL END,
           attempts = CASE WHEN excluded.confirmed_hash = labels.desired_hash THEN 0 ELSE labels.attempts END,
           -- once the label shows what it should, our picture of it is right again: deltas are safe
           force_full = CASE WHEN excluded.confirmed_hash = labels.desired_hash THEN 0 ELSE labels.force_full END`,
        [msg.labelId, msg.labelType, apId, msg.displayedHash, now, now, msg.batteryMv, msg.rssi, msg.lqi, msg.temperatureC, msg.wakeReason, msg.page],
      );
      // §5.3 decoders: what the label can decode, for chooseEncoding; absent = a label of before §6.6.
      await tx.run('UPDATE labels SET decoders = ? WHERE label_id = ?', [msg.decoders ?? null, msg.labelId]);
      await tx.run('INSERT INTO label_telemetry (label_id, at, ap_id, battery_mv, rssi, lqi, temperature_c) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        msg.labelId,
        now,
        apId,
        msg.batteryMv,
        msg.rssi,
        msg.lqi,
        msg.temperatureC,
      ]);
      if (!before?.transfer_state || before.transfer_id === null) return;
      const done = msg.displayedHash === before.transfer_hash;
      if (!done && !rebooted && before.confirmed_hash !== null && msg.displayedHash !== before.confirmed_hash) {
        // §6.4: the label shows neither what we believed nor what we sent: our delta base was wrong. Send full.
        this.stats.baseMismatches++;
        await tx.run('UPDATE labels SET force_full = 1 WHERE label_id = ?', [msg.labelId]);
      }
      const roamed = before.transfer_ap !== apId;
      // The AP no longer holds our staged transfer (it restarted, or dropped it): send again.
      const lostAtAp = before.transfer_state === 'staged' && !roamed && msg.pendingTransferId !== before.transfer_id;
      if (done || roamed || rebooted || lostAtAp) {
        if (roamed && before.transfer_ap && !done) cancelAt = { apId: before.transfer_ap, transferId: before.transfer_id };
        await tx.run(
          `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL,
             next_attempt_at = 0 WHERE label_id = ? AND transfer_id = ?`,
          [msg.labelId, before.transfer_id],
        );
      }
    });
    if (cancelAt) {
      const c = cancelAt;
      this.deps.gateway.send(c.apId, { type: 'IMAGE_CANCEL', transferId: c.transferId }).catch(() => undefined);
    }
    if (before?.ap_id && before.ap_id !== apId) this.deps.log.info({ evt: 'label.roamed', labelId: msg.labelId, from: before.ap_id, to: apId }, 'label moved to another AP');
    if (rebooted) this.deps.log.info({ evt: 'label.rebooted', labelId: msg.labelId, apId }, 'label reported a reboot; content will be re-sent');
    this.deps.aps.touch(apId, now);
    this.deps.onCheckin?.(msg.labelId, apId, msg);
    this.kick();
    return StatusCode.OK;
  }

  async transferResult(apId: string, msg: MessageOf<'TRANSFER_RESULT'>): Promise<StatusCodeValue> {
    const row = await this.deps.db.get<LabelRow>('SELECT * FROM labels WHERE label_id = ?', [msg.labelId]);
    const mismatch = msg.status === StatusCode.BASE_MISMATCH || msg.status === StatusCode.HASH_MISMATCH;
    if (!row) return StatusCode.OK;
    if (row.transfer_id !== msg.transferId) {
      // An older transfer (already replaced or cleared): nothing to undo, but what it says about the label holds.
      if (mismatch) await this.deps.db.run('UPDATE labels SET force_full = 1 WHERE label_id = ?', [msg.labelId]);
      return StatusCode.OK;
    }
    if (msg.status === StatusCode.OK) {
      this.stats.transfersDelivered++;
      const now = this.deps.clock.now();
      if (row.drop_timed === 1 && row.transfer_hash === row.confirmed_hash) {
        // A withdrawal: the label dropped its timed picture and keeps showing what it shows. Done.
        await this.deps.db.run(
          `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL, drop_timed = 0 WHERE label_id = ? AND transfer_id = ?`,
          [msg.labelId, msg.transferId],
        );
      } else {
        // A timed picture waits on the label until its time: the delivery timeout counts from then.
        await this.deps.db.run("UPDATE labels SET transfer_state = 'delivered', transfer_at = max(?, coalesce(transfer_display_at, 0)) WHERE label_id = ? AND transfer_id = ?", [
          now,
          msg.labelId,
          msg.transferId,
        ]);
      }
    } else {
      this.deps.log.warn({ evt: 'transfer.failed', labelId: msg.labelId, apId, transferId: msg.transferId, status: msg.status }, 'label reported a failed transfer');
      // §6.4: a label whose picture is not what we assumed gets a full image next.
      if (mismatch) {
        this.stats.baseMismatches++;
        await this.deps.db.run(
          `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL,
             force_full = 1, confirmed_hash = CASE WHEN ? <> '${BLANK_HASH}' THEN ? ELSE confirmed_hash END, next_attempt_at = 0
           WHERE label_id = ? AND transfer_id = ?`,
          [msg.displayedHash, msg.displayedHash, msg.labelId, msg.transferId],
        );
      } else {
        await this.retryLater(msg.labelId, msg.transferId, `label reported status ${msg.status}`);
      }
    }
    this.kick();
    return StatusCode.OK;
  }

  /** An AP said hello: it starts with an empty queue, so whatever we had staged there is gone. */
  async apRestarted(apId: string): Promise<void> {
    await this.deps.db.run(
      `UPDATE labels SET transfer_id = NULL, transfer_ap = NULL, transfer_hash = NULL, transfer_state = NULL, transfer_at = NULL, transfer_display_at = NULL
       WHERE transfer_ap = ?`,
      [apId],
    );
    this.kick();
  }

  // ---- periodic sweep -------------------------------------------------------------------------------

  private scheduleSweep(): void {
    if (this.stopped) return;
    const every = Math.max(1_000, Math.min(30_000, Math.floor(this.deps.config.transferTimeoutMs / 4)));
    this.sweepTimer = this.deps.clock.setTimeout(() => {
      void this.sweep()
        .catch((err) => this.deps.log.error({ evt: 'dispatch.sweep_failed', err: errorMessage(err) }, 'sweep failed'))
        .finally(() => this.scheduleSweep());
    }, every);
  }

  /** Transfers staged or delivered too long ago without the label confirming: cancel and retry. */
  async sweep(): Promise<void> {
    const now = this.deps.clock.now();
    const overdue = await this.deps.db.all<{ label_id: string; transfer_id: number; transfer_ap: string; transfer_state: string }>(
      "SELECT label_id, transfer_id, transfer_ap, transfer_state FROM labels WHERE transfer_state IN ('staged', 'delivered') AND transfer_at < ?",
      [now - this.deps.config.transferTimeoutMs],
    );
    for (const t of overdue) {
      if (t.transfer_state === 'staged') this.deps.gateway.send(t.transfer_ap, { type: 'IMAGE_CANCEL', transferId: t.transfer_id }).catch(() => undefined);
      await this.retryLater(t.label_id, t.transfer_id, `transfer ${t.transfer_state} but not confirmed within ${this.deps.config.transferTimeoutMs} ms`);
    }
    this.kick();
  }
}
