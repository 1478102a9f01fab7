/**
 * "Audit": the price-consistency audit of every label, or of one (price-audit.ts), at this moment. The full report;
 * HTTP `GET /api/v1/audit` (JSON or CSV) and the label routes read it.
 */
import { runAudit, type AuditReport } from '../audit/price-audit.js';
import { AuditRequestSchema } from '#contracts';
import type { Operation } from './operation.js';
import { auditOptionsAt, type OperationDeps } from './operation-deps.js';


export function auditOperation(deps: OperationDeps): Operation<typeof AuditRequestSchema, AuditReport> {
  return {
    name: 'audit',
    summary: 'Price-consistency audit of every label (or of one), with its status',
    input: AuditRequestSchema,
    run: async (q) => runAudit(deps, auditOptionsAt(deps), { ...(q.status ? { status: q.status } : {}), ...(q.labelId ? { labelId: q.labelId } : {}) }),
  };
}
