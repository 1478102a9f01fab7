/**
 * Keeps every table that grows with input inside its configured bounds (storage.*, docs/decisions.md D26):
 *
 * - dead_letters: by age, then by total size, oldest first; a burst of refused input starts a pass at once
 *   (`noteDeadLetter`), so a flood cannot outgrow the budget by more than an eighth between passes;
 * - outbox: delivered messages after `deliveredMaxAgeH`; undelivered ones (HQ unreachable) beyond
 *   `undeliveredMaxRows` or `undeliveredMaxAgeDays`, oldest first (an alert that old has lost its point);
 * - events (the de-duplication record): by age. A redelivery of a forgotten event is then answered `stale` by the
 *   entity version check, so its effect still happens once;
 * - label_telemetry: by age and row count;
 * - price_history: rows older than `keepDays` that a later row, itself older, supersedes. What PAngV §11 needs —
 *   every price of the 30 days before a reduction and the price in effect when that window opened — stays;
 * - price_feed, shelf_feed (issue 14): rows older than `feeds.maxAgeDays` except each product's latest; rule_history
 *   by the same age.
 *
 * Work is done in short statements (chunks of the oldest rowids), so intake never waits long behind a pass. When
 * pruning by a size or row bound starts (data is lost, not just aged out), an alert `storage-pruning` goes through
 * the durable outbox, once per episode, and `storage-pruning-ended` when the table is back under its bound.
 */
import type { Database } from '../../persistence/database.js';
import { DEAD_LETTER_ROW_BYTES_SQL } from '../../persistence/dead-letters.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '#contracts';
import type { StorageConfig } from '../../config/storage-schema.js';
import { enqueue, prune as pruneDeliveredOutbox } from '../outbox/outbox.js';

const DAY = 24 * 3600 * 1000;
const CHUNK = 5_000;

export type PrunedTable = 'dead_letters' | 'outbox' | 'events' | 'label_telemetry' | 'price_history' | 'price_feed' | 'shelf_feed' | 'rule_history';
/** `age`: aged out (housekeeping); `size` / `rows`: over a bound, data lost early (alerted). */
export type PruneReason = 'age' | 'size' | 'rows' | 'delivered' | 'superseded';

export interface StoragePrunerDeps {
  db: Database;
  clock: Clock;
  log: Logger;
  config: StorageConfig;
  hqConfigured: boolean;
  onPruned?: (table: PrunedTable, reason: PruneReason, rows: number) => void;
  onOutbox?: () => void;
}

export class StoragePruner {
  private timer: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private deadLetterBytesSincePass = 0;
  private lastPriceHistoryPass = -Infinity;
  /** When each table last had to be pruned by its bound (in memory: after a restart the quiet period starts again). */
  private readonly lastBoundPrune = new Map<PrunedTable, number>();
  passes = 0;

  constructor(private readonly deps: StoragePrunerDeps) {}

  start(): void {
    this.kick();
  }

  /** Called after each dead letter with the bytes it is counted at. */
  noteDeadLetter(bytes: number): void {
    this.deadLetterBytesSincePass += bytes;
    if (this.deadLetterBytesSincePass > this.deps.config.deadLetters.maxBytes / 8) this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) {
      this.deps.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.deps.log.warn({ evt: 'storage.prune_failed', err: errorMessage(err) }, 'storage pruning failed; will retry'))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
        } else {
          this.timer = this.deps.clock.setTimeout(() => {
            this.timer = null;
            this.kick();
          }, this.deps.config.pruneIntervalS * 1000);
        }
      });
  }

  /** Resolves when no pass is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over every bounded table. */
  async pass(): Promise<void> {
    const { config } = this.deps;
    const now = this.deps.clock.now();
    this.deadLetterBytesSincePass = 0;
    this.passes++;

    // Dead letters: age, then size.
    this.count('dead_letters', 'age', await this.deleteOldest('dead_letters', 'seq', 'received_at', now - config.deadLetters.maxAgeDays * DAY));
    const overSize = await this.pruneDeadLettersBySize(config.deadLetters.maxBytes);
    await this.episode('dead_letters', overSize, { limitBytes: config.deadLetters.maxBytes });

    // Outbox: delivered rows by age; undelivered by age and count.
    this.count('outbox', 'delivered', await pruneDeliveredOutbox(this.deps.db, now - config.outbox.deliveredMaxAgeH * 3600_000, this.deps.hqConfigured));
    const undeliveredOld = await this.deleteOldest('outbox', 'seq', 'created_at', now - config.outbox.undeliveredMaxAgeDays * DAY);
    const undeliveredOver = await this.deleteBeyondRows('outbox', 'seq', config.outbox.undeliveredMaxRows);
    this.count('outbox', 'age', undeliveredOld);
    this.count('outbox', 'rows', undeliveredOver);
    if (undeliveredOld + undeliveredOver > 0) {
      this.deps.log.warn({ evt: 'outbox.dropped_undelivered', aged: undeliveredOld, overLimit: undeliveredOver }, 'undelivered outbox messages dropped (a destination has been unreachable too long)');
    }
    await this.episode('outbox', undeliveredOver, { limitRows: config.outbox.undeliveredMaxRows });

    // The de-duplication record and the telemetry history.
    this.count('events', 'age', await this.deleteOldest('events', 'rowid', 'received_at', now - config.events.maxAgeDays * DAY));
    this.count('label_telemetry', 'age', await this.deleteOldest('label_telemetry', 'rowid', 'at', now - config.telemetry.maxAgeDays * DAY));
    const telemetryOver = await this.deleteBeyondRows('label_telemetry', 'rowid', config.telemetry.maxRows);
    this.count('label_telemetry', 'rows', telemetryOver);
    await this.episode('label_telemetry', telemetryOver, { limitRows: config.telemetry.maxRows });

    // Price history changes slowly and its query scans the table: once an hour is plenty.
    if (now - this.lastPriceHistoryPass >= 3600_000) {
      this.lastPriceHistoryPass = now;
      this.count('price_history', 'superseded', await this.prunePriceHistory(now - config.priceHistory.keepDays * DAY));
      // Issue 14: the feeds keep each product's latest row; the rule history goes by age.
      const feedsBefore = now - config.feeds.maxAgeDays * DAY;
      for (const table of ['price_feed', 'shelf_feed'] as const) {
        const r = await this.deps.db.run(`DELETE FROM ${table} WHERE created_at < ? AND seq < (SELECT max(seq) FROM ${table} later WHERE later.gtin = ${table}.gtin)`, [feedsBefore]);
        this.count(table, 'superseded', r.changes);
      }
      this.count('rule_history', 'age', await this.deleteOldest('rule_history', 'seq', 'at', feedsBefore));
    }
  }

  private count(table: PrunedTable, reason: PruneReason, rows: number): void {
    if (rows > 0) this.deps.onPruned?.(table, reason, rows);
  }

  /**
   * Deletes rows older than `before`, walking from the oldest key in chunks. Rows are appended in time order, so the
   * walk stops at the first chunk that holds a row too young to go.
   */
  private async deleteOldest(table: PrunedTable, key: 'seq' | 'rowid', timeCol: string, before: number): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await this.deps.db.run(
        `DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} ORDER BY ${key} LIMIT ${CHUNK}) AND ${timeCol} < ?`,
        [before],
      );
      total += r.changes;
      if (r.changes < CHUNK) return total;
    }
  }

  /** Keeps the newest `maxRows` rows (the key grows with every insert, so the key range is the row count). */
  private async deleteBeyondRows(table: PrunedTable, key: 'seq' | 'rowid', maxRows: number): Promise<number> {
    const r = await this.deps.db.get<{ lo: number | null; hi: number | null }>(`SELECT min(${key}) AS lo, max(${key}) AS hi FROM ${table}`);
    if (r?.lo === null || r?.hi === null || r === undefined || r.hi - r.lo + 1 <= maxRows) return 0;
    return (await this.deps.db.run(`DELETE FROM ${table} WHERE ${key} <= ?`, [r.hi - maxRows])).changes;
  }

  /** Oldest dead letters go until the rest fit 90 % of the budget (room for the next burst). */
  private async pruneDeadLettersBySize(maxBytes: number): Promise<number> {
    const sum = await this.deps.db.get<{ bytes: number | null }>(`SELECT sum(${DEAD_LETTER_ROW_BYTES_SQL}) AS bytes FROM dead_letters`);
    const bytes = sum?.bytes ?? 0;
    if (bytes <= maxBytes) return 0;
    const excess = bytes - Math.floor(maxBytes * 0.9);
    const r = await this.deps.db.run(
      `DELETE FROM dead_letters WHERE seq <= (
         SELECT seq FROM (SELECT seq, sum(${DEAD_LETTER_ROW_BYTES_SQL}) OVER (ORDER BY seq) AS cum FROM dead_letters)
         WHERE cum >= ? ORDER BY seq LIMIT 1)`,
      [excess],
    );
    this.count('dead_letters', 'size', r.changes);
    return r.changes;
  }

  private async prunePriceHistory(before: number): Promise<number> {
    const r = await this.deps.db.run(
      `DELETE FROM price_history WHERE effective_from < ?1 AND EXISTS (
         SELECT 1 FROM price_history later WHERE later.gtin = price_history.gtin
           AND later.effective_from > price_history.effective_from AND later.effective_from <= ?1)`,
      [before],
    );
    return r.changes;
  }

  /**
   * Raises `storage-pruning` when bound-driven pruning starts on a table, and `storage-pruning-ended` only after ten
   * prune intervals without any: a flood is pruned in bursts, and one quiet pass in the middle must not make the alert
   * flap (bench/flood raised three "started" alerts in one flood before this hysteresis).
   */
  private async episode(table: PrunedTable, droppedNow: number, limit: Record<string, number>): Promise<void> {
    const key = `storage.pruning.${table}`;
    const now = this.deps.clock.now();
    if (droppedNow > 0 || !this.lastBoundPrune.has(table)) this.lastBoundPrune.set(table, now);
    const quiet = now - this.lastBoundPrune.get(table)! >= 10 * this.deps.config.pruneIntervalS * 1000;
    let raised = false;
    await this.deps.db.transaction(async (tx) => {
      const active = (await tx.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value === '1';
      if (droppedNow > 0 ? active : !active || !quiet) return;
      const type = droppedNow > 0 ? 'storage-pruning' : 'storage-pruning-ended';
      const id = `${type}-${table}-${now}`;
      await enqueue(tx, { id, topic: 'out/alerts', payload: { id, type, table, ...(droppedNow > 0 ? { rowsDropped: droppedNow } : {}), ...limit, at: new Date(now).toISOString() } }, now);
      await tx.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', [key, droppedNow > 0 ? '1' : '0']);
      raised = true;
      if (droppedNow > 0) this.deps.log.warn({ evt: 'storage.pruning_started', table, rowsDropped: droppedNow, ...limit }, 'a table reached its storage bound; the oldest rows are dropped');
      else this.deps.log.info({ evt: 'storage.pruning_ended', table }, 'table back under its storage bound');
    });
    if (raised) this.deps.onOutbox?.();
  }
}
