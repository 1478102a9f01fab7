/**
 * Scale smoke check (not a test): one process simulates a store of the reference size — by default 50,000 labels
 * on 20 APs with the reference label mix and 10 % of labels heard by a neighbour AP — in virtual time, against an
 * embedded aedes broker and the simulator's edge double (edge-double.ts), which answers AP_HELLO, acknowledges frames
 * and stages one full image per AP queue slot. It reports wall time, simulated time, events and memory.
 *
 *   node dist/simulator/src/scale-check.js [--labels 50000] [--aps 20] [--minutes 3] [--transfers-per-ap 64]
 */
import { parseArgs } from 'node:util';
import {
  ImageEncoding,
  ImageKind,
  StatusCode,
  encodeImage,
  imageBytes,
  labelTypeById,
  planeBytes,
  imageBeginMessage,
  imageBlockMessages,
  type Message,
} from '#protocol';
import { EdgeDouble, startBroker } from './edge-double.js';
import { StoreSimulator } from './store-simulator.js';
import { VirtualClock } from './virtual-clock.js';

const CHAIN = 'scale';
const STORE = 'ref-1';
/** Reference label mix (reference-store.md): type id → share. */
const MIX: [number, number][] = [
  [3, 0.6],
  [2, 0.2],
  [1, 0.1],
  [4, 0.08],
  [5, 0.02],
];

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number): number => Math.round(bytes / 1048576);

function labelTypeFor(i: number, n: number): number {
  let acc = 0;
  for (const [id, share] of MIX) {
    acc += share;
    if (i < acc * n) return id;
  }
  return 3;
}

/**
 * A label-like picture: rules, and a block of sparse pseudo-random bits standing in for text, different per label,
 * so that images compress roughly like rendered labels (a few hundred bytes for a 2.9" panel).
 */
function picture(typeId: number, seed: number): Uint8Array {
  const t = labelTypeById(typeId)!;
  const planes = new Uint8Array(imageBytes(t));
  const row = Math.ceil(t.width / 8);
  let x32 = seed * 2654435761 || 1;
  const next = (): number => {
    x32 ^= x32 << 13;
    x32 ^= x32 >>> 17;
    x32 ^= x32 << 5;
    return x32 >>> 0;
  };
  for (let y = 4; y < t.height - 4; y++) {
    if (y % 32 < 2) planes.fill(0xff, y * row + 1, y * row + row - 1);
    if (y > 8 && y < 40) for (let x = 2; x < Math.min(row - 2, 26); x++) planes[y * row + x] = next() & next() & next() & 0xff;
  }
  if (planes.length > planeBytes(t)) planes.fill(0xf0, planeBytes(t) + 10 * row + 2, planeBytes(t) + 10 * row + 8);
  return planes;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      labels: { type: 'string', default: '50000' },
      aps: { type: 'string', default: '20' },
      minutes: { type: 'string', default: '3' },
      'transfers-per-ap': { type: 'string', default: '64' },
    },
  });
  const nLabels = Number(values.labels);
  const nAps = Number(values.aps);
  const minutes = Number(values.minutes);
  const perAp = Number(values['transfers-per-ap']);
  const memStart = process.memoryUsage();

  const broker = await startBroker();
  const url = broker.url;
  const clock = new VirtualClock({ yieldEvery: 2_000 });

  // ---- a minimal edge: the simulator's edge double, counting instead of keeping what it hears ----
  const counts = { checkins: 0, results: 0, resultsOk: 0, heartbeats: 0 };
  const edge = await EdgeDouble.connect(url, {
    chain: CHAIN,
    store: STORE,
    serverTimeMs: () => clock.now(),
    heartbeatIntervalS: 30,
    checkinReportIntervalS: 600,
    keepReceived: false,
    onFrame: ({ frame: { message: m } }) => {
      if (m.type === 'LABEL_CHECKIN') counts.checkins++;
      else if (m.type === 'AP_HEARTBEAT') counts.heartbeats++;
      else if (m.type === 'TRANSFER_RESULT') {
        counts.results++;
        if (m.status === StatusCode.OK) counts.resultsOk++;
      }
    },
  });
  const request = (apId: string, message: Message): Promise<number> => edge.request(apId, message);

  // ---- the store ----
  const aps = Array.from({ length: nAps }, (_, i) => `AP-${String(i + 1).padStart(2, '0')}`);
  const labels = Array.from({ length: nLabels }, (_, i) => {
    const apIndex = i % nAps;
    return {
      labelId: (0xe5a1000000000000n + BigInt(i)).toString(16).toUpperCase().padStart(16, '0'),
      labelType: labelTypeFor(Math.floor(i / nAps), Math.ceil(nLabels / nAps)),
      apId: aps[apIndex]!,
      ...(i % 10 === 0 && nAps > 1 ? { neighbourApId: aps[(apIndex + 1) % nAps]! } : {}),
    };
  });
  const sim = await StoreSimulator.start({
    brokerUrl: url,
    chain: CHAIN,
    store: STORE,
    aps: aps.map((apId) => ({ apId, username: apId, password: 'x' })),
    labels,
    clock,
    seed: 1,
  });
  await delay(200);
  const memStarted = process.memoryUsage();

  // One full image per queue slot of every AP, staged before the labels wake.
  let staged = 0;
  let transferId = 1;
  const stageStart = performance.now();
  await Promise.all(
    aps.map(async (apId) => {
      for (const l of labels.filter((x) => x.apId === apId).slice(0, perAp)) {
        const image = encodeImage({ labelType: labelTypeById(l.labelType)!, target: picture(l.labelType, transferId), kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] });
        const id = transferId++;
        const status = await request(apId, imageBeginMessage({ transferId: id, labelId: l.labelId, labelType: l.labelType }, image));
        if (status !== StatusCode.OK) continue;
        for (const block of imageBlockMessages(id, image.payload)) await request(apId, block);
        staged++;
      }
    }),
  );
  const stageMs = performance.now() - stageStart;

  // ---- run ----
  // Each simulated second is followed by as much real time as the broker and the edge need to take every
  // check-in forwarded so far, so the figures include the MQTT path instead of leaving a backlog behind.
  const forwarded = (): number => aps.reduce((n, a) => n + sim.apStats(a).radio.checkinsForwarded, 0);
  const runStart = performance.now();
  let peakRss = 0;
  let waitedForMqttMs = 0;
  for (let s = 0; s < minutes * 60; s++) {
    await clock.advance(1_000);
    const waitStart = performance.now();
    while (counts.checkins < forwarded()) await delay(1);
    waitedForMqttMs += performance.now() - waitStart;
    if (s % 10 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const runMs = performance.now() - runStart;
  const mem = process.memoryUsage();
  peakRss = Math.max(peakRss, mem.rss);
  const stats = sim.stats();
  const radio = aps.map((a) => sim.apStats(a).radio);
  const sum = (k: keyof (typeof radio)[number]): number => radio.reduce((n, r) => n + r[k], 0);

  const report = {
    labels: nLabels,
    aps: nAps,
    simulatedS: minutes * 60,
    wallS: +(runMs / 1000).toFixed(1),
    speedup: +((minutes * 60_000) / runMs).toFixed(1),
    stagingWallS: +(stageMs / 1000).toFixed(1),
    /** Part of wallS spent waiting for MQTT delivery to the edge. */
    mqttWaitS: +(waitedForMqttMs / 1000).toFixed(1),
    eventsRun: clock.eventsRun,
    eventsPerWallS: Math.round(clock.eventsRun / (runMs / 1000)),
    memoryMB: {
      rssAtStart: mb(memStart.rss),
      rssStoreStarted: mb(memStarted.rss),
      rssPeak: mb(peakRss),
      heapUsedEnd: mb(mem.heapUsed),
      perLabelKB: +((memStarted.heapUsed - memStart.heapUsed) / 1024 / nLabels).toFixed(2),
    },
    radio: {
      framesSent: stats.framesSent,
      framesLost: stats.framesLost,
      checkinsHeard: sum('checkinsHeard'),
      checkinsForwarded: sum('checkinsForwarded'),
      transfersStarted: sum('transfersStarted'),
      deferrals: sum('deferrals'),
    },
    edge: { checkinsReceived: counts.checkins, heartbeats: counts.heartbeats, transfersStaged: staged, transferResults: counts.results, transferResultsOk: counts.resultsOk },
    labelsUpdated: stats.updated,
    bytesOnAir: stats.bytesOnAir,
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');

  await sim.stop();
  await edge.close();
  await broker.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`scale-check: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
