/**
 * The price-consistency audit: does every label show the price the till charges?
 *
 * The edge trusts only what labels report: the hash of what the panel shows (protocol §5.3). Every hash the edge
 * rendered is stored with the content it was rendered from, so a confirmed hash tells exactly which price the
 * label displays, and the audit can say "label X shows 2,49 €, the till charges 1,99 €, since 10:42".
 */
import type { Database } from '../../persistence/database.js';
import { LabelContentSchema } from '../rendering/label-content.js';
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
  desiredHash: z.string().nullable(),
  confirmedHash: z.string().nullable(),
  /** Since when the label should show the desired content (epoch ms). */
  desiredSince: z.number().nullable(),
  lastSeenAt: z.number().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export interface AuditReport {
  generatedAt: number;
  counts: Record<AuditStatus, number>;
  total: number;
  /** Labels whose displayed price differs from the till's. */
  priceMismatches: number;
  /** Time from a desired change to the label's confirmation, over labels that converged (ms). */
  timeToConsistencyMs: { p50: number | null; p95: number | null; max: number | null; samples: number };
  /**
   * The same per change: labels grouped by the minute their new content was planned (a price list, a promotion
   * start), newest first, at most 20 — "the 02:00 price list: 95 % of labels consistent after 14 min".
   */
  timeToConsistencyByChange: { changedAt: string; labels: number; consistent: number; p50: number | null; p95: number | null; max: number | null }[];
  labels: AuditEntry[];
}

export interface AuditOptions {
  now: number;
  slaSeconds: number;
  unreachableAfterS: number;
  maxAttempts: number;
}

interface Row {
  label_id: string;
  gtin: string | null;
  ap_id: string | null;
  desired_hash: string | null;
  confirmed_hash: string | null;
  desired_since: number | null;
  consistent_since: number | null;
  last_seen_at: number | null;
  attempts: number;
  last_error: string | null;
  dirty: number;
  active: number | null;
  desired_content?: string | null;
  confirmed_content?: string | null;
}

export function classify(r: Pick<Row, 'gtin' | 'desired_hash' | 'confirmed_hash' | 'desired_since' | 'last_seen_at' | 'attempts' | 'active' | 'dirty'>, o: AuditOptions): AuditStatus {
  if (!r.gtin) return 'unbound';
  if (r.active === 0) return 'not_sold';
  if (!r.desired_hash) return r.dirty > 0 ? 'pending' : 'unbound';
  // A change was applied but not yet planned: what the label shows may be outdated, so it is not consistent yet.
  if (r.dirty > 0) return 'pending';
  if (r.confirmed_hash === r.desired_hash) return 'consistent';
  if (r.last_seen_at === null || o.now - r.last_seen_at > o.unreachableAfterS * 1000) return 'unreachable';
  if (r.attempts >= o.maxAttempts) return 'failed';
  if (r.desired_since !== null && o.now - r.desired_since > o.slaSeconds * 1000) return 'stale';
  return 'pending';
}

function priceOf(content: string | null): number | null {
  if (!content) return null;
  const parsed = LabelContentSchema.safeParse(JSON.parse(content));
  return parsed.success ? parsed.data.priceCents : null;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * The price an image shows, by its content hash. A hash names one rendered content for ever, so the price behind it
 * never changes: a caller that audits again and again (the dashboard, once a second on a 50,000-label store) keeps
 * one of these and the audit reads and parses each image's content once instead of twice per label per pass (D32).
 */
export class ImagePriceCache {
  private readonly prices = new Map<string, number | null>();
  constructor(private readonly maxEntries = 250_000) {}

  get(hash: string): number | null | undefined {
    return this.prices.get(hash);
  }

  /** Loads the prices of the hashes not known yet (in chunks: sqlite's host-parameter limit). */
  async fill(db: Database, hashes: Iterable<string>): Promise<void> {
    const missing = [...new Set([...hashes].filter((h) => !this.prices.has(h)))];
    if (this.prices.size + missing.length > this.maxEntries) this.prices.clear();
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const rows = await db.all<{ hash: string; content: string }>(`SELECT hash, content FROM images WHERE hash IN (${chunk.map(() => '?').join(',')})`, chunk);
      const found = new Map(rows.map((r) => [r.hash, priceOf(r.content)]));
      // A hash without a stored image (blank panel, foreign picture) shows no price we know of.
      for (const h of chunk) this.prices.set(h, found.get(h) ?? null);
    }
  }
}

export async function runAudit(db: Database, o: AuditOptions, filter: { status?: AuditStatus; labelId?: string } = {}, cache?: ImagePriceCache): Promise<AuditReport> {
  const rows = await db.all<Row>(
    `SELECT l.label_id, l.gtin, l.ap_id, l.desired_hash, l.confirmed_hash, l.desired_since, l.consistent_since, l.last_seen_at,
            l.attempts, l.last_error, l.dirty, p.active${cache ? '' : ', d.content AS desired_content, c.content AS confirmed_content'}
     FROM labels l
     LEFT JOIN products p ON p.gtin = l.gtin
     ${cache ? '' : 'LEFT JOIN images d ON d.hash = l.desired_hash LEFT JOIN images c ON c.hash = l.confirmed_hash'}
     ${filter.labelId ? 'WHERE l.label_id = ?' : ''}
     ORDER BY l.label_id`,
    filter.labelId ? [filter.labelId] : [],
  );
  if (cache) await cache.fill(db, rows.flatMap((r) => [r.desired_hash, r.confirmed_hash].filter((h): h is string => h !== null)));
  const price = (hash: string | null, content: string | null | undefined) => (cache ? (hash === null ? null : (cache.get(hash) ?? null)) : priceOf(content ?? null));
  const counts = Object.fromEntries(AuditStatusSchema.options.map((s) => [s, 0])) as Record<AuditStatus, number>;
  const durations: number[] = [];
  const byMinute = new Map<number, { labels: number; durations: number[] }>();
  let priceMismatches = 0;
  const labels: AuditEntry[] = [];
  for (const r of rows) {
    const status = classify(r, o);
    counts[status]++;
    const till = price(r.desired_hash, r.desired_content);
    const shown = price(r.confirmed_hash, r.confirmed_content);
    if (till !== null && shown !== till) priceMismatches++;
    const converged = status === 'consistent' && r.consistent_since !== null && r.desired_since !== null;
    if (converged) durations.push(Math.max(0, r.consistent_since! - r.desired_since!));
    if (r.desired_since !== null && status !== 'unbound') {
      const minute = Math.floor(r.desired_since / 60_000) * 60_000;
      const wave = byMinute.get(minute) ?? { labels: 0, durations: [] };
      wave.labels++;
      if (converged) wave.durations.push(Math.max(0, r.consistent_since! - r.desired_since!));
      byMinute.set(minute, wave);
    }
    if (filter.status && filter.status !== status) continue;
    labels.push({
      labelId: r.label_id,
      status,
      gtin: r.gtin,
      apId: r.ap_id,
      tillPriceCents: till,
      shownPriceCents: shown,
      desiredHash: r.desired_hash,
      confirmedHash: r.confirmed_hash,
      desiredSince: r.desired_since,
      lastSeenAt: r.last_seen_at,
      attempts: r.attempts,
      lastError: r.last_error,
    });
  }
  durations.sort((a, b) => a - b);
  return {
    generatedAt: o.now,
    counts,
    total: rows.length,
    priceMismatches,
    timeToConsistencyMs: { p50: percentile(durations, 50), p95: percentile(durations, 95), max: durations.at(-1) ?? null, samples: durations.length },
    timeToConsistencyByChange: [...byMinute.entries()]
      .sort((a, b) => b[0] - a[0])
      .slice(0, 20)
      .map(([minute, w]) => {
        const d = w.durations.sort((a, b) => a - b);
        return { changedAt: new Date(minute).toISOString(), labels: w.labels, consistent: d.length, p50: percentile(d, 50), p95: percentile(d, 95), max: d.at(-1) ?? null };
      }),
    labels,
  };
}

/** The audit as CSV for pricing teams (";" separated, de-DE decimal commas, as spreadsheets in Germany expect). */
export function auditToCsv(report: AuditReport): string {
  const euro = (c: number | null) => (c === null ? '' : (c / 100).toFixed(2).replace('.', ','));
  const iso = (t: number | null) => (t === null ? '' : new Date(t).toISOString());
  const lines = ['label_id;status;gtin;ap_id;till_price_eur;shown_price_eur;desired_since;last_seen_at;attempts;last_error'];
  for (const l of report.labels) {
    const err = (l.lastError ?? '').replace(/[;\n\r"]/g, ' ');
    lines.push([l.labelId, l.status, l.gtin ?? '', l.apId ?? '', euro(l.tillPriceCents), euro(l.shownPriceCents), iso(l.desiredSince), iso(l.lastSeenAt), l.attempts, err].join(';'));
  }
  return lines.join('\n') + '\n';
}
