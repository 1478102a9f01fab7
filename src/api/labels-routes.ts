/**
 * HTTP resource "labels" (a fastify plugin): the labels with their audit status, one label with its telemetry, the
 * picture it shows or should show, and the label operations — flash, send again, bind, unbind — each by its store
 * operation (src/domain/operations/), the same the MQTT requests and the dashboard run.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { AuditEntrySchema } from '../domain/audit/price-audit.js';
import type { LabelStore } from '../domain/labels/label-store.js';
import type { ImageStore } from '../domain/labels/image-store.js';
import { planesToPng } from '../domain/rendering/planes-png.js';
import { labelTypeById } from '#protocol';
import type { StoreOperations } from '../domain/operations/store-operations.js';
import type { FlashOutcome } from '../domain/operations/flash-operation.js';
import type { ResendOutcome } from '../domain/operations/resend-operation.js';
import { BindBodySchema, type EventReply, FlashOptionsSchema } from '#contracts';
import { httpError, labelIdParam, parseBody, parseQuery, routeDoc } from './http-errors.js';

export interface LabelsRoutesOptions {
  labels: Pick<LabelStore, 'get'>;
  images: Pick<ImageStore, 'load'>;
  operations: Pick<StoreOperations, 'audit' | 'flash' | 'resend' | 'bind'>;
}

/** HTTP status of each operation's outcome (the dashboard's actions answer the same). */
export const flashStatus = (o: FlashOutcome) => (o === 'sent' ? 202 : o === 'unknown_label' ? 404 : o === 'ap_unreachable' ? 503 : 409);
export const resendStatus = (o: ResendOutcome) => (o === 'queued' ? 202 : o === 'unknown_label' ? 404 : 409);
export const bindStatus = (r: EventReply) => (r.status === 'applied' ? 200 : r.status === 'rejected' ? 400 : 409);

const auditEntrySchema = z.toJSONSchema(AuditEntrySchema) as Record<string, unknown>;
const http = { via: 'http' } as const;

export const labelsRoutes: FastifyPluginAsync<LabelsRoutesOptions> = async (app, { labels, images, operations: ops }) => {
  app.get('/api/v1/labels', routeDoc({ summary: 'All labels with their audit status', querystring: { type: 'object', properties: { gtin: { type: 'string' } } }, response: { 200: { type: 'object', properties: { total: { type: 'integer' }, labels: { type: 'array', items: auditEntrySchema } } } } }), async (req) => {
    const gtin = parseQuery(z.object({ gtin: z.string().regex(/^\d{8,14}$/, 'gtin must be 8 to 14 digits').optional() }), req.query).gtin;
    const report = await ops.audit.run({}, http);
    const list = gtin ? report.labels.filter((l) => l.gtin === gtin) : report.labels;
    return { total: list.length, labels: list };
  });
  app.get('/api/v1/labels/:id', routeDoc({ summary: 'One label: audit status and telemetry' }), async (req) => {
    const id = labelIdParam(req.params);
    const entry = (await ops.audit.run({ labelId: id }, http)).labels[0];
    if (!entry) throw httpError(404, 'LABEL_NOT_FOUND', `no label ${id}`);
    const l = labels.get(id)!;
    const telemetry = {
      label_type: l.labelType,
      battery_mv: l.batteryMv,
      rssi: l.rssi,
      lqi: l.lqi,
      temperature_c: l.temperatureC,
      wake_reason: l.wakeReason,
      page: l.page,
      transfer_state: l.transferState,
      confirmed_at: l.confirmedAt,
    };
    return { ...entry, telemetry };
  });
  /** The PNG a label currently shows (`?which=current`, from its acknowledged hash) or should show (`desired`). */
  app.get('/api/v1/labels/:id/image.png', routeDoc({ summary: 'PNG of what the label shows (which=current) or should show (which=desired)', querystring: { type: 'object', properties: { which: { type: 'string', enum: ['current', 'desired'] }, scale: { type: 'integer', minimum: 1, maximum: 8 } } } }), async (req, reply) => {
    const id = labelIdParam(req.params);
    const q = parseQuery(z.object({ which: z.enum(['current', 'desired']).default('current'), scale: z.coerce.number().int().min(1).max(8).default(2) }), req.query);
    const label = labels.get(id);
    if (!label) throw httpError(404, 'LABEL_NOT_FOUND', `no label ${id}`);
    const hash = q.which === 'current' ? label.confirmedHash : label.desiredHash;
    const img = hash ? await images.load(hash) : undefined;
    const type = img ? labelTypeById(img.labelType) : undefined;
    if (!img || !type) throw httpError(404, 'IMAGE_NOT_FOUND', `label ${id} has no known ${q.which} image`);
    const png = await planesToPng(img.planes, type, { scale: q.scale });
    return reply.type('image/png').header('x-content-hash', img.hash).send(png);
  });

  app.post('/api/v1/labels/:id/flash', routeDoc({ summary: ops.flash.summary }), async (req, reply) => {
    const labelId = labelIdParam(req.params);
    const r = await ops.flash.run({ ...parseBody(FlashOptionsSchema, req.body), labelId }, http);
    return reply.code(flashStatus(r.outcome)).send(r);
  });
  app.post('/api/v1/labels/:id/resend', routeDoc({ summary: ops.resend.summary }), async (req, reply) => {
    const r = await ops.resend.run({ labelId: labelIdParam(req.params) }, http);
    return reply.code(resendStatus(r.outcome)).send(r);
  });
  app.post('/api/v1/labels/:id/bind', routeDoc({ summary: ops.bind.summary }), async (req, reply) => {
    const labelId = labelIdParam(req.params);
    const r = await ops.bind.run({ ...parseBody(BindBodySchema, req.body), labelId }, http);
    return reply.code(bindStatus(r)).send(r);
  });
  app.post('/api/v1/labels/:id/unbind', routeDoc({ summary: 'Unbind a label from its product (the bind operation with gtin null)' }), async (req, reply) => {
    const r = await ops.bind.run({ labelId: labelIdParam(req.params), gtin: null }, http);
    return reply.code(bindStatus(r)).send(r);
  });
};
