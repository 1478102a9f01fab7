/**
 * The audit report's shape (GET /api/v1/audit): what the edge answers and what the simulator's scenarios read back to
 * compare with the panels they really show. A contract shared by both programs, so it lives in the contracts package
 * (docs/architecture.md, D77); price-audit.ts computes it.
 */
import { z } from 'zod';

export const AuditStatusSchema = z.enum(['consistent', 'pending', 'stale', 'failed', 'unreachable', 'unbound', 'not_sold']);
export type AuditStatus = z.infer<typeof AuditStatusSchema>;

export const AuditEntrySchema = z.object({
  labelId: z.string(),
  status: AuditStatusSchema,
  gtin: z.string().nullable(),
  apId: z.string().nullable(),
  /** The price the till charges now (effective price), when known. */
  tillPriceCents: z.number().int().nullable(),
  /** The price the label displays, from the content of its confirmed hash; null when unknown (blank, foreign). */
  shownPriceCents: z.number().int().nullable(),
  /** The label rule that produced the shown price and since when it is shown ("1,49 € by rule … since 19:30"). */
  shownRule: z.object({ ruleId: z.string(), since: z.number() }).nullable().optional(),
  desiredHash: z.string().nullable(),
  confirmedHash: z.string().nullable(),
  /** Since when the label should show the desired content (epoch ms). */
  desiredSince: z.number().nullable(),
  lastSeenAt: z.number().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

const PercentilesSchema = { p50: z.number().nullable(), p95: z.number().nullable(), max: z.number().nullable() };

export const AuditReportSchema = z.object({
  generatedAt: z.number(),
  counts: z.record(AuditStatusSchema, z.number().int()),
  total: z.number().int(),
  /** Labels whose displayed price differs from the till's. */
  priceMismatches: z.number().int(),
  /** Time from a desired change to the label's confirmation, over labels that converged (ms). */
  timeToConsistencyMs: z.object({ ...PercentilesSchema, samples: z.number().int() }),
  /**
   * The same per change: labels grouped by the minute their new content was planned (a price list, a promotion
   * start), newest first, at most 20 — "the 02:00 price list: 95 % of labels consistent after 14 min".
   */
  timeToConsistencyByChange: z.array(z.object({ changedAt: z.string(), labels: z.number().int(), consistent: z.number().int(), ...PercentilesSchema })),
  labels: z.array(AuditEntrySchema),
});
export type AuditReport = z.infer<typeof AuditReportSchema>;
