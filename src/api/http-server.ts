/**
 * The HTTP API (fastify). `buildHttpServer()` builds the app without listening, so tests use `inject()`
 * (fastify style); the daemon calls `listen()`. Every route but /health needs `Authorization: Bearer <token>`
 * with a token from the config; a missing or wrong token gets 401 with code HTTP_UNAUTHORIZED (docs/error-codes.md).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Config } from '../config/config-schema.js';
import type { Database } from '../persistence/database.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { EventIntake } from '../domain/events/event-intake.js';
import { EVENT_TYPES, EventReplySchema, EventSchema } from '../domain/events/event-schemas.js';
import { AuditEntrySchema, AuditStatusSchema, auditToCsv, runAudit } from '../domain/audit/price-audit.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { ApRegistry } from '../domain/aps/ap-registry.js';
import type { ImageStore } from '../domain/labels/image-store.js';
import type { LabelStore } from '../domain/labels/label-store.js';
import { planesToPng } from '../domain/rendering/planes-png.js';
import { coherenceProblem } from '../domain/rendering/content-checks.js';
import { renderWarningsHeader } from '../domain/rendering/render-warnings.js';
import { LABEL_TYPES, labelTypeById, labelTypeByName } from '../../firmware-protocol/src/index.js';
import type { Renderer } from '../domain/labels/label-planner.js';
import { LabelContentSchema, type LabelContent } from '../domain/rendering/label-content.js';
import { PROMOTION, SAMPLE_FOR_TEMPLATE, STANDARD } from '../domain/rendering/sample-content.js';
import type { Metrics } from './metrics.js';
import { FlashOptionsSchema, PickRequestSchema, type LabelOperations } from '../domain/operations/label-operations.js';
import type { AuditReporter } from '../domain/audit/audit-reporter.js';
import { HttpTokenAuth } from './http-auth.js';
import { errorReply, parseQuery } from './http-errors.js';

export interface HttpDeps {
  config: Config;
  db: Database;
  /** The label-state owner and the pictures: label queries ask them, not the table (D17). */
  labels: LabelStore;
  images: ImageStore;
  clock: Clock;
  log: Logger;
  intake: EventIntake;
  aps: ApRegistry;
  metrics: Metrics;
  startedAt: number;
  operations: LabelOperations;
  reporter: AuditReporter;
  renderer: Renderer;
}

const LabelIdParam = z.object({ id: z.string().regex(/^[0-9A-F]{16}$/) });

/** Route schemas are for the OpenAPI document only: zod validates every input (one validator, one set of messages). */
const doc = (o: Record<string, unknown>) => ({ schema: { security: [{ bearer: [] }], ...o } });
const eventBody = z.toJSONSchema(EventSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const replySchema = z.toJSONSchema(EventReplySchema) as Record<string, unknown>;
const auditEntrySchema = z.toJSONSchema(AuditEntrySchema) as Record<string, unknown>;

export async function buildHttpServer(deps: HttpDeps): Promise<FastifyInstance> {
  const { config, db, clock } = deps;
  const tls = config.http.tls;
  const app = Fastify({
    // Request/response lines are info level; the API logs at warn and above (its own events are logged explicitly).
    loggerInstance: deps.log.child({ component: 'http' }, { level: deps.log.levelVal > 40 ? deps.log.level : 'warn' }) as FastifyBaseLogger,
    bodyLimit: config.http.bodyLimitBytes,
    // HTTPS when configured (docs/install.md): the certificate chain and key are read once, at start-up.
    ...(tls ? { https: { cert: readFileSync(tls.cert), key: readFileSync(tls.key) } } : {}),
    // Errors fastify raises before routing (a malformed URL) get the same coded body as everything else.
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = errorReply(err);
      void (reply as unknown as FastifyReply).code(status).send(body);
    },
  });
  const auth = new HttpTokenAuth({ tokens: config.http.tokens, clock, log: deps.log, registry: deps.metrics.registry, limits: config.http.authLimits });
  auth.warnPlaintext();
  // Route schemas only document the API (OpenAPI); zod validates every input in the handlers, so fastify's own
  // validator is switched off and its coercions never run.
  app.setValidatorCompiler(() => () => true);
  await app.register(swagger, {
    openapi: {
      info: { title: 'esl-edge HTTP API', version: '0.1.0', description: 'Events in, audit and label images out. Every route but /health and /docs needs a bearer token.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    // Health for the service manager, and the API description: no data behind either.
    if (path === '/health' || path === '/docs' || path.startsWith('/docs/')) return;
    if (path === '/dashboard' || path.startsWith('/dashboard/')) return; // session-cookie auth of its own: src/api/dashboard/
    const r = await auth.authenticate(req.headers.authorization, req.ip);
    if (r.ok) return;
    if (r.status === 429) {
      deps.log.info({ evt: 'http.auth_throttled', url: path, ip: req.ip, retryAfterS: r.retryAfterS }, 'http request refused: too many failed authentications');
      return reply.code(429).header('retry-after', String(r.retryAfterS)).send({ error: 'HTTP_AUTH_RATE_LIMITED', message: `too many failed authentications; retry after ${r.retryAfterS} s` });
    }
    deps.log.warn({ evt: 'http.unauthorized', url: path, ip: req.ip }, 'http request without a valid token');
    return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'HTTP_UNAUTHORIZED', message: 'a valid bearer token is required' });
  });

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorReply(err);
    const line = { evt: status >= 500 ? 'http.error' : 'http.bad_request', url: req.url.split('?')[0], status, code: body.error, err: body.message };
    // A client's mistake is not the edge's failure: 4xx at info, only 5xx at error level.
    if (status >= 500) deps.log.error(line, 'http handler failed');
    else deps.log.info(line, 'http request refused');
    void reply.code(status).send(body);
  });

  app.get('/health', async () => ({ status: 'ok', uptimeS: Math.round((clock.now() - deps.startedAt) / 1000) }));

  // ---- events (same contract as MQTT: src/domain/events/event-schemas.ts) ----
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  const ingest = async (body: unknown, expectedType?: (typeof EVENT_TYPES)[number]) => {
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? null));
    return deps.intake.ingest(raw, { channel: 'http', ...(expectedType ? { expectedType } : {}) });
  };
  app.post('/api/v1/events', doc({ summary: 'Send one event or a batch (same contract as MQTT)', body: eventBody, response: { 200: replySchema, 400: replySchema } }), async (req, reply) => {
    const { reply: r } = await ingest(req.body);
    return reply.code(r.status === 'rejected' ? 400 : 200).send(r);
  });
  app.post('/api/v1/events/:type', doc({ summary: 'Send an event of the given type', params: { type: 'object', properties: { type: { type: 'string', enum: [...EVENT_TYPES] } } }, body: eventBody, response: { 200: replySchema, 400: replySchema } }), async (req, reply) => {
    const type = (req.params as { type: string }).type;
    if (!(EVENT_TYPES as readonly string[]).includes(type)) return reply.code(404).send({ error: 'HTTP_NOT_FOUND', message: `unknown event type ${type}` });
    const { reply: r } = await ingest(req.body, type as (typeof EVENT_TYPES)[number]);
    return reply.code(r.status === 'rejected' ? 400 : 200).send(r);
  });

  // ---- audit ----
  const auditOptions = () => ({
    now: clock.now(),
    slaSeconds: config.audit.slaSeconds,
    unreachableAfterS: config.audit.unreachableAfterS,
    maxAttempts: config.dispatch.maxAttempts,
  });
  app.get('/api/v1/audit', doc({ summary: 'Price-consistency audit of every label (JSON, or CSV with format=csv)', querystring: { type: 'object', properties: { status: { type: 'string', enum: AuditStatusSchema.options }, format: { type: 'string', enum: ['json', 'csv'] } } } }), async (req, reply) => {
    const q = parseQuery(z.object({ status: AuditStatusSchema.optional(), format: z.enum(['json', 'csv']).default('json') }), req.query);
    const report = await runAudit(deps, auditOptions(), q.status ? { status: q.status } : {});
    if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').send(auditToCsv(report));
    return report;
  });

  // ---- labels ----
  app.get('/api/v1/labels', doc({ summary: 'All labels with their audit status', querystring: { type: 'object', properties: { gtin: { type: 'string' } } }, response: { 200: { type: 'object', properties: { total: { type: 'integer' }, labels: { type: 'array', items: auditEntrySchema } } } } }), async (req) => {
    const gtin = parseQuery(z.object({ gtin: z.string().regex(/^\d{8,14}$/, 'gtin must be 8 to 14 digits').optional() }), req.query).gtin;
    const report = await runAudit(deps, auditOptions());
    const labels = gtin ? report.labels.filter((l) => l.gtin === gtin) : report.labels;
    return { total: labels.length, labels };
  });
  app.get('/api/v1/labels/:id', doc({ summary: 'One label: audit status and telemetry' }), async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const report = await runAudit(deps, auditOptions(), { labelId: p.data.id });
    const entry = report.labels[0];
    if (!entry) return reply.code(404).send({ error: 'LABEL_NOT_FOUND', message: `no label ${p.data.id}` });
    const l = deps.labels.get(p.data.id)!;
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
  app.get('/api/v1/labels/:id/image.png', doc({ summary: 'PNG of what the label shows (which=current) or should show (which=desired)', querystring: { type: 'object', properties: { which: { type: 'string', enum: ['current', 'desired'] }, scale: { type: 'integer', minimum: 1, maximum: 8 } } } }), async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const q = { data: parseQuery(z.object({ which: z.enum(['current', 'desired']).default('current'), scale: z.coerce.number().int().min(1).max(8).default(2) }), req.query) };
    const label = deps.labels.get(p.data.id);
    if (!label) return reply.code(404).send({ error: 'LABEL_NOT_FOUND', message: `no label ${p.data.id}` });
    const hash = q.data.which === 'current' ? label.confirmedHash : label.desiredHash;
    const img = hash ? await deps.images.load(hash) : undefined;
    const type = img ? labelTypeById(img.labelType) : undefined;
    if (!img || !type) return reply.code(404).send({ error: 'IMAGE_NOT_FOUND', message: `label ${p.data.id} has no known ${q.data.which} image` });
    const png = await planesToPng(img.planes, type, { scale: q.data.scale });
    return reply.type('image/png').header('x-content-hash', img.hash).send(png);
  });

  // ---- operations: find-my-label, pick-to-light, reports on demand ----
  const zodError = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
  const jsonBody = (body: unknown): unknown => {
    if (!Buffer.isBuffer(body)) return body ?? {};
    if (body.length === 0) return {};
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      return null; // fails the schema: a 400 naming the body
    }
  };
  app.post('/api/v1/labels/:id/flash', doc({ summary: "Flash a label's LED (find-my-label); delivered at the label's next wake-up" }), async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    const b = FlashOptionsSchema.safeParse(jsonBody(req.body));
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    if (!b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: zodError(b.error) });
    const r = await deps.operations.flash(p.data.id, b.data);
    const code = r.outcome === 'sent' ? 202 : r.outcome === 'unknown_label' ? 404 : r.outcome === 'ap_unreachable' ? 503 : 409;
    return reply.code(code).send(r);
  });
  app.post('/api/v1/orders/pick', doc({ summary: 'Pick-to-light: flash the labels of all products of an order' }), async (req, reply) => {
    const b = PickRequestSchema.safeParse(jsonBody(req.body));
    if (!b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: zodError(b.error) });
    return reply.code(202).send(await deps.operations.pick(b.data.orderId, b.data.gtins, b.data));
  });
  app.post('/api/v1/audit/report', doc({ summary: 'Queue an audit report to HQ now (durable outbox); returns its id' }), async (_req, reply) =>
    reply.code(202).send({ reportId: await deps.reporter.publishReport() }),
  );

  // ---- templates: preview any template on any label type, with sample data or posted content ----
  app.get('/api/v1/templates', doc({ summary: 'Template names and label types' }), async () => ({
    templates: deps.renderer.templateNames(),
    labelTypes: LABEL_TYPES.map((t) => ({ id: t.id, name: t.name, width: t.width, height: t.height, palette: t.palette, pages: t.pages })),
  }));
  const PreviewQuery = z.object({
    labelType: z.string().default('epd-29-bwr'),
    page: z.coerce.number().int().min(0).max(7).default(0),
    scale: z.coerce.number().int().min(1).max(8).default(2),
  });
  const preview = async (name: string, query: unknown, content: LabelContent, reply: FastifyReply) => {
    const q = PreviewQuery.safeParse(query);
    if (!q.success) return reply.code(400).send({ error: 'HTTP_BAD_QUERY', message: zodError(q.error) });
    const type = labelTypeByName(q.data.labelType) ?? labelTypeById(Number(q.data.labelType));
    if (!type) return reply.code(400).send({ error: 'LABEL_TYPE_UNKNOWN', message: `unknown label type ${q.data.labelType}` });
    if (!deps.renderer.templateNames().includes(name)) return reply.code(404).send({ error: 'TEMPLATE_NOT_FOUND', message: `no template ${name}` });
    const incoherent = coherenceProblem(content);
    if (incoherent) return reply.code(422).send({ error: 'CONTENT_INCOHERENT', message: incoherent });
    try {
      const img = await deps.renderer.render(content, type, { page: q.data.page, template: name });
      return reply
        .type('image/png')
        .header('x-content-hash', img.hash)
        .header('x-render-warnings', renderWarningsHeader(img.warnings ?? []))
        .send(await planesToPng(img.planes, type, { scale: q.data.scale }));
    } catch (err) {
      // A template that cannot lay out this content (e.g. text that cannot fit lawfully) is the client's problem.
      return reply.code(422).send({ error: (err as { code?: string }).code ?? 'RENDER_FAILED', message: (err as Error).message });
    }
  };
  app.get('/api/v1/templates/:name/preview.png', doc({ summary: 'Preview a template with sample data (labelType, page, scale)' }), async (req, reply) => {
    const name = (req.params as { name: string }).name;
    return preview(name, req.query, SAMPLE_FOR_TEMPLATE[name] ?? (name.includes('promo') ? PROMOTION : STANDARD), reply);
  });
  app.post('/api/v1/templates/:name/preview.png', doc({ summary: 'Preview a template with posted label content (JSON)' }), async (req, reply) => {
    const c = LabelContentSchema.safeParse(jsonBody(req.body));
    if (!c.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: zodError(c.error) });
    return preview((req.params as { name: string }).name, req.query, c.data, reply);
  });

  // ---- access points, dead letters, metrics ----
  app.get('/api/v1/aps', doc({ summary: 'Access points: online state, firmware, queue' }), async () => ({ aps: deps.aps.all() }));
  app.get('/api/v1/dead-letters', doc({ summary: 'Refused input with reasons, newest first' }), async (req) => {
    const q = parseQuery(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }), req.query);
    const rows = await db.all<{ seq: number; received_at: number; channel: string; topic: string | null; source: string | null; event_id: string | null; code: string; reason: string }>(
      'SELECT seq, received_at, channel, topic, source, event_id, code, reason FROM dead_letters ORDER BY seq DESC LIMIT ?',
      [q.limit],
    );
    return { deadLetters: rows };
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.render()));

  return app;
}
