/**
 * The answer to a template preview, shared by the API's `GET|POST /api/v1/templates/{name}/preview` and the
 * dashboard's preview: content checked for coherence wherever it enters (issue 12), rendered, sent as PNG with its
 * content hash and render warnings; a template that cannot lay the content out is the client's problem (422).
 */
import type { FastifyReply } from 'fastify';
import type { LabelType } from '#protocol';
import type { LabelContent } from '#contracts';
import type { Renderer } from '../domain/labels/label-planner.js';
import { planesToPng } from '../domain/rendering/planes-png.js';
import { coherenceProblem } from '../domain/rendering/content-checks.js';
import { renderWarningsHeader } from '../domain/rendering/render-warnings.js';

export async function sendPreview(
  reply: FastifyReply,
  renderer: Renderer,
  content: LabelContent,
  type: LabelType,
  opts: { template: string; page: number; scale: number },
): Promise<FastifyReply> {
  const incoherent = coherenceProblem(content);
  if (incoherent) return reply.code(422).send({ error: 'CONTENT_INCOHERENT', message: incoherent });
  try {
    const img = await renderer.render(content, type, { page: opts.page, template: opts.template });
    return reply
      .type('image/png')
      .header('x-content-hash', img.hash)
      .header('x-render-warnings', renderWarningsHeader(img.warnings ?? []))
      .send(await planesToPng(img.planes, type, { scale: opts.scale }));
  } catch (err) {
    return reply.code(422).send({ error: (err as { code?: string }).code ?? 'RENDER_FAILED', message: (err as Error).message });
  }
}
