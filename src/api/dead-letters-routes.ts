/** HTTP resource "dead-letters" (a fastify plugin): refused input with its code and reason, newest first. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { Database } from '../persistence/database.js';
import { parseQuery, routeDoc } from './http-errors.js';

export interface DeadLettersRoutesOptions {
  db: Pick<Database, 'all'>;
}

export const deadLettersRoutes: FastifyPluginAsync<DeadLettersRoutesOptions> = async (app, { db }) => {
  app.get('/api/v1/dead-letters', routeDoc({ summary: 'Refused input with reasons, newest first' }), async (req) => {
    const q = parseQuery(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }), req.query);
    const rows = await db.all<{ seq: number; received_at: number; channel: string; topic: string | null; source: string | null; event_id: string | null; code: string; reason: string }>(
      'SELECT seq, received_at, channel, topic, source, event_id, code, reason FROM dead_letters ORDER BY seq DESC LIMIT ?',
      [q.limit],
    );
    return { deadLetters: rows };
  });
};
