/**
 * The dashboard's access rules against the real daemon (no browser needed): without a session every page and API
 * route answers 401; the session cookie is HttpOnly and SameSite=Strict; an action without the CSRF token is refused;
 * a viewer's action answers 403 and is in the audit trail; an operator's action is recorded with its outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { LABELS, TOKEN, catalogueBatch, startTestDaemon, tempDir, waitFor } from '../support/edge-fixture.js';
import { DASH_USERS, buildUi, dashboardConfig, login } from '../support/dashboard.js';

describe('dashboard access', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let base: string;
  beforeAll(async () => {
    const ui = await buildUi(tmp.dir);
    daemon = await startTestDaemon(tmp.dir, dashboardConfig(ui));
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    base = `http://127.0.0.1:${daemon.httpPort}`;
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  const label = LABELS[0]!.labelId;
  const reads = ['/dashboard', '/dashboard/', '/dashboard/api/me', '/dashboard/api/overview', '/dashboard/api/labels', `/dashboard/api/labels/${label}`, '/dashboard/api/images/0123456789abcdef.png', '/dashboard/api/events', '/dashboard/api/dead-letters', '/dashboard/api/templates', '/dashboard/api/templates/price-standard/preview.png', '/dashboard/api/actions', '/dashboard/api/stream'];
  const actions = [`/dashboard/api/labels/${label}/flash`, `/dashboard/api/labels/${label}/resend`, `/dashboard/api/labels/${label}/bind`, `/dashboard/api/labels/${label}/unbind`, '/dashboard/api/orders/pick', '/dashboard/api/logout'];

  it('answers 401 on every page and API route without a session (and with the API bearer token alone)', async () => {
    for (const path of reads) {
      const res = await fetch(base + path);
      expect(res.status, path).toBe(401);
      const withToken = await fetch(base + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(withToken.status, `${path} with bearer`).toBe(401);
    }
    for (const path of actions) expect((await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, path).toBe(401);
    // The page without a session is the app shell with the log-in form, still a 401.
    const page = await fetch(`${base}/dashboard`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    // A forged cookie is no session.
    expect((await fetch(`${base}/dashboard/api/overview`, { headers: { cookie: 'esl_dash=forged' } })).status).toBe(401);
    // The UI code itself is public (it holds no data) and cacheable.
    const asset = await fetch(`${base}/dashboard/assets/app.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
  });

  it('refuses a wrong password; sets an HttpOnly SameSite=Strict cookie on a right one', async () => {
    expect((await login(base, { username: DASH_USERS.operator.username, password: 'wrong-password' })).status).toBe(401);
    expect((await login(base, { username: 'nobody', password: 'whatever-pw' })).status).toBe(401);
    expect((await login(base, { token: 'not-a-token-at-all' })).status).toBe(401);
    const ok = await login(base, DASH_USERS.operator);
    expect(ok.status).toBe(200);
    expect(ok.setCookie).toMatch(/HttpOnly/i);
    expect(ok.setCookie).toMatch(/SameSite=Strict/i);
    expect(ok.setCookie).toMatch(/Path=\/dashboard/);
    const me = await fetch(`${base}/dashboard/api/me`, { headers: { cookie: ok.cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: 'anna', role: 'operator' });
    // The demo token logs in too (as an operator by default).
    const byToken = await login(base, { token: TOKEN });
    expect(byToken.status).toBe(200);
  });

  it("refuses an action without the CSRF token; a viewer's action answers 403 and lands in the audit trail", async () => {
    const op = await login(base, DASH_USERS.operator);
    const noCsrf = await fetch(`${base}/dashboard/api/labels/${label}/resend`, { method: 'POST', headers: { cookie: op.cookie, 'content-type': 'application/json' }, body: '{}' });
    expect(noCsrf.status).toBe(403);
    expect((await noCsrf.json()).error).toBe('DASHBOARD_CSRF');
    const crossSite = await fetch(`${base}/dashboard/api/labels/${label}/resend`, { method: 'POST', headers: { cookie: op.cookie, 'x-csrf-token': op.csrf, origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{}' });
    expect(crossSite.status).toBe(403);

    const viewer = await login(base, DASH_USERS.viewer);
    expect(viewer.status).toBe(200);
    const read = await fetch(`${base}/dashboard/api/overview`, { headers: { cookie: viewer.cookie } });
    expect(read.status).toBe(200);
    const flash = await fetch(`${base}/dashboard/api/labels/${label}/flash`, { method: 'POST', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf, 'content-type': 'application/json' }, body: '{}' });
    expect(flash.status).toBe(403);
    expect((await flash.json()).error).toBe('DASHBOARD_FORBIDDEN');
    const bind = await fetch(`${base}/dashboard/api/labels/${label}/unbind`, { method: 'POST', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf, 'content-type': 'application/json' }, body: '{}' });
    expect(bind.status).toBe(403);
    // The binding is untouched.
    expect((await daemon.db.get<{ gtin: string }>('SELECT gtin FROM labels WHERE label_id = ?', [label]))?.gtin).toBe(LABELS[0]!.gtin);

    // The operator's action goes through the existing operation and is recorded with its outcome.
    const resend = await fetch(`${base}/dashboard/api/labels/${label}/resend`, { method: 'POST', headers: { cookie: op.cookie, 'x-csrf-token': op.csrf, 'content-type': 'application/json' }, body: '{}' });
    expect([202, 409]).toContain(resend.status);
    const trail = (await (await fetch(`${base}/dashboard/api/actions`, { headers: { cookie: op.cookie } })).json()) as { actions: { actor: string; action: string; target: string; outcome: string }[] };
    expect(trail.actions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'viktor', action: 'flash', target: label, outcome: 'forbidden' }),
        expect.objectContaining({ actor: 'viktor', action: 'unbind', target: label, outcome: 'forbidden' }),
        expect.objectContaining({ actor: 'anna', action: 'resend', target: label }),
        expect.objectContaining({ actor: 'anna', action: 'login', outcome: 'ok' }),
        expect.objectContaining({ actor: 'anna', action: 'login', outcome: 'denied' }),
      ]),
    );

    // Logging out ends the session.
    const out = await fetch(`${base}/dashboard/api/logout`, { method: 'POST', headers: { cookie: viewer.cookie, 'x-csrf-token': viewer.csrf, 'content-type': 'application/json' }, body: '{}' });
    expect(out.status).toBe(200);
    expect((await fetch(`${base}/dashboard/api/overview`, { headers: { cookie: viewer.cookie } })).status).toBe(401);
  });

  it('pages, filters and searches the label wall on the server', async () => {
    const op = await login(base, DASH_USERS.operator);
    await daemon.settle();
    // The wall answers from the last audit snapshot and refreshes it behind the answer (stale-while-revalidate, D32):
    // a snapshot taken before the labels were bound may answer first; the next one has them all.
    const page = await waitFor('the wall with every label', async () => {
      const p = (await (await fetch(`${base}/dashboard/api/labels?size=2&page=1`, { headers: { cookie: op.cookie } })).json()) as { total: number; items: { labelId: string }[] };
      return p.total === LABELS.length && p;
    });
    expect(page.items.map((i) => i.labelId)).toEqual([LABELS[2]!.labelId, LABELS[3]!.labelId]);
    const search = (await (await fetch(`${base}/dashboard/api/labels?q=milch`, { headers: { cookie: op.cookie } })).json()) as { total: number };
    expect(search.total).toBe(3); // two labels of the Vollmilch, one of the Vollmilch-Schokolade
    const bad = await fetch(`${base}/dashboard/api/labels?state=nonsense`, { headers: { cookie: op.cookie } });
    expect(bad.status).toBe(400);
  });

  it('slows failed log-ins down per source and per name (D27): 429 before any hashing, a correct user elsewhere unaffected', async () => {
    const post = (ip: string, body: object) =>
      daemon.http.inject({ method: 'POST', url: '/dashboard/api/login', remoteAddress: ip, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    const denied = async () => (await daemon.db.get<{ n: number }>("SELECT count(*) AS n FROM operator_actions WHERE actor = 'mallory' AND outcome = 'denied'"))!.n;
    const free = daemon.config.http.authLimits.freeFailures;
    // The free failures and the one that earns the first delay are answered 401 (and recorded) ...
    for (let i = 0; i <= free; i++) expect((await post('127.0.0.50', { username: 'mallory', password: `guess-${i}` })).statusCode).toBe(401);
    expect(await denied()).toBe(free + 1);
    // ... then the source is refused at once with Retry-After, without a check and without a row in the trail,
    const blocked = await post('127.0.0.50', { username: 'mallory', password: 'guess-x' });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await denied()).toBe(free + 1);
    // and so is the name from another address;
    expect((await post('127.0.0.52', { username: 'mallory', password: 'guess-y' })).statusCode).toBe(429);
    // a correct user from another address logs in as usual.
    expect((await post('127.0.0.51', { username: DASH_USERS.operator.username, password: DASH_USERS.operator.password })).statusCode).toBe(200);
  });
});
