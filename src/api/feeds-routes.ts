/**
 * HTTP routes of issue 14 (a fastify plugin, registered after the bearer-token hook of http-server.ts):
 * the effective-price feed for the till and the web shop, the omnichannel shelf feed with its cursor, the full
 * shelf export in a local-inventory-feed layout (docs/omnichannel-feed.md), and the label rules with their history.
 *
 * A consumer polls `?since=<cursor>` with the `cursor` of its last answer: it sees every row once, in order, across
 * restarts of the edge (the cursor is the rows' durable sequence number).
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Database } from '../persistence/database.js';
import { priceFeedSince, PriceFeedEntrySchema } from '../domain/feeds/price-feed.js';
import { shelfFeedSince, shelfSnapshot, ShelfFeedEntrySchema } from '../domain/feeds/shelf-feed.js';
import { localInventoryCsv, toLocalInventory } from '../domain/feeds/local-inventory.js';
import { loadRules } from '../domain/rules/rule-store.js';
import { ruleHistory } from '../domain/rules/rule-engine.js';
import { GtinSchema } from '#contracts';
import { parseQuery, httpError } from './http-errors.js';

export interface FeedsRoutesOptions {
  db: Database;
  storeCode: string;
}

const CursorQuery = z.object({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

const doc = (o: Record<string, unknown>) => ({ schema: { security: [{ bearer: [] }], ...o } });
const cursorQs = { type: 'object', properties: { since: { type: 'integer', minimum: 0 }, limit: { type: 'integer', minimum: 1, maximum: 10000 } } };
const feedAnswer = (entry: z.ZodType) => ({ 200: { type: 'object', properties: { cursor: { type: 'integer' }, entries: { type: 'array', items: z.toJSONSchema(entry) } } } });

export const feedsRoutes: FastifyPluginAsync<FeedsRoutesOptions> = async (app, opts) => {
  const { db } = opts;

  app.get('/api/v1/prices', doc({ summary: 'Effective-price feed for the till and the web shop: rows after the cursor, in order (also on …/out/prices)', querystring: cursorQs, response: feedAnswer(PriceFeedEntrySchema) }), async (req) => {
    const q = parseQuery(CursorQuery, req.query);
    return priceFeedSince(db, q.since, q.limit);
  });

  app.get('/api/v1/shelf', doc({ summary: 'Omnichannel shelf feed: what the shelf confirmed per product, rows after the cursor (also on …/out/shelf)', querystring: cursorQs, response: feedAnswer(ShelfFeedEntrySchema) }), async (req) => {
    const q = parseQuery(CursorQuery, req.query);
    return shelfFeedSince(db, q.since, q.limit);
  });

  app.get('/api/v1/shelf/export', doc({ summary: 'Full shelf export in a local-inventory-feed layout (JSON, or CSV with format=csv); docs/omnichannel-feed.md', querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'csv'] } } } }), async (req, reply) => {
    const q = parseQuery(z.object({ format: z.enum(['json', 'csv']).default('json') }), req.query);
    const rows = toLocalInventory(opts.storeCode, await shelfSnapshot(db));
    if (q.format === 'csv') return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="local-inventory-${opts.storeCode}.csv"`).send(localInventoryCsv(rows));
    return { storeCode: opts.storeCode, total: rows.length, items: rows };
  });

  app.get('/api/v1/rules', doc({ summary: 'The label rules in force (chain set with the store set over it) and the effects they have now' }), async () => {
    const set = await loadRules(db);
    const effects = await db.all<Record<string, unknown>>('SELECT gtin, rule_id AS ruleId, kind, status, cents, start_at AS startAt, end_at AS endAt, reason, badge FROM rule_effects ORDER BY gtin, rule_id');
    return { ...set, effects };
  });

  app.get('/api/v1/products/:gtin/pricing', doc({ summary: "A product's price history (with the rule that produced a price) and its rule decisions, newest first" }), async (req) => {
    const p = z.object({ gtin: GtinSchema }).safeParse(req.params);
    if (!p.success) throw httpError(400, 'HTTP_BAD_REQUEST', 'gtin: not a valid GTIN');
    const gtin = p.data.gtin;
    const prices = await db.all<{ effectiveFrom: number; cents: number; ruleId: string | null }>(
      'SELECT effective_from AS effectiveFrom, cents, rule_id AS ruleId FROM price_history WHERE gtin = ? ORDER BY effective_from DESC LIMIT 50',
      [gtin],
    );
    return { gtin, priceHistory: prices, rules: await ruleHistory(db, gtin) };
  });
};
