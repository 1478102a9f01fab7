/**
 * The price-consistency audit: does every label show the price the till charges?
 *
 * The edge trusts only what labels report: the hash of what the panel shows (protocol §5.3). Every hash the edge
 * rendered is stored with the content it was rendered from, so a confirmed hash tells exactly which price the
 * label displays, and the audit can say "label X shows 2,49 €, the till charges 1,99 €, since 10:42".
 */
import type { Database } from '../../persistence/database.js';
import type { LabelStore } from '../labels/label-store.js';
import type { ImageStore } from '../labels/image-store.js';
import { AuditStatusSchema, type AuditStatus, type AuditEntry, type AuditReport } from '#contracts';

// The report's shape is a contract the simulator reads too (contracts/, D77): defined in audit-report.ts, re-exported
// here for the edge's own modules.
export { AuditStatusSchema, AuditEntrySchema, AuditReportSchema, type AuditStatus, type AuditEntry, type AuditReport } from '#contracts';

export interface AuditOptions {
  now: number;
  slaSeconds: number;
  unreachableAfterS: number;
  maxAttempts: number;
}

/** What the audit reads of a label (a record of the label store) and of its product. */
export interface AuditedLabel {
  gtin: string | null;
  desiredHash: string | null;
  confirmedHash: string | null;
  desiredSince: number | null;
  lastSeenAt: number | null;
  attempts: number;
  dirty: number;
}

/** Where the audit reads: the label-state owner, the images by hash, and the catalogue (which products are sold). */
export interface AuditSource {
  db: Pick<Database, 'all'>;
  labels: Pick<LabelStore, 'all' | 'get'>;
  images: Pick<ImageStore, 'contents'>;
}

export function classify(r: AuditedLabel & { active: number | null }, o: AuditOptions): AuditStatus {
  if (!r.gtin) return 'unbound';
  if (r.active === 0) return 'not_sold';
  if (!r.desiredHash) return r.dirty > 0 ? 'pending' : 'unbound';
  // A change was applied but not yet planned: what the label shows may be outdated, so it is not consistent yet.
  if (r.dirty > 0) return 'pending';
  if (r.confirmedHash === r.desiredHash) return 'consistent';
  if (r.lastSeenAt === null || o.now - r.lastSeenAt > o.unreachableAfterS * 1000) return 'unreachable';
  if (r.attempts >= o.maxAttempts) return 'failed';
  if (r.desiredSince !== null && o.now - r.desiredSince > o.slaSeconds * 1000) return 'stale';
  return 'pending';
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function runAudit(src: AuditSource, o: AuditOptions, filter: { status?: AuditStatus; labelId?: string } = {}): Promise<AuditReport> {
  const one = filter.labelId !== undefined ? src.labels.get(filter.labelId) : undefined;
  const records = filter.labelId !== undefined ? (one ? [one] : []) : [...src.labels.all()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const active = new Map((await src.db.all<{ gtin: string; active: number }>('SELECT gtin, active FROM products')).map((r) => [r.gtin, r.active]));
  const hashes: string[] = [];
  for (const l of records) {
    if (l.desiredHash) hashes.push(l.desiredHash);
    if (l.confirmedHash) hashes.push(l.confirmedHash);
  }
  const contents = await src.images.contents(hashes);
  const priceOf = (h: string | null) => (h ? (contents.get(h)?.priceCents ?? null) : null);
  const ruleOf = (h: string | null) => {
    const p = h ? contents.get(h)?.pricing : undefined;
    return p?.ruleId ? { ruleId: p.ruleId, since: p.from } : null;
  };
  const rows = records.map((l) => ({ l, active: l.gtin === null ? null : (active.get(l.gtin) ?? null) }));
  const counts = Object.fromEntries(AuditStatusSchema.options.map((s) => [s, 0])) as Record<AuditStatus, number>;
  const durations: number[] = [];
  const byMinute = new Map<number, { labels: number; durations: number[] }>();
  let priceMismatches = 0;
  const labels: AuditEntry[] = [];
  for (const { l: r, active } of rows) {
    const status = classify({ ...pick(r), active }, o);
    counts[status]++;
    const till = priceOf(r.desiredHash);
    const shown = priceOf(r.confirmedHash);
    if (till !== null && shown !== till) priceMismatches++;
    const converged = status === 'consistent' && r.consistentSince !== null && r.desiredSince !== null;
    if (converged) durations.push(Math.max(0, r.consistentSince! - r.desiredSince!));
    if (r.desiredSince !== null && status !== 'unbound') {
      const minute = Math.floor(r.desiredSince / 60_000) * 60_000;
      const wave = byMinute.get(minute) ?? { labels: 0, durations: [] };
      wave.labels++;
      if (converged) wave.durations.push(Math.max(0, r.consistentSince! - r.desiredSince!));
      byMinute.set(minute, wave);
    }
    if (filter.status && filter.status !== status) continue;
    labels.push({
      labelId: r.id,
      status,
      gtin: r.gtin,
      apId: r.apId,
      tillPriceCents: till,
      shownPriceCents: shown,
      shownRule: ruleOf(r.confirmedHash),
      desiredHash: r.desiredHash,
      confirmedHash: r.confirmedHash,
      desiredSince: r.desiredSince,
      lastSeenAt: r.lastSeenAt,
      attempts: r.attempts,
      lastError: r.lastError,
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

function pick(r: AuditedLabel): AuditedLabel {
  return { gtin: r.gtin, desiredHash: r.desiredHash, confirmedHash: r.confirmedHash, desiredSince: r.desiredSince, lastSeenAt: r.lastSeenAt, attempts: r.attempts, dirty: r.dirty };
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
