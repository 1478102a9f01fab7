/**
 * What an operator may do from the dashboard, each by its store operation (src/domain/operations/, the same the
 * HTTP API and the MQTT requests run): flash a label's LED, light up an order, send a label again, bind or unbind it
 * (a binding event through the same EventIntake as MQTT and HTTP, so it is versioned, de-duplicated and replied to
 * like any other event). The auth hook (dashboard-plugin.ts) has already checked the session, the CSRF token and the
 * operator role; each action is recorded in the audit trail with its outcome.
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { BindBodySchema, FlashOptionsSchema } from '#contracts';
import { bindStatus, flashStatus, resendStatus } from '../labels-routes.js';
import { DASHBOARD_PREFIX, parseJsonBody, type DashboardContext } from './dashboard-context.js';
import { LabelIdParam } from './read-routes.js';

const API = `${DASHBOARD_PREFIX}/api`;
const act = { config: { dash: 'action' as const }, schema: { hide: true } };
const dashboard = { via: 'dashboard' } as const;
const zodMessage = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');

export function registerActionRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const ops = ctx.operations;

  app.post(`${API}/labels/:id/flash`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    const b = FlashOptionsSchema.safeParse(parseJsonBody(req.body));
    if (!p.success || !b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: p.success && !b.success ? zodMessage(b.error) : 'bad label id' });
    const r = await ops.flash.run({ ...b.data, labelId: p.data.id }, dashboard);
    await ctx.audit(req, 'flash', p.data.id, r.outcome, { colour: b.data.colour });
    return reply.code(flashStatus(r.outcome)).send(r);
  });

  app.post(`${API}/labels/:id/resend`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const r = await ops.resend.run({ labelId: p.data.id }, dashboard);
    await ctx.audit(req, 'resend', p.data.id, r.outcome);
    ctx.live.nudge();
    return reply.code(resendStatus(r.outcome)).send(r);
  });

  app.post(`${API}/labels/:id/bind`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    const b = BindBodySchema.safeParse(parseJsonBody(req.body));
    if (!p.success || !b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: p.success && !b.success ? zodMessage(b.error) : 'bad label id' });
    const r = await ops.bind.run({ ...b.data, labelId: p.data.id }, dashboard);
    await ctx.audit(req, 'bind', p.data.id, r.status, b.data);
    ctx.live.nudge();
    return reply.code(bindStatus(r)).send(r);
  });

  app.post(`${API}/labels/:id/unbind`, act, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const r = await ops.bind.run({ labelId: p.data.id, gtin: null }, dashboard);
    await ctx.audit(req, 'unbind', p.data.id, r.status);
    ctx.live.nudge();
    return reply.code(bindStatus(r)).send(r);
  });

  app.post(`${API}/orders/pick`, act, async (req, reply) => {
    const b = ops.pick.input.safeParse(parseJsonBody(req.body));
    if (!b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: zodMessage(b.error) });
    const r = await ops.pick.run(b.data, dashboard);
    await ctx.audit(req, 'pick', b.data.orderId, `${r.results.filter((x) => x.outcome === 'sent').length}/${r.results.length} sent`, { gtins: b.data.gtins });
    return reply.code(202).send(r);
  });
}
