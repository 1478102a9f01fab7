/**
 * The store dashboard, a fastify plugin on the edge's own HTTP server (no second server): the built UI under
 * /dashboard/assets (public: code, no data), the page at /dashboard, and its API under /dashboard/api.
 *
 * Auth (D33): a session cookie (sessions.ts), not the API's bearer token, so a browser never holds a token in script
 * reach. Every page and API route needs a session (401 otherwise; a page answers 401 with the app shell, which shows
 * the log-in form); every action needs the session's CSRF token and the operator role (a viewer gets 403), and lands
 * in the operators' audit trail (src/domain/audit/action-trail.ts) whatever its outcome.
 */
import { FailureLimiter } from '../../core/failure-limiter.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { existsSync, readFileSync } from 'node:fs';
import { createHash, timingSafeEqual } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { recordAction } from '../../domain/audit/action-trail.js';
import { auditOptionsAt, auditSettings } from '../../domain/operations/operation-deps.js';
import { verifySecret } from '../../core/secret-hash.js';
import { PACKAGE_ROOT } from '../../domain/rendering/package-root.js';
import { SESSION_COOKIE, SessionStore, type DashboardRole } from './sessions.js';
import { DASHBOARD_PREFIX, parseJsonBody, type DashboardContext, type DashboardDeps } from './dashboard-context.js';
import { AuditSnapshots } from './audit-snapshot.js';
import { registerReadRoutes } from './read-routes.js';
import { registerActionRoutes } from './action-routes.js';
import { LiveStream } from './live-stream.js';
import { DASHBOARD_CSP, appShell } from './app-shell.js';

const LoginBody = z.union([
  z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict(),
  z.object({ token: z.string().min(1).max(512) }).strict(),
]);

function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export async function dashboardPlugin(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  const { config, clock, log } = deps;
  const cfg = config.dashboard;
  const assetsDir = cfg.assetsDir ?? join(PACKAGE_ROOT, 'dist', 'dashboard-ui');
  const bundle = join(assetsDir, 'app.js');
  const assetVersion = existsSync(bundle) ? createHash('sha256').update(readFileSync(bundle)).digest('hex').slice(0, 12) : null;
  if (!assetVersion) log.warn({ evt: 'dashboard.no_assets', dir: assetsDir }, 'dashboard UI not built (npm run build); /dashboard answers 503');

  const sessions = new SessionStore({ clock, ttlMs: cfg.sessionTtlS * 1000 });
  const auditOptions = () => auditOptionsAt({ clock, audit: auditSettings(config) });
  const snapshots = new AuditSnapshots({ db: deps.db, labels: deps.labels, images: deps.images, clock, auditOptions, maxAgeMs: Math.max(200, cfg.liveIntervalMs - 50) });
  const live = new LiveStream({ clock, log, snapshots, intervalMs: cfg.liveIntervalMs, aps: deps.aps });
  const ctx: DashboardContext = {
    ...deps,
    sessions,
    snapshots,
    live,
    async audit(req, action, target, outcome, detail) {
      const s = req.dashSession;
      await recordAction(deps.db, { at: clock.now(), actor: s?.user ?? 'anonymous', role: s?.role ?? 'none', action, target, outcome, ...(detail === undefined ? {} : { detail }) });
      log.info({ evt: 'dashboard.action', action, target, outcome, user: s?.user }, 'dashboard action');
    },
  };

  await app.register(cookie);
  app.decorateRequest('dashSession', null);
  await app.register(fastifyStatic, {
    root: assetsDir,
    prefix: `${DASHBOARD_PREFIX}/assets/`,
    decorateReply: false,
    // The shell asks for ?v=<content hash>, so the bundle can be cached for good; a new build changes the URL.
    maxAge: '365d',
    immutable: true,
  });

  const shell = (status: number, reply: FastifyReply) => {
    if (!assetVersion) return reply.code(503).type('text/plain; charset=utf-8').send('dashboard UI not built: run npm run build');
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').header('content-security-policy', DASHBOARD_CSP).send(appShell(assetVersion, config.store.name ?? `${config.store.chain}/${config.store.id}`));
  };

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin').header('x-frame-options', 'DENY');
    const access = req.routeOptions.config.dash;
    if (access === undefined || access === 'public') return; // assets (no data) and the log-in route
    const raw = req.cookies[SESSION_COOKIE];
    const session = sessions.get(raw);
    if (!session) {
      if (access === 'page') return shell(401, reply);
      return reply.code(401).send({ error: 'DASHBOARD_UNAUTHORIZED', message: 'log in to the dashboard first' });
    }
    req.dashSession = session;
    if (access === 'action' || access === 'self') {
      // CSRF: the session's token in a header a cross-site form cannot set; plus Origin, where the browser sends one.
      const presented = req.headers['x-csrf-token'];
      const origin = req.headers.origin;
      const originOk = origin === undefined || new URL(origin).host === req.headers.host;
      if (typeof presented !== 'string' || !sameSecret(presented, session.csrf) || !originOk) {
        log.warn({ evt: 'dashboard.csrf_refused', url: req.url, user: session.user }, 'dashboard action without a valid CSRF token');
        return reply.code(403).send({ error: 'DASHBOARD_CSRF', message: 'missing or wrong CSRF token' });
      }
      if (access === 'action' && session.role !== 'operator') {
        const action = /\/(flash|resend|bind|unbind|pick)$/.exec(req.url.split('?')[0]!)?.[1] as 'flash' | 'resend' | 'bind' | 'unbind' | 'pick' | undefined;
        const target = (req.params as { id?: string }).id ?? null;
        if (action) await ctx.audit(req, action, target, 'forbidden');
        return reply.code(403).send({ error: 'DASHBOARD_FORBIDDEN', message: 'your role may view, not act' });
      }
    }
  });

  const hide = { hide: true };
  app.get(DASHBOARD_PREFIX, { config: { dash: 'page' }, schema: hide }, async (_req, reply) => shell(200, reply));
  app.get(`${DASHBOARD_PREFIX}/`, { config: { dash: 'page' }, schema: hide }, async (_req, reply) => shell(200, reply));

  // Failed log-ins slow down per source address and per user name, as the API's tokens do (D27): a blocked key is
  // answered 429 at once, before any hashing and without an audit-trail row, so a flood of guesses neither queues
  // scrypt work nor fills the trail.
  const loginBySource = new FailureLimiter(clock, config.http.authLimits);
  const loginByName = new FailureLimiter(clock, config.http.authLimits);
  app.post(`${DASHBOARD_PREFIX}/api/login`, { config: { dash: 'public' }, schema: hide }, async (req, reply) => {
    const b = LoginBody.safeParse(parseJsonBody(req.body));
    if (!b.success) return reply.code(400).send({ error: 'HTTP_BAD_REQUEST', message: 'send {username, password} or {token}' });
    const nameKey = 'username' in b.data ? `user:${b.data.username}` : 'token';
    const waitMs = Math.max(loginBySource.blockedForMs(req.ip), loginByName.blockedForMs(nameKey));
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      log.info({ evt: 'dashboard.login_throttled', ip: req.ip, retryAfterS }, 'dashboard log-in refused: too many failed attempts');
      return reply.code(429).header('retry-after', String(retryAfterS)).send({ error: 'HTTP_AUTH_RATE_LIMITED', message: `too many failed log-ins; retry after ${retryAfterS} s` });
    }
    let who: { user: string; role: DashboardRole } | null = null;
    const data = b.data;
    if ('token' in data) {
      if (cfg.tokenLogin !== 'off') {
        for (const t of config.http.tokens) if (await verifySecret(t.token, data.token)) who = { user: `token:${t.name}`, role: cfg.tokenLogin };
      }
    } else {
      const u = cfg.users.find((x) => x.username === data.username);
      // A missing user still pays for a comparison, so the answer time does not tell which names exist.
      const ok = await verifySecret(u?.password ?? 'no-such-user-password', data.password);
      if (u && ok) who = { user: u.username, role: u.role };
    }
    const name = 'username' in data ? data.username : 'token';
    if (!who) {
      loginBySource.fail(req.ip);
      loginByName.fail(nameKey);
      await recordAction(deps.db, { at: clock.now(), actor: name, role: 'none', action: 'login', target: name, outcome: 'denied' });
      log.warn({ evt: 'dashboard.login_denied', user: name, ip: req.ip }, 'dashboard log-in refused');
      return reply.code(401).send({ error: 'DASHBOARD_LOGIN_FAILED', message: 'wrong name, password or token' });
    }
    loginBySource.succeed(req.ip);
    loginByName.succeed(nameKey);
    const s = sessions.create(who.user, who.role);
    req.dashSession = s;
    await ctx.audit(req, 'login', who.user, 'ok');
    void reply.setCookie(SESSION_COOKIE, s.id, { path: DASHBOARD_PREFIX, httpOnly: true, sameSite: 'strict', secure: cfg.secureCookie, maxAge: cfg.sessionTtlS });
    return { user: s.user, role: s.role, csrf: s.csrf };
  });
  app.post(`${DASHBOARD_PREFIX}/api/logout`, { config: { dash: 'self' }, schema: hide }, async (req, reply) => {
    const s = req.dashSession!;
    sessions.delete(s.id);
    await ctx.audit(req, 'logout', s.user, 'ok');
    void reply.clearCookie(SESSION_COOKIE, { path: DASHBOARD_PREFIX });
    return { ok: true };
  });
  app.get(`${DASHBOARD_PREFIX}/api/me`, { config: { dash: 'read' }, schema: hide }, async (req) => {
    const s = req.dashSession!;
    return { user: s.user, role: s.role, csrf: s.csrf, store: { chain: config.store.chain, id: config.store.id, name: config.store.name ?? null } };
  });

  registerReadRoutes(app, ctx);
  registerActionRoutes(app, ctx);
  app.get(`${DASHBOARD_PREFIX}/api/stream`, { config: { dash: 'read' }, schema: hide }, (req, reply) => live.attach(req, reply));
  // The first visitor after a start should not wait for the first whole-store pass either.
  app.addHook('onReady', async () => {
    snapshots.get().catch((err: unknown) => log.warn({ evt: 'dashboard.snapshot_failed', err: String(err) }, 'dashboard audit snapshot failed'));
  });
  // Open event streams would hold the server's close forever.
  app.addHook('preClose', async () => live.closeAll());
}
