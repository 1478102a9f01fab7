/**
 * HTTP resource "templates" (a fastify plugin): the template names and label types, and a preview of any template
 * on any label type, with sample data or posted label content.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';
import { LABEL_TYPES, labelTypeById, labelTypeByName } from '#protocol';
import type { Renderer } from '../domain/labels/label-planner.js';
import { LabelContentSchema, type LabelContent } from '#contracts';
import { PROMOTION, SAMPLE_FOR_TEMPLATE, STANDARD } from '../domain/rendering/sample-content.js';
import { describeIssues, parseBody, routeDoc } from './http-errors.js';
import { sendPreview } from './template-preview.js';

export interface TemplatesRoutesOptions {
  renderer: Renderer;
}

const PreviewQuery = z.object({
  labelType: z.string().default('epd-29-bwr'),
  page: z.coerce.number().int().min(0).max(7).default(0),
  scale: z.coerce.number().int().min(1).max(8).default(2),
});

export const templatesRoutes: FastifyPluginAsync<TemplatesRoutesOptions> = async (app, { renderer }) => {
  app.get('/api/v1/templates', routeDoc({ summary: 'Template names and label types' }), async () => ({
    templates: renderer.templateNames(),
    labelTypes: LABEL_TYPES.map((t) => ({ id: t.id, name: t.name, width: t.width, height: t.height, palette: t.palette, pages: t.pages })),
  }));
  const preview = async (name: string, query: unknown, content: LabelContent, reply: FastifyReply) => {
    const q = PreviewQuery.safeParse(query);
    if (!q.success) return reply.code(400).send({ error: 'HTTP_BAD_QUERY', message: describeIssues(q.error, '(body)') });
    const type = labelTypeByName(q.data.labelType) ?? labelTypeById(Number(q.data.labelType));
    if (!type) return reply.code(400).send({ error: 'LABEL_TYPE_UNKNOWN', message: `unknown label type ${q.data.labelType}` });
    if (!renderer.templateNames().includes(name)) return reply.code(404).send({ error: 'TEMPLATE_NOT_FOUND', message: `no template ${name}` });
    return sendPreview(reply, renderer, content, type, { template: name, page: q.data.page, scale: q.data.scale });
  };
  app.get('/api/v1/templates/:name/preview.png', routeDoc({ summary: 'Preview a template with sample data (labelType, page, scale)' }), async (req, reply) => {
    const name = (req.params as { name: string }).name;
    return preview(name, req.query, SAMPLE_FOR_TEMPLATE[name] ?? (name.includes('promo') ? PROMOTION : STANDARD), reply);
  });
  app.post('/api/v1/templates/:name/preview.png', routeDoc({ summary: 'Preview a template with posted label content (JSON)' }), async (req, reply) =>
    preview((req.params as { name: string }).name, req.query, parseBody(LabelContentSchema, req.body), reply),
  );
};
