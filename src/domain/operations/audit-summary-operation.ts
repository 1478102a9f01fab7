/**
 * "Audit summary": the audit as HQ reads it (toHqReport: counts, times to consistency, the worst exceptions cut to
 * what the broker accepts) — the same shape as the periodic report on `out/audit`, answered at once and not queued.
 * MQTT request `…/req/audit`, HTTP `GET /api/v1/audit/summary`.
 */
import { runAudit } from '../audit/price-audit.js';
import { toHqReport, type HqAuditReport } from '../audit/audit-reporter.js';
import { AuditSummaryRequestSchema } from '#contracts';
import type { Operation } from './operation.js';
import { auditOptionsAt, type OperationDeps } from './operation-deps.js';


export function auditSummaryOperation(deps: OperationDeps): Operation<typeof AuditSummaryRequestSchema, HqAuditReport> {
  return {
    name: 'auditSummary',
    summary: 'Audit summary as sent to HQ on out/audit (counts, times to consistency, worst exceptions), answered at once',
    input: AuditSummaryRequestSchema,
    run: async (q) => {
      const report = await runAudit(deps, auditOptionsAt(deps), q.status ? { status: q.status } : {});
      const id = `${deps.store.chain}-${deps.store.id}-audit-${report.generatedAt}`;
      return toHqReport(report, deps.store, id, deps.maxReportBytes);
    },
  };
}
