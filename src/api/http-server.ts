/**
 * The HTTP API (fastify). `buildHttpServer()` builds the app without listening, so tests use `inject()`
 * (fastify style); the daemon calls `listen()`. Every route but /health needs `Authorization: Bearer <token>`
 * with a token from the config; a missing or wrong token gets 401 with code HTTP_UNAUTHORIZED (docs/error-codes.md).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config-schema.js';
import type { Database } from '../persistence/database.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { EventIntake } from '../domain/events/event-intake.js';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { ApRegistry } from '../domain/aps/ap-registry.js';
import type { ImageStore } from '../domain/labels/image-store.js';
import type { LabelStore } from '../domain/labels/label-store.js';
import type { Renderer } from '../domain/labels/label-planner.js';
import type { StoreOperations } from '../domain/operations/store-operations.js';
import type { Metrics } from './metrics.js';
import { HttpTokenAuth } from './http-auth.js';
import { errorReply } from './http-errors.js';
import { eventsRoutes } from './events-routes.js';
import { auditRoutes } from './audit-routes.js';
import { labelsRoutes } from './labels-routes.js';
import { ordersRoutes } from './orders-routes.js';
import { templatesRoutes } from './templates-routes.js';
import { apsRoutes } from './aps-routes.js';
import { deadLettersRoutes } from './dead-letters-routes.js';

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
  /** The store operations (src/domain/operations/): the routes call these, as the MQTT requests do. */
  operations: StoreOperations;
  renderer: Renderer;
}

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

  // Event bodies stay bytes: the intake measures, parses and dead-letters them itself; other routes parse with jsonBody.
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

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

  // One plugin per resource; the store operations behind them are the ones the MQTT requests run (issue 15).
  const { operations } = deps;
  await app.register(eventsRoutes, { intake: deps.intake });
  await app.register(auditRoutes, { operations });
  await app.register(labelsRoutes, { labels: deps.labels, images: deps.images, operations });
  await app.register(ordersRoutes, { operations });
  await app.register(templatesRoutes, { renderer: deps.renderer });
  await app.register(apsRoutes, { aps: deps.aps });
  await app.register(deadLettersRoutes, { db });
  app.get('/metrics', async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.render()));

  return app;
}
