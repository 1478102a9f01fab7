/**
 * Issue 10 acceptance at full size: 100,000 malformed payloads (half over MQTT QoS 1, half over HTTP, bounded
 * windows, loopback) against the real daemon in its own process, with a small dead-letter budget. Reports how long the
 * flood took, the database size sampled during it against `storage.maxDbBytes`, the dead-letter bytes against their
 * budget, whether the daemon stayed up, and the round trip of a valid HTTP event during the flood against the same
 * measured idle before it (the baseline, same run). Prints JSON lines; exits 1 if an acceptance condition fails.
 *
 *   npm run build && node dist/bench/flood.js [--count 100000] [--bytes 4096] [--budget-mib 8] [--max-db-mib 64]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import sqlite3 from 'sqlite3';
import { floodHttp, floodMqtt } from './junk-flood.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const COUNT = arg('count', 100_000);
const BYTES = arg('bytes', 4096);
const BUDGET = arg('budget-mib', 8) * 1024 * 1024;
const MAX_DB = arg('max-db-mib', 64) * 1024 * 1024;
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'flood', ...o })}\n`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'esl-flood-'));
const [mqttPort, httpPort] = [await freePort(), await freePort()];
const TOKEN = 'flood-bench-token-0123456789';
const POS = { username: 'pos', password: 'pos-password-flood', role: 'publisher' };
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    store: { chain: 'bench', id: 'flood' },
    dataDir: join(dir, 'data'),
    log: { level: 'error' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: mqttPort }, users: [POS] },
    http: { host: '127.0.0.1', port: httpPort, tokens: [{ name: 'bench', token: TOKEN }] },
    storage: { maxDbBytes: MAX_DB, deadLetters: { maxBytes: BUDGET, maxPayloadBytes: 4096 } },
  }),
);
const edge = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'cli', 'main.js'), 'start', '--config', join(dir, 'config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
let exited: number | null = null;
edge.on('exit', (code) => (exited = code ?? -1));
const api = `http://127.0.0.1:${httpPort}`;
for (let i = 0; ; i++) {
  if ((await fetch(`${api}/health`).catch(() => null))?.ok) break;
  if (i > 300) throw new Error('edge did not start');
  await new Promise((r) => setTimeout(r, 100));
}

const dbFile = join(dir, 'data', 'esl-edge.db');
const dbBytes = () => statSync(dbFile).size + (existsSync(`${dbFile}-wal`) ? statSync(`${dbFile}-wal`).size : 0);
const gtin = '4006381333931';
let version = 0;
const post = (body: unknown) => fetch(`${api}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
await post({ id: 'p', source: 'bench', version: 1, type: 'product', data: { gtin, name: 'Milch' } });
const validEvent = async (): Promise<number> => {
  version++;
  const t0 = performance.now();
  const r = await post({ id: `v-${version}`, source: 'bench', version, type: 'price', data: { gtin, priceCents: 100 + version } });
  const body = (await r.json()) as { status: string };
  if (body.status !== 'applied') throw new Error(`valid event ${version}: ${JSON.stringify(body)}`);
  return performance.now() - t0;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

const idle: number[] = [];
for (let i = 0; i < 20; i++) idle.push(await validEvent());

let peak = dbBytes();
let flooding = true;
const during: number[] = [];
const sampler = (async () => {
  while (flooding) {
    peak = Math.max(peak, dbBytes());
    during.push(await validEvent());
    await new Promise((r) => setTimeout(r, 500));
  }
})();
const t0 = performance.now();
const half = Math.floor(COUNT / 2);
const [m, h] = await Promise.all([
  floodMqtt({ url: `mqtt://127.0.0.1:${mqttPort}`, username: POS.username, password: POS.password, topic: 'esl/bench/flood/in/price', count: half, bytes: BYTES, window: 64 }),
  floodHttp({ baseUrl: api, token: TOKEN, count: COUNT - half, bytes: BYTES, concurrency: 8, offset: half }),
]);
const floodS = (performance.now() - t0) / 1000;
flooding = false;
await sampler;

// Every MQTT payload acknowledged means committed; the HTTP ones were answered. Let the pruner finish its pass.
await new Promise((r) => setTimeout(r, 2_000));
peak = Math.max(peak, dbBytes());
const ro = new sqlite3.Database(dbFile, sqlite3.OPEN_READONLY);
const q = <T>(sql: string) => new Promise<T>((res, rej) => ro.get(sql, (err: Error | null, row: T) => (err ? rej(err) : res(row))));
const dl = await q<{ rows: number; bytes: number; maxSeq: number }>(
  "SELECT count(*) AS rows, sum(64 + ifnull(length(payload),0) + length(reason) + ifnull(length(topic),0) + ifnull(length(event_id),0) + ifnull(length(source),0) + length(channel) + length(code)) AS bytes, max(seq) AS maxSeq FROM dead_letters",
);
const alerts = await q<{ n: number }>("SELECT count(*) AS n FROM outbox WHERE payload LIKE '%\"storage-pruning\"%'");
ro.close();

// The next valid event, over MQTT, answered on its reply topic.
const pos = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: POS.username, password: POS.password, reconnectPeriod: 0 });
await pos.subscribeAsync('esl/bench/flood/reply/pos/#', { qos: 1 });
const replied = new Promise<string>((resolve) => pos.on('message', (_t, p) => resolve((JSON.parse(p.toString()) as { status: string }).status)));
await pos.publishAsync('esl/bench/flood/in/price', JSON.stringify({ id: 'next-valid', source: 'pos', version: 1e12, type: 'price', data: { gtin, priceCents: 99 }, replyTo: 'esl/bench/flood/reply/pos' }), { qos: 1 });
const nextStatus = await Promise.race([replied, new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000))]);
await pos.endAsync();
const health = (await fetch(`${api}/health`).catch(() => null))?.status ?? 0;

const ok = exited === null && health === 200 && peak < MAX_DB && nextStatus === 'applied' && m.unexpected + h.unexpected === 0 && dl.bytes <= BUDGET * 1.125 + 8192;
emit({ metric: 'flood', payloads: COUNT, payload_bytes: BYTES, mqtt: half, http: COUNT - half, seconds: +floodS.toFixed(1), payloads_per_s: Math.round(COUNT / floodS), mqtt_s: +m.seconds.toFixed(1), http_s: +h.seconds.toFixed(1), unexpected_answers: m.unexpected + h.unexpected });
emit({ metric: 'storage', max_db_bytes: MAX_DB, peak_db_bytes: peak, final_db_bytes: dbBytes(), dead_letter_budget_bytes: BUDGET, dead_letter_bytes: dl.bytes, dead_letter_rows: dl.rows, dead_letters_recorded: dl.maxSeq, pruning_alerts: alerts.n, unpruned_estimate_bytes: COUNT * (BYTES + 150) });
emit({ metric: 'valid_event_ms', idle_p50: +pct(idle, 50).toFixed(1), during_flood_p50: +pct(during, 50).toFixed(1), during_flood_p99: +pct(during, 99).toFixed(1), during_flood_max: +Math.max(...during).toFixed(1), samples: during.length, ratio_p50: +(pct(during, 50) / pct(idle, 50)).toFixed(2) });
emit({ metric: 'acceptance', daemon_up: exited === null && health === 200, db_under_limit: peak < MAX_DB, next_valid_event: nextStatus, ok });
edge.kill('SIGTERM');
await new Promise((r) => edge.once('exit', r));
rmSync(dir, { recursive: true, force: true });
if (!ok) process.exitCode = 1;
