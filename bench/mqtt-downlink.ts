/**
 * Downlink flow control (D98): what the edge's process holds when its APs take frames slower than they send them.
 * The embedded broker and the edge's own client (as in the daemon: persistent session, QoS 1) carry `--aps` APs,
 * each publishing `--frames` frames to its up topic with up to 64 in flight; the edge answers every frame with one
 * ACK frame through `MqttFrameLink.send`, as the AP hub does (protocol §7.1). The APs run in a child process and read
 * their down topic in bursts (`--read-ms` of every `--cycle-ms`), like a simulator or AP that is short of CPU, so
 * the broker has to wait for their sockets to drain.
 *
 * Reported for the edge process: peak RSS and main-heap use (sampled every 50 ms), the most frames ever in flight
 * and waiting at the link, and how long until every ACK frame was acknowledged by the broker. `--window 0` is the
 * link without a window and the broker without the uplink gate (before D98); `--gate 0` keeps the window but not the
 * gate; the default is both, as the daemon wires them. Run each in a fresh process, back to back, with the edge's
 * Node flags (src/core/edge-runtime.ts):
 *
 *   npm run build && for w in 0 256; do MALLOC_ARENA_MAX=2 node --max-semi-space-size=4 --heap-growing-percent=20 \
 *     dist/bench/mqtt-downlink.js --window $w; done
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { apTopics, encodeFrame, StatusCode } from '#protocol';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/core/logger.js';
import { EDGE_NODE_FLAGS, EDGE_ENV } from '../src/core/edge-runtime.js';
import { startEmbeddedBroker } from '../src/transport/embedded-broker.js';
import { connectEdgeMqttClient } from '../src/transport/mqtt-client.js';
import { DOWNLINK_WINDOW, MqttFrameLink } from '../src/transport/mqtt-frame-link.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const APS = arg('aps', 25);
const FRAMES = arg('frames', 4_000);
const WINDOW = arg('window', DOWNLINK_WINDOW);
const READ_MS = arg('read-ms', 30);
const CYCLE_MS = arg('cycle-ms', 100);
const GATE = arg('gate', 1) === 1;
const CHAIN = 'bench';
const STORE = 's1';
const MB = 1024 * 1024;

async function apProcess(url: string): Promise<void> {
  const clients = await Promise.all(
    Array.from({ length: APS }, (_, i) =>
      mqtt.connectAsync(url, { clientId: `AP-${i + 1}`, username: `ap-${i + 1}`, password: `ap-${i + 1}-password`, clean: false, reconnectPeriod: 0, protocolVersion: 4 }),
    ),
  );
  let downs = 0;
  for (const [i, c] of clients.entries()) {
    c.on('message', () => downs++);
    await c.subscribeAsync(apTopics(CHAIN, STORE, `AP-${i + 1}`).down, { qos: 1 });
  }
  // Short of CPU: each AP reads its socket only part of the time.
  const cycle = setInterval(() => {
    for (const c of clients) c.stream.pause();
    setTimeout(() => {
      for (const c of clients) c.stream.resume();
    }, READ_MS);
  }, CYCLE_MS);
  const frame = Buffer.from(encodeFrame({ version: 1, seq: 1, ackRequested: true, message: { type: 'ACK', ackSeq: 1, status: StatusCode.OK } }));
  await Promise.all(
    clients.map(async (c, i) => {
      const up = apTopics(CHAIN, STORE, `AP-${i + 1}`).up;
      let sent = 0;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (sent < FRAMES) {
            sent++;
            await c.publishAsync(up, frame, { qos: 1 });
          }
        }),
      );
    }),
  );
  process.send!({ published: APS * FRAMES });
  const until = Date.now() + 600_000;
  while (downs < APS * FRAMES && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  clearInterval(cycle);
  process.send!({ received: downs });
  await Promise.all(clients.map((c) => c.endAsync()));
  process.exit(0);
}

async function edgeProcess(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'esl-bench-downlink-'));
  const config = parseConfig({
    store: { chain: CHAIN, id: STORE },
    dataDir: dir,
    mqtt: {
      embedded: { enabled: true, host: '127.0.0.1', port: 0 },
      users: Array.from({ length: APS }, (_, i) => ({ username: `ap-${i + 1}`, password: `ap-${i + 1}-password`, role: 'ap' as const, apId: `AP-${i + 1}` })),
    },
    http: { tokens: [{ name: 'b', token: 'bench-token-0123456789' }] },
  });
  const log = createLogger({ level: 'silent' });
  const broker = await startEmbeddedBroker({ config, log, host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024 });
  const client = await connectEdgeMqttClient({ name: 'mqtt', url: broker.edgeUrl, ...broker.edgeCredentials, clientId: `esl-edge-${CHAIN}-${STORE}`, reconnectPeriodMs: 1_000, waitForConnect: true, log });
  const link = new MqttFrameLink(client, CHAIN, STORE, log, WINDOW === 0 ? Infinity : WINDOW);
  // As the daemon wires it (D98); `--gate 0` measures the window alone.
  if (WINDOW !== 0 && GATE) broker.setUplinkGate(() => link.backlog());
  let framesIn = 0;
  let acked = 0;
  let failed = 0;
  let peakRss = 0;
  let peakHeap = 0;
  let peakInFlight = 0;
  let peakWaiting = 0;
  const sample = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakInFlight = Math.max(peakInFlight, link.downlink.inFlight);
    peakWaiting = Math.max(peakWaiting, link.downlink.waiting);
  }, 50);
  const rss0 = process.memoryUsage().rss;
  await link.start({
    frame: (_l, apId, result) => {
      framesIn++;
      if (!result.ok) return;
      const f = { version: 1, seq: result.frame.seq, ackRequested: false, message: { type: 'ACK' as const, ackSeq: result.frame.seq, status: StatusCode.OK } };
      link.send(apId, f).then(
        () => acked++,
        () => failed++,
      );
    },
    linkDown: () => undefined,
  });
  const t0 = performance.now();
  const child = fork(fileURLToPath(import.meta.url), ['--child', `mqtt://127.0.0.1:${broker.port}`, ...process.argv.slice(2)], { execArgv: [...EDGE_NODE_FLAGS], env: { ...process.env, ...EDGE_ENV } });
  let received = -1;
  await new Promise<void>((resolve) =>
    child.on('message', (m: { received?: number }) => {
      if (m.received !== undefined) {
        received = m.received;
        resolve();
      }
    }),
  );
  const allAckedS = (performance.now() - t0) / 1000;
  clearInterval(sample);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'mqtt-downlink',
      window: WINDOW === 0 ? 'none' : WINDOW,
      uplink_gate: WINDOW !== 0 && GATE,
      aps: APS,
      frames: APS * FRAMES,
      frames_in: framesIn,
      acks_received_by_aps: received,
      acks_acknowledged: acked,
      acks_failed: failed,
      wall_s: +allAckedS.toFixed(1),
      rss_start_mb: Math.round(rss0 / MB),
      rss_peak_mb: Math.round(peakRss / MB),
      heap_used_peak_mb: Math.round(peakHeap / MB),
      in_flight_peak: peakInFlight,
      waiting_peak: peakWaiting,
      read_ms: READ_MS,
      cycle_ms: CYCLE_MS,
      node_flags: process.execArgv.join(' '),
    })}\n`,
  );
  await link.stop();
  await client.endAsync(true);
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--child') await apProcess(process.argv[3]!);
else await edgeProcess();
