/**
 * What the dashboard reads: the store overview, the label wall (server-side paging), a label's detail, label images
 * by content hash, recent events and dead letters, templates and their previews, and the operators' audit trail.
 * Every query input is checked with zod; a bad one is a 400 with code HTTP_BAD_QUERY.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { AuditStatusSchema } from '../../domain/audit/price-audit.js';
import { loadImage } from '../../domain/labels/image-store.js';
import { planesToPng } from '../../domain/rendering/planes-png.js';
import { LabelContentSchema } from '#contracts';
import { PROMOTION, SAMPLE_FOR_TEMPLATE, STANDARD } from '../../domain/rendering/sample-content.js';
import { listActions } from '../../domain/audit/action-trail.js';
import { LABEL_TYPES, labelTypeById, labelTypeByName } from '#protocol';
import { wallPage } from './audit-snapshot.js';
import { summaryOf } from './live-stream.js';
import { DASHBOARD_PREFIX, type DashboardContext } from './dashboard-context.js';
import { PngCache } from './png-cache.js';
import { sendPreview } from '../template-preview.js';

const API = `${DASHBOARD_PREFIX}/api`;
const read = { config: { dash: 'read' as const }, schema: { hide: true } };
export const LabelIdParam = z.object({ id: z.string().regex(/^[0-9A-F]{16}$/) });
const HashParam = z.object({ file: z.string().regex(/^[0-9a-f]{16}\.png$/) });

const WallQuerySchema = z.object({
  state: AuditStatusSchema.optional(),
  ap: z.string().max(64).optional(),
  template: z.string().max(64).optional(),
  gtin: z.string().regex(/^\d{8,14}$/).optional(),
  q: z.string().max(100).optional(),
  page: z.coerce.number().int().min(0).default(0),
  size: z.coerce.number().int().min(1).max(200).default(24),
});
const LimitQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
const PreviewQuery = z.object({
  labelType: z.string().default('epd-29-bwr'),
  page: z.coerce.number().int().min(0).max(7).default(0),
  scale: z.coerce.number().int().min(1).max(8).default(2),
  name: z.string().min(1).max(200).optional(),
  priceCents: z.coerce.number().int().min(0).max(10_000_000).optional(),
});

function bad(reply: FastifyReply, e: z.ZodError) {
  return reply.code(400).send({ error: 'HTTP_BAD_QUERY', message: e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
}

export function registerReadRoutes(app: FastifyInstance, ctx: DashboardContext): void {
  const { db, snapshots, aps } = ctx;
  const pngs = new PngCache(2000);

  app.get(`${API}/overview`, read, async () => {
    const snap = await snapshots.get({ stale: true });
    const mismatches = snap.labels
      .filter((l) => l.tillPriceCents !== null && l.shownPriceCents !== l.tillPriceCents)
      .sort((a, b) => (a.desiredSince ?? 0) - (b.desiredSince ?? 0))
      .slice(0, 50)
      .map((l) => ({ labelId: l.labelId, gtin: l.gtin, name: l.name, status: l.status, shownPriceCents: l.shownPriceCents, tillPriceCents: l.tillPriceCents, since: l.desiredSince }));
    const { perAp: apStats, labelAlerts, restock } = snap;
    return {
      summary: summaryOf(snap, aps),
      timeToConsistencyMs: snap.report.timeToConsistencyMs,
      timeToConsistencyByChange: snap.report.timeToConsistencyByChange.slice(0, 5),
      mismatches,
      aps: aps.all().map((a) => {
        const s = apStats.get(a.apId);
        return {
          apId: a.apId,
          online: a.online,
          queueDepth: a.queueDepth,
          queueCapacity: a.queueCapacity,
          labels: s?.labels ?? 0,
          avgRssi: s?.rssi === null || s?.rssi === undefined ? null : Math.round(s.rssi),
          avgLqi: s?.lqi === null || s?.lqi === undefined ? null : Math.round(s.lqi),
          lastSeenAt: a.lastSeenAt,
          // §4.8 Whether wake-aware staging (D35) serves this AP's labels or they fall back to D19 (D89, D105).
          wakeReports: a.wakeReports,
        };
      }),
      alerts: [
        ...restock.map((r) => ({ type: 'restock' as const, gtin: r.gtin, name: r.name, quantity: r.quantity })),
        ...labelAlerts.flatMap((l) => [
          ...(l.alert_flags & 1 ? [{ type: 'battery' as const, labelId: l.label_id, gtin: l.gtin, batteryMv: l.battery_mv }] : []),
          ...(l.alert_flags & 2 ? [{ type: 'not_heard' as const, labelId: l.label_id, gtin: l.gtin, lastSeenAt: l.last_seen_at }] : []),
        ]),
      ],
    };
  });

  app.get(`${API}/labels`, read, async (req, reply) => {
    const q = WallQuerySchema.safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    const snap = await snapshots.get({ stale: true });
    const page = wallPage(snap, q.data);
    return {
      ...page,
      version: snap.version,
      facets: { aps: aps.all().map((a) => a.apId).sort(), templates: ctx.renderer.templateNames(), states: AuditStatusSchema.options },
      items: page.items.map((l) => ({
        labelId: l.labelId,
        status: l.status,
        gtin: l.gtin,
        name: l.name,
        apId: l.apId,
        template: l.template,
        labelType: l.labelType,
        tillPriceCents: l.tillPriceCents,
        shownPriceCents: l.shownPriceCents,
        confirmedHash: l.confirmedHash,
        desiredHash: l.desiredHash,
      })),
    };
  });

  app.get(`${API}/labels/:id`, read, async (req, reply) => {
    const p = LabelIdParam.safeParse(req.params);
    if (!p.success) return reply.code(400).send({ error: 'HTTP_BAD_LABEL_ID', message: 'label id must be 16 upper-case hex digits' });
    const id = p.data.id;
    // Always fresh: one label's audit is cheap, and after an action the page must show its effect.
    const report = await ctx.operations.audit.run({ labelId: id }, { via: 'dashboard' });
    const entry = report.labels[0];
    if (!entry) return reply.code(404).send({ error: 'LABEL_NOT_FOUND', message: `no label ${id}` });
    const rec = ctx.labels.get(id);
    const label = rec && {
      label_type: rec.labelType,
      template: rec.template,
      battery_mv: rec.batteryMv,
      rssi: rec.rssi,
      lqi: rec.lqi,
      temperature_c: rec.temperatureC,
      page: rec.page,
      transfer_state: rec.transferState,
      transfer_at: rec.transferAt,
      confirmed_at: rec.confirmedAt,
      consistent_since: rec.consistentSince,
      alert_flags: rec.alertFlags,
    };
    const product = entry.gtin ? await db.get<Record<string, unknown>>('SELECT gtin, name, brand, pack_quantity, pack_unit FROM products WHERE gtin = ?', [entry.gtin]) : undefined;
    // rule_id: the label rule that produced the price, if one did (issue 14).
    const prices = entry.gtin ? await db.all<{ effective_from: number; cents: number; rule_id: string | null }>('SELECT effective_from, cents, rule_id FROM price_history WHERE gtin = ? ORDER BY effective_from DESC LIMIT 10', [entry.gtin]) : [];
    const stock = entry.gtin ? await db.get<Record<string, unknown>>('SELECT quantity, state FROM stock WHERE gtin = ?', [entry.gtin]) : undefined;
    const checkins = await db.all<{ at: number; ap_id: string | null; battery_mv: number | null; rssi: number | null; lqi: number | null; temperature_c: number | null }>(
      'SELECT at, ap_id, battery_mv, rssi, lqi, temperature_c FROM label_telemetry WHERE label_id = ? ORDER BY at DESC LIMIT 20',
      [id],
    );
    const type = typeof label?.label_type === 'number' ? labelTypeById(label.label_type) : undefined;
    return {
      ...entry,
      labelType: type ? { id: type.id, name: type.name, width: type.width, height: type.height, led: type.led } : null,
      label: label ?? null,
      product: product ?? null,
      stock: stock ?? null,
      priceHistory: prices,
      checkins,
      actions: await listActions(db, { target: id, limit: 20 }),
    };
  });

  /** Images by content hash: the same hash is the same picture for ever, so the browser may keep it (ETag, immutable). */
  app.get(`${API}/images/:file`, read, async (req, reply) => {
    const p = HashParam.safeParse(req.params);
    const s = z.object({ scale: z.coerce.number().int().min(1).max(4).default(1) }).safeParse(req.query);
    if (!p.success || !s.success) return reply.code(400).send({ error: 'HTTP_BAD_QUERY', message: 'expected /images/<16 hex digits>.png?scale=1..4' });
    const hash = p.data.file.slice(0, 16);
    const etag = `"${hash}-${s.data.scale}"`;
    void reply.header('etag', etag).header('cache-control', 'private, max-age=31536000, immutable');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    const png = await pngs.get(`${hash}-${s.data.scale}`, async () => {
      const img = await loadImage(db, hash);
      const type = img ? labelTypeById(img.labelType) : undefined;
      return img && type ? planesToPng(img.planes, type, { scale: s.data.scale }) : undefined;
    });
    if (!png) return reply.code(404).header('cache-control', 'no-store').send({ error: 'IMAGE_NOT_FOUND', message: `no image ${hash}` });
    return reply.type('image/png').send(png);
  });

  app.get(`${API}/events`, read, async (req, reply) => {
    const q = LimitQuery.extend({ status: z.enum(['applied', 'stale', 'rejected']).optional() }).safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    const rows = await db.all(
      `SELECT id, source, type, version, received_at AS receivedAt, status, reason FROM events ${q.data.status ? 'WHERE status = ?' : ''} ORDER BY received_at DESC LIMIT ?`,
      q.data.status ? [q.data.status, q.data.limit] : [q.data.limit],
    );
    return { events: rows };
  });

  app.get(`${API}/dead-letters`, read, async (req, reply) => {
    const q = LimitQuery.safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    const rows = await db.all<{ seq: number; receivedAt: number; channel: string; topic: string | null; source: string | null; eventId: string | null; code: string; reason: string; payload: Buffer | null }>(
      'SELECT seq, received_at AS receivedAt, channel, topic, source, event_id AS eventId, code, reason, payload FROM dead_letters ORDER BY seq DESC LIMIT ?',
      [q.data.limit],
    );
    // The first bytes of what was refused, as text: enough to recognise it, never the whole (possibly huge) payload.
    return { deadLetters: rows.map(({ payload, ...r }) => ({ ...r, payloadStart: payload ? Buffer.from(payload).subarray(0, 160).toString('utf8') : null })) };
  });

  app.get(`${API}/templates`, read, async () => ({
    templates: ctx.renderer.templateNames(),
    labelTypes: LABEL_TYPES.map((t) => ({ id: t.id, name: t.name, width: t.width, height: t.height, pages: t.pages })),
  }));

  app.get(`${API}/templates/:name/preview.png`, read, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const q = PreviewQuery.safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    const type = labelTypeByName(q.data.labelType) ?? labelTypeById(Number(q.data.labelType));
    if (!type) return reply.code(400).send({ error: 'LABEL_TYPE_UNKNOWN', message: `unknown label type ${q.data.labelType}` });
    if (!ctx.renderer.templateNames().includes(name)) return reply.code(404).send({ error: 'TEMPLATE_NOT_FOUND', message: `no template ${name}` });
    const sample = SAMPLE_FOR_TEMPLATE[name] ?? (name.includes('promo') ? PROMOTION : STANDARD);
    const content = LabelContentSchema.safeParse({ ...sample, ...(q.data.name ? { name: q.data.name } : {}), ...(q.data.priceCents !== undefined ? { priceCents: q.data.priceCents } : {}) });
    if (!content.success) return bad(reply, content.error);
    return sendPreview(reply, ctx.renderer, content.data, type, { template: name, page: q.data.page, scale: q.data.scale });
  });

  app.get(`${API}/actions`, read, async (req, reply) => {
    const q = LimitQuery.safeParse(req.query);
    if (!q.success) return bad(reply, q.error);
    return { actions: await listActions(db, { limit: q.data.limit }) };
  });
}
