/**
 * How fast the store dashboard is usable on a 50,000-label store (issue 13): from navigation to the overview's
 * counts on screen, and to the label wall's first page with every picture decoded, in Debian's Chromium driven by
 * playwright-core against the real daemon (its own sqlite file, the real renderer, the dashboard plugin).
 *
 * The store is the reference store of the full-store benchmark (bench/full-store-store.ts: 50,000 labels on 25 APs,
 * the reference label mix), seeded through the real event intake and rendered by the real planner. Check-ins and
 * acknowledgements are handed to the dispatcher as an AP would forward them (label type, AP, last heard; 95 % of
 * labels confirmed), instead of simulating 50,000 radios, which would take ~20 minutes and measure the radio, not
 * the page.
 *
 * Each page is opened `--runs` times from about:blank with the live stream closed in between, so every run pays for
 * a fresh audit of the whole store on the server (the snapshot is older than its 1 s lifetime). Baseline in the same
 * run: GET /api/v1/audit, the whole store as JSON — what a page built on the existing API would have to load first.
 *
 *   npm run build && node dist/bench/dashboard.js [--labels 50000 --aps 25 --runs 5 --data-dir /tmp/dash-50k]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/core/logger.js';
import { startDaemon } from '../src/daemon.js';
import { buildStore, seedBatches } from './full-store-store.js';
import { BLANK_HASH } from '#protocol';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const LABELS = arg('labels', 50_000);
const APS = arg('aps', 25);
const RUNS = arg('runs', 5);
const TOKEN = 'bench-token-0123456789abcdef';
const out: Record<string, unknown>[] = [];
const emit = (o: Record<string, unknown>) => {
  const line = { bench: 'dashboard', labels: LABELS, ...o };
  out.push(line);
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** --data-dir DIR keeps the built store there and reuses it on the next run (building 50,000 labels takes minutes). */
const keepIdx = process.argv.indexOf('--data-dir');
const keptDir = keepIdx >= 0 ? process.argv[keepIdx + 1] : undefined;
const reuse = keptDir !== undefined && existsSync(join(keptDir, 'esl-edge.db'));
const dir = keptDir ?? mkdtempSync(join(tmpdir(), 'esl-bench-dash-'));
const t0 = performance.now();
const store = buildStore({ labels: LABELS, aps: APS, seed: 13 });
const config = parseConfig({
  store: { chain: 'bench', id: 'ref-1' },
  dataDir: dir,
  log: { level: 'warn' },
  mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: store.users },
  http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'bench', token: TOKEN }] },
  dashboard: { users: [{ username: 'bench', password: 'bench-operator-pw', role: 'operator' }] },
});
const daemon = await startDaemon(config, { log: createLogger({ level: 'warn' }) });
const base = `http://127.0.0.1:${daemon.httpPort}`;
const BLANK = BLANK_HASH;
function checkinAll(shown: (l: (typeof store.file.labels)[number], i: number) => string): void {
  for (const [i, l] of store.file.labels.entries()) {
    void daemon.dispatcher.labelCheckin(l.apId, {
      type: 'LABEL_CHECKIN',
      labelId: l.labelId,
      labelType: l.labelType,
      displayedHash: shown(l, i),
      page: 0,
      batteryMv: 2900,
      rssi: -60,
      lqi: 200,
      temperatureC: 20,
      wakeReason: 0,
      pendingTransferId: 0,
    });
  }
}
try {
  if (!reuse) {
    for (const batch of seedBatches(store, Date.now())) await daemon.intake.ingest(JSON.stringify(batch), { channel: 'local' });
    // Check-ins, as the APs would forward them (through the dispatcher into the label store, D17): type and AP of
    // every label, then — once planned — 95 % of labels acknowledging their picture; the rest are on their way.
    checkinAll((l) => daemon.labels.get(l.labelId)?.confirmedHash ?? BLANK);
    daemon.planner.kick();
    await daemon.planner.idle();
    checkinAll((l, i) => (i % 20 !== 0 ? (daemon.labels.get(l.labelId)?.desiredHash ?? BLANK) : BLANK));
  }
  // Heard just now, so no label counts as unreachable however old the kept store is.
  checkinAll((l) => daemon.labels.get(l.labelId)?.confirmedHash ?? BLANK);
  await daemon.labels.flush();
  emit({ step: 'store_ready', reused: reuse, setup_s: +((performance.now() - t0) / 1000).toFixed(1) });

  const a0 = performance.now();
  const audit = await fetch(`${base}/api/v1/audit`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const auditBytes = (await audit.arrayBuffer()).byteLength;
  const baselineMs = performance.now() - a0;
  emit({ step: 'baseline_api_audit', ms: Math.round(baselineMs), bytes: auditBytes });

  const login = await fetch(`${base}/dashboard/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-operator-pw' }) });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!.split('=');
  const profile = mkdtempSync(join(tmpdir(), 'esl-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  await context.addCookies([{ name: cookie[0]!, value: cookie.slice(1).join('='), domain: '127.0.0.1', path: '/dashboard', httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  const measure = async (hash: string, ready: () => number | false): Promise<number> => {
    await page.goto('about:blank');
    await new Promise((r) => setTimeout(r, 1_500)); // the stream is closed: the next page pays for a fresh audit
    await page.goto(`${base}/dashboard${hash}`, { waitUntil: 'commit' });
    const h = await page.waitForFunction(ready, undefined, { polling: 'raf', timeout: 30_000 }).catch(async (err: unknown) => {
      throw new Error(`${hash} never became ready; the page shows: ${(await page.evaluate(() => document.body.innerText)).slice(0, 300)}`, { cause: err });
    });
    const at = Math.round((await h.jsonValue()) as number);
    // Where the time went: the API calls of this navigation (start → end, ms since navigation start).
    const api = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .filter((e) => e.name.includes('/dashboard/api/') && !e.name.includes('/images/'))
        .map((e) => `${new URL(e.name).pathname.replace('/dashboard/api', '')} ${Math.round(e.startTime)}-${Math.round((e as PerformanceResourceTiming).responseEnd)}`),
    );
    timings.push({ page: hash, at, api });
    return at;
  };
  const timings: { page: string; at: number; api: string[] }[] = [];
  // Functions, not strings: the page's CSP forbids eval, and playwright evaluates a string predicate with it.
  const overviewReady = () => {
    const el = document.querySelector('[data-testid="count-consistent"]');
    return el && el.getAttribute('data-count') !== null ? performance.now() : false;
  };
  const wallReady = () => {
    // 24 tiles on the page, and every picture in the viewport decoded (the ones below the fold load lazily, on scroll).
    const tiles = document.querySelectorAll('[data-testid="wall"] li').length;
    const visible = Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="wall"] img')).filter((i) => i.getBoundingClientRect().top < innerHeight);
    return tiles >= 24 && visible.length > 0 && visible.every((i) => i.complete && i.naturalWidth > 0) ? performance.now() : false;
  };
  const results: Record<string, number[]> = { overview: [], wall: [] };
  for (let run = 1; run <= RUNS; run++) {
    const o = await measure('#/', overviewReady);
    const w = await measure('#/labels', wallReady);
    results.overview!.push(o);
    results.wall!.push(w);
    emit({ step: 'run', run, overview_interactive_ms: o, wall_first_page_interactive_ms: w, api: timings.splice(0).map((t) => t.api.join(', ')) });
  }
  const snap = await fetch(`${base}/dashboard/api/overview`, { headers: { cookie: `${cookie[0]}=${cookie.slice(1).join('=')}` } });
  await snap.arrayBuffer();
  emit({
    step: 'summary',
    runs: RUNS,
    overview_ms_p50: median(results.overview!),
    overview_ms_max: Math.max(...results.overview!),
    wall_ms_p50: median(results.wall!),
    wall_ms_max: Math.max(...results.wall!),
    baseline_api_audit_ms: Math.round(baselineMs),
    ratio_overview_to_baseline: +(median(results.overview!) / baselineMs).toFixed(2),
    within_1s: Math.max(...results.overview!, ...results.wall!) <= 1000,
  });
  await context.close();
  rmSync(profile, { recursive: true, force: true });
} finally {
  await daemon.stop();
  if (!keptDir) rmSync(dir, { recursive: true, force: true });
}
const resultsDir = join(process.cwd(), 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `dashboard-${LABELS}-${new Date().toISOString().slice(0, 10)}.jsonl`);
writeFileSync(file, out.map((o) => JSON.stringify(o)).join('\n') + '\n');
process.stdout.write(`${JSON.stringify({ bench: 'dashboard', wrote: file })}\n`);
