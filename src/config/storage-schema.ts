/**
 * Storage bounds (docs/decisions.md D26): every table that grows with what others send is pruned by age and size,
 * oldest first, and the database file has a hard cap. Defaults suit a gateway with a few GB of flash.
 */
import { z } from 'zod';

const MiB = 1024 * 1024;
const DAY_S = 24 * 3600;

export const StorageSchema = z
  .object({
    /**
     * Hard cap on the database file (sqlite `max_page_count`): a write beyond it fails (DB_ERROR, the event is not
     * acknowledged) instead of filling the disk. The budgets below keep a store far below it.
     */
    maxDbBytes: z.number().int().min(16 * MiB).default(4096 * MiB),
    /** How often the pruner runs; a burst of dead letters also starts it at once. */
    pruneIntervalS: z.number().int().min(1).max(DAY_S).default(60),
    deadLetters: z
      .object({
        /** Bytes of each refused payload kept for the operator (the rest is dropped at once). */
        maxPayloadBytes: z.number().int().min(0).max(64 * 1024).default(4096),
        /** Total size of the dead letters (payload, reason, topic); beyond it the oldest go first. */
        maxBytes: z.number().int().min(64 * 1024).default(64 * MiB),
        maxAgeDays: z.number().min(0.001).default(30),
      })
      .prefault({}),
    outbox: z
      .object({
        /** Messages every destination acknowledged are kept this long (for the operator), then deleted. */
        deliveredMaxAgeH: z.number().min(0).default(24),
        /**
         * Undelivered messages (HQ unreachable) are kept up to this many rows and this age; beyond, the oldest are
         * dropped with a warning and counted (esl_edge_storage_pruned_rows_total{table="outbox"}).
         */
        undeliveredMaxRows: z.number().int().min(100).default(100_000),
        undeliveredMaxAgeDays: z.number().min(0.001).default(14),
      })
      .prefault({}),
    /** The de-duplication record of events: an id older than this is forgotten (a redelivery is then `stale`). */
    events: z.object({ maxAgeDays: z.number().min(0.001).default(30) }).prefault({}),
    /**
     * Label telemetry history (battery, radio) from check-ins (D128): a point per label at most every
     * `sampleIntervalS` (and at its first check-in since start, a roam, a reboot). The label's row, with its last seen,
     * is written with each point, so after a crash a label's last seen is at most this old until it checks in again.
     */
    telemetry: z
      .object({
        maxAgeDays: z.number().min(0.001).default(7),
        maxRows: z.number().int().min(1000).default(1_000_000),
        sampleIntervalS: z.number().int().min(1).max(86_400).default(600),
      })
      .prefault({}),
    /**
     * Price history for the PAngV §11 lowest price of the prior 30 days: rows older than this, superseded by a later
     * row that is itself older, are deleted. Never below 31 days (30 days and a day of margin for time zones).
     */
    priceHistory: z.object({ keepDays: z.number().min(31).default(35) }).prefault({}),
    /**
     * The price and shelf feeds and the rule history (issue 14): rows older than this go, except each product's
     * latest feed row (what the till and the export are told now). A consumer away longer re-reads the export.
     */
    feeds: z.object({ maxAgeDays: z.number().min(1).default(30) }).prefault({}),
    /**
     * Where sqlite's WAL checkpoints run (D44, D82): `in-commit` inside the COMMIT that crosses 1,000 pages (sqlite's
     * own); `background` on a second connection, off the commit path, so an acknowledgement never waits for one.
     * Durability is the same either way (a commit is durable once its frames are in the WAL); `background` passes the
     * crash tests and shortens the intake's ticks, but showed no gain in the acknowledgement's p99 (D131), so it stays
     * opt-in. With a storage cap its WAL is bounded by a 32nd of the cap.
     */
    walCheckpoints: z.enum(['in-commit', 'background']).default('in-commit'),
  })
  .prefault({});

export type StorageConfig = z.infer<typeof StorageSchema>;
