/**
 * Test support for the dashboard: users of both roles, the UI built into a temp folder (esbuild, ~1 s), a log-in
 * over HTTP that returns the session cookie and CSRF token, and Debian's Chromium driven by playwright-core (never a
 * downloaded browser: executablePath is the system one; `npm run setup` installs it).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildDashboard } from '../../dashboard/build.js';

export const DASH_USERS = {
  operator: { username: 'anna', password: 'anna-operator-pw', role: 'operator' as const },
  viewer: { username: 'viktor', password: 'viktor-viewer-pw', role: 'viewer' as const },
};

export async function buildUi(dir: string): Promise<string> {
  const out = join(dir, 'dashboard-ui');
  await buildDashboard(out);
  return out;
}

export function dashboardConfig(assetsDir: string) {
  return { dashboard: { users: Object.values(DASH_USERS), assetsDir, liveIntervalMs: 250 } };
}

export async function login(base: string, who: { username: string; password: string } | { token: string }): Promise<{ status: number; cookie: string; csrf: string; setCookie: string }> {
  const body = 'token' in who ? { token: who.token } : { username: who.username, password: who.password };
  const res = await fetch(`${base}/dashboard/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const setCookie = res.headers.get('set-cookie') ?? '';
  const json = (await res.json()) as { csrf?: string };
  return { status: res.status, cookie: setCookie.split(';')[0]!, csrf: json.csrf ?? '', setCookie };
}

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'esl-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: 'de-DE',
    timezoneId: 'Europe/Berlin',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core in the page (evaluated through the devtools protocol, so the page's CSP stays on) and returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, nodes: v.nodes.slice(0, 5).map((n) => JSON.stringify(n.target)) }));
  });
}
