/**
 * HTTP resource "audit" (a fastify plugin): the full audit (JSON or CSV), its HQ summary, and a report to HQ on
 * demand — each by its store operation (src/domain/operations/), the same the MQTT requests run.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AuditStatusSchema, auditToCsv } from '../domain/audit/price-audit.js';
import type { StoreOperations } from '../domain/operations/store-operations.js';
import { parseQuery, routeDoc } from './http-errors.js';

export interface AuditRoutesOptions {
  operations: Pick<StoreOperations, 'audit' | 'auditSummary' | 'report'>;
}

const http = { via: 'http' } as const;

export const auditRoutes: FastifyPluginAsync<AuditRoutesOptions> = async (app, { operations: ops }) => {
  app.get('/api/v1/audit', routeDoc({ summary: 'Price-consistency audit of every label (JSON, or CSV with format=csv)', querystring: { type: 'object', properties: { status: { type: 'string', enum: AuditStatusSchema.options }, format: { type: 'string', enum: ['json', 'csv'] } } } }), async (req, reply) => {
    const q = parseQuery(z.object({ status: AuditStatusSchema.optional(), format: z.enum(['json', 'csv']).default('json') }), req.query);
    const report = await ops.audit.run(q.status ? { status: q.status } : {}, http);
    if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').send(auditToCsv(report));
    return report;
  });
  app.get('/api/v1/audit/summary', routeDoc({ summary: ops.auditSummary.summary, querystring: { type: 'object', properties: { status: { type: 'string', enum: AuditStatusSchema.options } } } }), async (req) =>
    ops.auditSummary.run(parseQuery(ops.auditSummary.input, req.query), http),
  );
  app.post('/api/v1/audit/report', routeDoc({ summary: ops.report.summary }), async (_req, reply) => reply.code(202).send(await ops.report.run({}, http)));
};
