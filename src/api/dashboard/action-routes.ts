/**
 * What an operator may do from the dashboard, each by the existing operation: flash a label's LED and light up an
 * order (LabelOperations), send a label again (resendLabel), bind or unbind it (a binding event through the same
 * EventIntake as MQTT and HTTP, so it is versioned, de-duplicated and replied to like any other event). The auth hook
 * (dashboard-plugin.ts) has already checked the session, the CSRF token and the operator role; each action is
 * recorded in the audit trail with its outcome.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { FlashOptionsSchema, PickRequestSchema } from '../../domain/operations/label-operations.js';
import { resendLabel } from '../../domain/operations/label-resend.js';
import { GtinSchema } from '../../domain/events/event-schemas.js';
import { DASHBOARD_PREFIX, parseJsonBody, type DashboardContext } from './dashboard-context.js';
import { LabelIdParam } from './read-routes.js';

const API = `${DASHBOARD_PREFIX}/api`;
const act = { config: { dash: 'action' as const }, schema: { hide: true } };
const BindBody = z.object({ gtin: GtinSchema, template: z.string().regex(/^[a-z0-9-]+$/).max(64).optional() }).strict();
const zodMessage = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');

export function registerActionRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { clock } = ctx;

  app.post(`${API}/labels/:id/flash`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    const b = FlashOptionsSchema.safeParse(parseJsonBody(req.body));
    if (!p.success || !b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: p.success && !b.success ? zodMessage(b.error) : 'bad label id' });
    const r = await ctx.operations.flash(p.data.id, b.data);
    await ctx.audit(req, 'flash', p.data.id, r.outcome, { colour: b.data.colour });
    return reply.code(r.outcome === 'sent' ? 202 : r.outcome === 'unknown_label' ? 404 : r.outcome === 'ap_unreachable' ? 503 : 409).send(r);
  });

  app.post(`${API}/labels/:id/resend`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const r = resendLabel(ctx.labels, p.data.id, ctx.kickDispatch);
    await ctx.audit(req, 'resend', p.data.id, r.outcome);
    ctx.live.nudge();
    return reply.code(r.outcome === 'queued' ? 202 : r.outcome === 'unknown_label' ? 404 : 409).send(r);
  });

  const binding = async (labelId: string, gtin: string | null, template: string | undefined) => {
    const now = clock.now();
    // version = the time of the change in ms (the event contract's convention): a later binding of this label wins.
    const event = { id: `dashboard-binding-${labelId}-${now}-${randomBytes(4).toString('hex')}`, source: 'dashboard', version: now, type: 'binding', data: { labelId, gtin, ...(template ? { template } : {}) } };
    const { reply } = await ctx.intake.ingest(JSON.stringify(event), { channel: 'http' });
    return reply;
  };

  app.post(`${API}/labels/:id/bind`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    const b = BindBody.safeParse(parseJsonBody(req.body));
    if (!p.success || !b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: p.success && !b.success ? zodMessage(b.error) : 'bad label id' });
    const r = await binding(p.data.id, b.data.gtin, b.data.template);
    await ctx.audit(req, 'bind', p.data.id, r.status, b.data);
    ctx.live.nudge();
    return reply.code(r.status === 'applied' ? 200 : r.status === 'rejected' ? 400 : 409).send(r);
  });

  app.post(`${API}/labels/:id/unbind`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const r = await binding(p.data.id, null, undefined);
    await ctx.audit(req, 'unbind', p.data.id, r.status);
    ctx.live.nudge();
    return reply.code(r.status === 'applied' ? 200 : r.status === 'rejected' ? 400 : 409).send(r);
  });

  app.post(`${API}/orders/pick`, act, async (req, reply) => {
    const b = PickRequestSchema.safeParse(parseJsonBody(req.body));
    if (!b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: zodMessage(b.error) });
    const r = await ctx.operations.pick(b.data.orderId, b.data.gtins, b.data);
    await ctx.audit(req, 'pick', b.data.orderId, `${r.results.filter((x) => x.outcome === 'sent').length}/${r.results.length} sent`, { gtins: b.data.gtins });
    return reply.code(202).send(r);
  });
}
