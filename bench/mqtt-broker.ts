/**
 * Broker benchmark (issue 10, docs/decisions.md D24): what the embedded broker's per-message checks cost — strict
 * topic routing and the ACL on every PUBLISH, `authorizeForward` on every delivery. An AP publishes QoS 1 frames to
 * its up topic as fast as the PUBACKs come back (a window of `--window` in flight); the edge's client receives
 * them. Baseline in the same run: a bare aedes broker (no hooks) carrying the same traffic. Prints JSON lines.
 *
 * The two alternate for `--rounds` rounds and the medians are reported, so load that comes and goes on a shared
 * machine hits both alike.
 *
 *   npm run build && node dist/bench/mqtt-broker.js [--messages 10000] [--window 64] [--rounds 5]
 */
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/core/logger.js';
import { startEmbeddedBroker } from '../src/transport/embedded-broker.js';
import { mayPublish, maySubscribe } from '../src/transport/mqtt-acl.js';
import { routePublish } from '../src/transport/topic-router.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'mqtt-broker', ...o })}\n`);
}

const messages = arg('messages', 10_000);
const rounds = arg('rounds', 5);
const window = arg('window', 64);
const ROOT = 'esl/bench/s1';
const frame = Buffer.alloc(64, 7);

/** Messages per second from one publisher to one subscriber through the broker at `url`. */
async function run(url: string, ap: mqtt.IClientOptions, edge: mqtt.IClientOptions): Promise<number> {
  const sub = await mqtt.connectAsync(url, { ...edge, reconnectPeriod: 0 });
  let received = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((r) => (resolveAll = r));
  sub.on('message', () => {
    if (++received === messages) resolveAll();
  });
  await sub.subscribeAsync(`${ROOT}/ap/+/up`, { qos: 1 });
  const pub = await mqtt.connectAsync(url, { ...ap, reconnectPeriod: 0 });
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (sent < messages) {
        sent++;
        await pub.publishAsync(`${ROOT}/ap/AP-1/up`, frame, { qos: 1 });
      }
    }),
  );
  await all;
  const s = (performance.now() - t0) / 1000;
  await pub.endAsync();
  await sub.endAsync();
  return messages / s;
}

async function bareRound(): Promise<number> {
  const bare = await Aedes.createBroker();
  const server = createServer(bare.handle as (socket: Socket) => void);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  try {
    return await run(`mqtt://127.0.0.1:${port}`, { clientId: 'AP-1' }, { clientId: 'edge' });
  } finally {
    await new Promise<void>((r) => bare.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function checkedRound(dataDir: string): Promise<number> {
  const config = parseConfig({
    store: { chain: 'bench', id: 's1' },
    dataDir,
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [{ username: 'ap-1', password: 'ap-1-password', role: 'ap', apId: 'AP-1' }] },
    http: { tokens: [{ name: 'b', token: 'bench-token-0123456789' }] },
  });
  const broker = await startEmbeddedBroker({ config, log: createLogger({ level: 'silent' }), host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024 });
  try {
    return await run(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'AP-1', username: 'ap-1', password: 'ap-1-password' }, { clientId: 'esl-edge-bench-s1', ...broker.edgeCredentials });
  } finally {
    await broker.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const dir = mkdtempSync(join(tmpdir(), 'esl-bench-'));
try {
  const bare: number[] = [];
  const checked: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const b = await bareRound();
    const c = await checkedRound(dir);
    bare.push(b);
    checked.push(c);
    ratios.push(c / b);
  }
  // The checks alone, in a loop: what the broker adds per message (route + ACL on publish, ACL on forward).
  const ap = { username: 'ap-1', role: 'ap' as const, apId: 'AP-1' };
  const edge = { username: 'edge-s1', role: 'edge' as const };
  const topic = `${ROOT}/ap/AP-1/up`;
  const n = 200_000;
  let ok = 0;
  // CPU time, not wall time: on a shared machine the loop is preempted, which is not the checks' cost.
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    if (routePublish(ap, ROOT, topic).ok && mayPublish(ap, ROOT, topic) && maySubscribe(edge, ROOT, topic)) ok++;
  }
  const c1 = process.cpuUsage(c0);
  const checkNs = ((c1.user + c1.system) * 1e3) / n;
  if (ok !== n) throw new Error('checks refused the bench topic');
  emit({ metric: 'checks_ns_per_message', value: Math.round(checkNs), cpu: true });
  emit({
    metric: 'qos1_messages_per_s',
    value: Math.round(median(checked)),
    baseline_bare_aedes_per_s: Math.round(median(bare)),
    ratio: +median(ratios).toFixed(3),
    ratios: ratios.map((r) => +r.toFixed(3)),
    messages,
    window,
    rounds,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
