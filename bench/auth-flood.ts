/**
 * Issue 10: "a flood of wrong passwords does not delay a correct login by more than a second" — the HTTP half,
 * measured over real sockets. The daemon runs in its own process with scrypt-hashed tokens (the default cost); a
 * flood of wrong tokens comes from `--sources` loopback addresses (127.0.0.2 …, each bound as the local address),
 * while a correct client on 127.0.0.250 sends one request every 200 ms: its first request with a token the edge has
 * not verified since start (a full scrypt check) and then the same token again (remembered). Baseline: the same
 * client's latency with no flood, same run. Prints JSON lines.
 *
 *   npm run build && node dist/bench/auth-flood.js [--sources 1] [--concurrency 16] [--seconds 10] [--log-n 15]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSecret } from '../src/core/secret-hash.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const SOURCES = arg('sources', 1);
const CONCURRENCY = arg('concurrency', 16);
const SECONDS = arg('seconds', 10);
/** scrypt cost of the configured token hashes: 15 is `esl-edge secret hash`, 10 is `secret hash --generate`. */
const LOG_N = arg('log-n', 15);
const emit = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ bench: 'auth-flood', ...o })}\n`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const dir = mkdtempSync(join(tmpdir(), 'esl-auth-flood-'));
const [mqttPort, httpPort] = [await freePort(), await freePort()];
const GOOD = ['good-token-a-0123456789abcdef', 'good-token-b-0123456789abcdef'];
writeFileSync(
  join(dir, 'config.json'),
  JSON.stringify({
    store: { chain: 'bench', id: 'auth' },
    dataDir: join(dir, 'data'),
    log: { level: 'error' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: mqttPort } },
    http: { host: '0.0.0.0', port: httpPort, tokens: await Promise.all(GOOD.map(async (t, i) => ({ name: `t${i}`, token: await hashSecret(t, { logN: LOG_N }) }))) },
  }),
);
const edge = spawn(process.execPath, [join(import.meta.dirname, '..', 'src', 'cli', 'main.js'), 'start', '--config', join(dir, 'config.json')], { stdio: ['ignore', 'ignore', 'inherit'] });

function get(token: string, localAddress: string, agent?: Agent): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: httpPort, path: '/api/v1/aps', localAddress, agent: agent ?? false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0 }));
    req.end();
  });
}
for (let i = 0; ; i++) {
  if ((await get('x', '127.0.0.1')).status === 401) break;
  if (i > 300) throw new Error('edge did not start');
  await new Promise((r) => setTimeout(r, 100));
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const CLIENT = '127.0.0.250';
const clientAgent = new Agent({ keepAlive: true, maxSockets: 1 });
async function probe(token: string, seconds: number): Promise<{ first: { status: number; ms: number }; rest: { status: number; ms: number }[] }> {
  const first = await get(token, CLIENT, clientAgent);
  const rest: { status: number; ms: number }[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    rest.push(await get(token, CLIENT, clientAgent));
    await new Promise((r) => setTimeout(r, 200));
  }
  return { first, rest };
}

// Baseline: no flood (token a, first use then remembered).
const idle = await probe(GOOD[0]!, 2);

// The flood: wrong tokens from SOURCES addresses, CONCURRENCY requests in flight, each a fresh token.
let flooding = true;
let sent = 0;
const statuses = new Map<number, number>();
const agents = Array.from({ length: SOURCES }, () => new Agent({ keepAlive: true, maxSockets: Math.max(1, Math.ceil(CONCURRENCY / SOURCES)) }));
const floodWorker = async (w: number) => {
  while (flooding) {
    const s = w % SOURCES;
    const r = await get(`wrong-${w}-${sent++}-0123456789abcdef`, `127.0.0.${2 + s}`, agents[s]);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  }
};
const flood = Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => floodWorker(w)));
await new Promise((r) => setTimeout(r, 1000)); // the flood is under way
const during = await probe(GOOD[1]!, SECONDS);
flooding = false;
await flood;

const ok = (xs: { status: number }[]) => xs.every((x) => x.status === 200);
const ms = (xs: { ms: number }[]) => xs.map((x) => x.ms);
emit({ metric: 'flood', log_n: LOG_N, sources: SOURCES, concurrency: CONCURRENCY, seconds: SECONDS, wrong_requests: sent, wrong_per_s: Math.round(sent / (SECONDS + 1)), answers: Object.fromEntries(statuses) });
emit({ metric: 'correct_first_request_ms', idle: +idle.first.ms.toFixed(1), during_flood: +during.first.ms.toFixed(1), status_idle: idle.first.status, status_during: during.first.status, ratio: +(during.first.ms / idle.first.ms).toFixed(2) });
emit({ metric: 'correct_request_ms', idle_p50: +pct(ms(idle.rest), 50).toFixed(1), during_p50: +pct(ms(during.rest), 50).toFixed(1), during_p99: +pct(ms(during.rest), 99).toFixed(1), during_max: +Math.max(...ms(during.rest)).toFixed(1), all_200: ok(during.rest) && during.first.status === 200, samples: during.rest.length });
emit({ metric: 'acceptance', correct_within_1s: during.first.status === 200 && during.first.ms < 1000 && Math.max(...ms(during.rest)) < 1000 && ok(during.rest) });
clientAgent.destroy();
for (const a of agents) a.destroy();
edge.kill('SIGTERM');
await new Promise((r) => edge.once('exit', r));
rmSync(dir, { recursive: true, force: true });
