/**
 * How the HTTP API answers what goes wrong: one body shape `{ error, message }` with a stable code
 * (docs/error-codes.md). Input that fails validation is the client's mistake and answers 400 naming the field;
 * only a failure of the edge itself answers 500.
 */
import { z } from 'zod';
import { EslError, type ErrorCode } from '#contracts';

export interface ErrorBody {
  error: string;
  message: string;
}

/**
 * A refusal with its HTTP status and catalogued code (an EslError whose details carry the status), thrown by
 * handlers and answered by the error handler.
 */
export function httpError(status: number, code: ErrorCode, message: string): EslError {
  return new EslError(code, message, { httpStatus: status });
}

function httpStatusOf(err: EslError): number | undefined {
  const s = err.details?.httpStatus;
  return typeof s === 'number' ? s : undefined;
}

export function describeIssues(e: z.ZodError, whole = '(query)'): string {
  return e.issues
    .slice(0, 10)
    .map((i) => `${i.path.join('.') || whole}: ${i.message}`)
    .join('; ');
}

/** The API's content-type parser hands JSON bodies over as buffers: empty is `{}`, malformed is null (fails any schema). */
export function jsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body)) return body ?? {};
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/** Validates a JSON body with zod; a failure is a 400 HTTP_BAD_REQUEST naming each bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const r = schema.safeParse(jsonBody(body));
  if (!r.success) throw httpError(400, 'HTTP_BAD_REQUEST', describeIssues(r.error, '(body)'));
  return r.data;
}

const LabelIdParam = z.object({ id: z.string().regex(/^[0-9A-F]{16}$/) });

/** The `:id` of a label route; a malformed one is a 400 HTTP_BAD_LABEL_ID. */
export function labelIdParam(params: unknown): string {
  const p = LabelIdParam.safeParse(params);
  if (!p.success) throw httpError(400, 'HTTP_BAD_LABEL_ID', 'label id must be 16 upper-case hex digits');
  return p.data.id;
}

/** Route options that only document the API (OpenAPI): zod validates every input in the handlers. */
export const routeDoc = (o: Record<string, unknown>) => ({ schema: { security: [{ bearer: [] }], ...o } });

/** Validates a query string with zod; a failure is a 400 HTTP_BAD_QUERY naming each bad parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const r = schema.safeParse(query ?? {});
  if (!r.success) throw httpError(400, 'HTTP_BAD_QUERY', describeIssues(r.error));
  return r.data;
}

/** Maps anything a handler or fastify threw to a status and a coded body. */
export function errorReply(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof EslError && httpStatusOf(err) !== undefined) return { status: httpStatusOf(err)!, body: { error: err.code, message: err.message } };
  // A zod parse that escaped a handler is still a validation failure of the request, never the edge's fault.
  if (err instanceof z.ZodError) return { status: 400, body: { error: 'HTTP_BAD_REQUEST', message: describeIssues(err) } };
  const e = err as { statusCode?: number; code?: string; message?: string };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  // fastify's own refusals (body too large, bad content type, malformed URL) carry FST_… codes and a 4xx status.
  if (status < 500) return { status, body: { error: e.code ?? 'HTTP_BAD_REQUEST', message: e.message ?? 'bad request' } };
  return { status, body: { error: e.code ?? 'HTTP_ERROR', message: e.message ?? 'internal error' } };
}
