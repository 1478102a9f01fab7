/**
 * HTTP resource "events" (a fastify plugin): one event or a batch, through the same EventIntake and the same
 * contract as MQTT (contracts/src/event-schemas.ts); the answer is the intake's reply.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { EventIntake } from '../domain/events/event-intake.js';
import { EVENT_TYPES, EventReplySchema, EventSchema, type EventType } from '#contracts';
import { httpError, routeDoc } from './http-errors.js';

export interface EventsRoutesOptions {
  intake: Pick<EventIntake, 'ingest'>;
}

const eventBody = z.toJSONSchema(EventSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const replySchema = z.toJSONSchema(EventReplySchema) as Record<string, unknown>;

export const eventsRoutes: FastifyPluginAsync<EventsRoutesOptions> = async (app, { intake }) => {
  const ingest = async (body: unknown, expectedType?: EventType) => {
    const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? null));
    return intake.ingest(raw, { channel: 'http', ...(expectedType ? { expectedType } : {}) });
  };
  app.post('/api/v1/events', routeDoc({ summary: 'Send one event or a batch (same contract as MQTT)', body: eventBody, response: { 200: replySchema, 400: replySchema } }), async (req, reply) => {
    const { reply: r } = await ingest(req.body);
    return reply.code(r.status === 'rejected' ? 400 : 200).send(r);
  });
  app.post('/api/v1/events/:type', routeDoc({ summary: 'Send an event of the given type', params: { type: 'object', properties: { type: { type: 'string', enum: [...EVENT_TYPES] } } }, body: eventBody, response: { 200: replySchema, 400: replySchema } }), async (req, reply) => {
    const type = (req.params as { type: string }).type;
    if (!(EVENT_TYPES as readonly string[]).includes(type)) throw httpError(404, 'HTTP_NOT_FOUND', `unknown event type ${type}`);
    const { reply: r } = await ingest(req.body, type as EventType);
    return reply.code(r.status === 'rejected' ? 400 : 200).send(r);
  });
};
