/**
 * Audit reports for HQ: a periodic summary with the exceptions list, written to the durable outbox (so a report made
 * while the uplink is down is delivered when it is back, exactly once after de-duplication by its id), and reports
 * on request. Also runs the label-alert sweep on the same tick.
 */
import type { Database } from '../../persistence/database.js';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { errorMessage } from '#contracts';
import { enqueue } from '../outbox/outbox.js';
import { runAudit, type AuditSource, type AuditEntry, type AuditOptions, type AuditReport } from './price-audit.js';
import type { LabelAlerts } from './label-alerts.js';

/** At most this many exception entries per report message; the rest is counted, and available over HTTP/CSV. */
const MAX_EXCEPTIONS = 2_000;

/**
 * Room left in a report message for the MQTT fixed header, topic and properties: the message as a whole must fit the
 * broker's packet limit, or the broker refuses it and closes the edge's connection (MQTT 3.1.1 has no negative
 * PUBACK), and an outbox message that can never be delivered would hold up everything queued behind it.
 */
const ENVELOPE_BYTES = 1_024;

const STATUS_RANK: Partial<Record<AuditEntry['status'], number>> = { failed: 1, unreachable: 2, stale: 3, not_sold: 4, pending: 5 };

function severity(e: AuditEntry): number {
  const wrongPrice = e.tillPriceCents !== null && e.shownPriceCents !== null && e.shownPriceCents !== e.tillPriceCents;
  return wrongPrice ? 0 : (STATUS_RANK[e.status] ?? 6);
}

export interface HqAuditReport {
  id: string;
  chain: string;
  store: string;
  generatedAt: string;
  counts: AuditReport['counts'];
  total: number;
  priceMismatches: number;
  timeToConsistencyMs: AuditReport['timeToConsistencyMs'];
  timeToConsistencyByChange: AuditReport['timeToConsistencyByChange'];
  exceptions: AuditReport['labels'];
  exceptionsOmitted: number;
}

/**
 * The HQ summary of an audit: counts, times to consistency and the exceptions (labels not consistent), as many as
 * fit both MAX_EXCEPTIONS and `maxBytes` of JSON, worst first: a label showing another price than the till's before
 * all others, then failed, unreachable, stale, not sold, pending; oldest first within each. The rest is counted in
 * exceptionsOmitted; the full list is on GET /api/v1/audit (JSON or CSV).
 */
export function toHqReport(report: AuditReport, store: { chain: string; id: string }, id: string, maxBytes = Infinity): HqAuditReport {
  const exceptions = report.labels
    .filter((l) => l.status !== 'consistent' && l.status !== 'unbound')
    .map((l) => ({ l, rank: severity(l) }))
    .sort((a, b) => a.rank - b.rank || (a.l.desiredSince ?? 0) - (b.l.desiredSince ?? 0))
    .map((x) => x.l);
  const hq: HqAuditReport = {
    id,
    chain: store.chain,
    store: store.id,
    generatedAt: new Date(report.generatedAt).toISOString(),
    counts: report.counts,
    total: report.total,
    priceMismatches: report.priceMismatches,
    timeToConsistencyMs: report.timeToConsistencyMs,
    timeToConsistencyByChange: report.timeToConsistencyByChange,
    exceptions: [],
    // The widest number it can be, so that the size counted below is not exceeded when it is filled in.
    exceptionsOmitted: exceptions.length,
  };
  let bytes = Buffer.byteLength(JSON.stringify(hq)) + ENVELOPE_BYTES;
  for (const e of exceptions) {
    if (hq.exceptions.length >= MAX_EXCEPTIONS) break;
    const size = Buffer.byteLength(JSON.stringify(e)) + 1;
    if (bytes + size > maxBytes) break;
    bytes += size;
    hq.exceptions.push(e);
  }
  hq.exceptionsOmitted = exceptions.length - hq.exceptions.length;
  return hq;
}

export class AuditReporter {
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** The sweep or report of the tick under way, if any: stop() waits for it, so the database outlives it. */
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: {
      db: Database;
      labels: AuditSource['labels'];
      images: AuditSource['images'];
      clock: Clock;
      log: Logger;
      store: { chain: string; id: string };
      intervalS: number;
      auditOptions: () => AuditOptions;
      alerts: LabelAlerts;
      onOutbox: () => void;
      /** The largest message the report may be (the MQTT packet limit). */
      maxReportBytes: number;
    },
  ) {}

  start(): void {
    this.schedule();
  }

  /**
   * No tick after this; resolves when the tick under way (an alert sweep, a report of the whole store) has ended.
   * The daemon closes the database after it: a report cut off by the close failed with "database is closed".
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    // The alert sweep needs a tick even when periodic reports are off.
    const every = (this.deps.intervalS > 0 ? Math.min(this.deps.intervalS, 60) : 60) * 1000;
    let sinceReport = 0;
    const tick = () => {
      sinceReport += every;
      this.running = (async () => {
        await this.deps.alerts.sweep(this.deps.clock.now());
        if (this.deps.intervalS > 0 && sinceReport >= this.deps.intervalS * 1000) {
          sinceReport = 0;
          await this.publishReport();
        }
      })()
        .catch((err) => this.deps.log.error({ evt: 'audit.report_failed', err: errorMessage(err) }, 'audit report failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = this.deps.clock.setTimeout(tick, every);
        });
    };
    this.timer = this.deps.clock.setTimeout(tick, every);
  }

  /** Runs the audit and puts the summary into the outbox (out/audit). Returns the report's id. */
  async publishReport(): Promise<string> {
    const opts = this.deps.auditOptions();
    const report = await runAudit(this.deps, opts);
    const id = `${this.deps.store.chain}-${this.deps.store.id}-audit-${opts.now}`;
    const hq = toHqReport(report, this.deps.store, id, this.deps.maxReportBytes);
    await this.deps.db.transaction((tx) => enqueue(tx, { id, topic: 'out/audit', payload: hq }, opts.now));
    this.deps.log.info({ evt: 'audit.report', id, counts: report.counts, priceMismatches: report.priceMismatches }, 'audit report queued');
    this.deps.onOutbox();
    return id;
  }
}
