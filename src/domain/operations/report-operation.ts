/**
 * "Report now": runs the audit and queues its summary for HQ in the durable outbox (`out/audit`) at once instead of
 * at the next `audit.reportIntervalS`. MQTT request `…/req/report`, HTTP `POST /api/v1/audit/report`.
 */
import { ReportRequestSchema } from '#contracts';
import type { Operation } from './operation.js';
import type { OperationDeps } from './operation-deps.js';


export function reportOperation(deps: Pick<OperationDeps, 'reporter'>): Operation<typeof ReportRequestSchema, { reportId: string }> {
  return {
    name: 'report',
    summary: 'Queue an audit report to HQ now (durable outbox, out/audit); returns its id',
    input: ReportRequestSchema,
    run: async () => ({ reportId: await deps.reporter.publishReport() }),
  };
}
