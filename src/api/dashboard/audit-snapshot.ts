/**
 * The audit as the dashboard reads it: one `runAudit` pass (the same classification as GET /api/v1/audit) joined with
 * each label's product name, template and type, kept for `maxAgeMs`. The overview, every page of the label wall and
 * the live stream read the same snapshot, so a 50,000-label store is audited about once a second while someone
 * watches, not once per request (D32). Concurrent readers share one pass (single flight).
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../persistence/database.js';
import type { LabelStore } from '../../domain/labels/label-store.js';
import type { ImageStore } from '../../domain/labels/image-store.js';
import { runAudit, type AuditEntry, type AuditOptions, type AuditReport } from '../../domain/audit/price-audit.js';

export interface WallLabel extends AuditEntry {
  name: string | null;
  template: string | null;
  labelType: number | null;
}

export interface Snapshot {
  report: Omit<AuditReport, 'labels'>;
  labels: WallLabel[];
  byId: Map<string, WallLabel>;
  /** Labels and mean radio quality per AP, and open alerts: read in the same pass, so the overview needs no query. */
  perAp: Map<string, { labels: number; rssi: number | null; lqi: number | null }>;
  labelAlerts: { label_id: string; alert_flags: number; battery_mv: number | null; last_seen_at: number | null; gtin: string | null }[];
  restock: { gtin: string; quantity: number; name: string | null }[];
  /** Changes whenever any label's status or hashes change: the live stream's "something moved" signal. */
  version: string;
  builtAt: number;
  buildMs: number;
}

export class AuditSnapshots {
  private current: Snapshot | null = null;
  private building: Promise<Snapshot> | null = null;
  constructor(private readonly deps: { db: Database; labels: LabelStore; images: ImageStore; clock: Clock; auditOptions: () => AuditOptions; maxAgeMs: number }) {}

  /**
   * The snapshot, rebuilt when older than `maxAgeMs`. With `stale: true` an old snapshot is answered at once and a
   * rebuild starts behind it (stale-while-revalidate): opening a page never waits for a whole-store audit (seconds on
   * a busy 50,000-label edge); the page shows the snapshot's time and the live stream brings the fresh one (D32).
   */
  async get(opts: { stale?: boolean } = {}): Promise<Snapshot> {
    const now = this.deps.clock.now();
    if (this.current && now - this.current.builtAt < this.deps.maxAgeMs) return this.current;
    const next = (this.building ??= this.build().finally(() => {
      this.building = null;
    }));
    if (opts.stale && this.current) {
      next.catch(() => undefined); // a failed rebuild is logged by the live stream's next attempt
      return this.current;
    }
    return next;
  }

  /** How long the last whole-store pass took (ms): the live stream spaces its passes by it. */
  lastBuildMs(): number {
    return this.current?.buildMs ?? 0;
  }

  /** Make the next read rebuild (after an action of this dashboard, so its effect shows at once). */
  invalidate(): void {
    if (this.current) this.current = { ...this.current, builtAt: -Infinity };
  }

  private async build(): Promise<Snapshot> {
    const started = performance.now();
    const { db, labels: store } = this.deps;
    const report = await runAudit(this.deps, this.deps.auditOptions());
    const names = new Map((await db.all<{ gtin: string; name: string }>('SELECT gtin, name FROM products')).map((r) => [r.gtin, r.name]));
    // Per AP and the label alerts come from the label store's records (D17), in one walk.
    const apSums = new Map<string, { labels: number; rssi: number; rssiN: number; lqi: number; lqiN: number }>();
    const labelAlerts: Snapshot['labelAlerts'] = [];
    for (const l of store.all()) {
      if (l.apId !== null) {
        const a = apSums.get(l.apId) ?? { labels: 0, rssi: 0, rssiN: 0, lqi: 0, lqiN: 0 };
        a.labels++;
        if (l.rssi !== null) {
          a.rssi += l.rssi;
          a.rssiN++;
        }
        if (l.lqi !== null) {
          a.lqi += l.lqi;
          a.lqiN++;
        }
        apSums.set(l.apId, a);
      }
      if (l.alertFlags !== 0) labelAlerts.push({ label_id: l.id, alert_flags: l.alertFlags, battery_mv: l.batteryMv, last_seen_at: l.lastSeenAt, gtin: l.gtin });
    }
    labelAlerts.sort((a, b) => (a.label_id < b.label_id ? -1 : 1));
    labelAlerts.splice(100);
    const perAp = [...apSums].map(([ap_id, a]) => ({ ap_id, labels: a.labels, rssi: a.rssiN > 0 ? a.rssi / a.rssiN : null, lqi: a.lqiN > 0 ? a.lqi / a.lqiN : null }));
    const restock = await db.all<Snapshot['restock'][number]>(
      'SELECT s.gtin, s.quantity, p.name FROM stock s LEFT JOIN products p ON p.gtin = s.gtin WHERE s.alert_active = 1 ORDER BY s.gtin LIMIT 100',
    );
    const hash = createHash('sha1');
    const labels: WallLabel[] = report.labels.map((e) => {
      const x = store.get(e.labelId);
      hash.update(`${e.labelId}|${e.status}|${e.confirmedHash ?? ''}|${e.desiredHash ?? ''}|${e.gtin ?? ''}\n`);
      return { ...e, name: e.gtin ? (names.get(e.gtin) ?? null) : null, template: x?.template ?? null, labelType: x?.labelType ?? null };
    });
    const { labels: _omit, ...summary } = report;
    const snap: Snapshot = {
      report: summary,
      labels,
      byId: new Map(labels.map((l) => [l.labelId, l])),
      perAp: new Map(perAp.map((r) => [r.ap_id, { labels: r.labels, rssi: r.rssi, lqi: r.lqi }])),
      labelAlerts,
      restock,
      version: hash.digest('hex').slice(0, 16),
      builtAt: this.deps.clock.now(),
      buildMs: Math.round(performance.now() - started),
    };
    this.current = snap;
    return snap;
  }
}

export interface WallQuery {
  state?: string | undefined;
  ap?: string | undefined;
  template?: string | undefined;
  gtin?: string | undefined;
  q?: string | undefined;
  page: number;
  size: number;
}

/** One page of the label wall: filter, then slice (label id order, as the audit lists them). */
export function wallPage(snap: Snapshot, q: WallQuery): { total: number; page: number; size: number; items: WallLabel[] } {
  const needle = q.q?.trim().toLowerCase();
  const match = (l: WallLabel) =>
    (!q.state || l.status === q.state) &&
    (!q.ap || l.apId === q.ap) &&
    (!q.template || l.template === q.template) &&
    (!q.gtin || l.gtin === q.gtin) &&
    (!needle || l.labelId.toLowerCase().includes(needle) || (l.gtin ?? '').includes(needle) || (l.name ?? '').toLowerCase().includes(needle));
  const filtered = q.state || q.ap || q.template || q.gtin || needle ? snap.labels.filter(match) : snap.labels;
  const start = q.page * q.size;
  return { total: filtered.length, page: q.page, size: q.size, items: filtered.slice(start, start + q.size) };
}
