/**
 * The edge's fixed cost while nothing changes (issue 16: 200,000 labels on 100 APs on a 2-core machine beside its
 * simulator). A store of the reference kind (bench/full-store-store.ts) is filled through the simulator as in
 * bench/full-store, then nothing is sent for `--idle-s` simulated seconds: the labels keep waking every ~30 s, the APs
 * keep sending check-ins and WAKE_REPORTs (protocol §5.6.3), and the edge's CPU over that window is its fixed cost.
 *
 * The message rate the edge sees is labels × speed / 30 s, so 2,000 labels on one AP at 25× send what 50,000 labels on
 * 25 APs send at 1× (~1,700 wake-report entries/s), in a minute of wall time instead of a fill of ~25 minutes. The
 * per-AP rate is then 25× the reference's, so per-AP costs are overstated, per-label ones are not.
 *
 * Prints one JSON line: edge CPU seconds and cores over the idle window, µs of edge CPU per label per second and per
 * wake-report entry, the simulator's CPU, event-loop utilisation. `--edge-cpu-prof DIR` writes the edge's V8 profile
 * (the whole run; `--prof-window` in the line says which part of it was idle, in µs of the profile's clock).
 *
 *   npm run build && node dist/bench/edge-idle.js [--labels 2000 --aps 1 --speed 25 --idle-s 300 --out FILE --tag T]
 *     [--edge-cpu-prof DIR] [--edge-node-args "--import ./probe.mjs"]
 */
import { appendFileSync } from 'node:fs';
import { RealClock } from '../simulator/src/real-clock.js';
import { StoreSimulator } from '../simulator/src/store-simulator.js';
import { silentLogger } from '../simulator/src/sim-logger.js';
import { EdgeProcess } from './full-store-ipc.js';
import { buildStore, seedBatches } from './full-store-store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '2000'));
const APS = Number(arg('aps', '1'));
const SPEED = Number(arg('speed', '25'));
const IDLE_S = Number(arg('idle-s', '300'));
const FILL_TIMEOUT_S = Number(arg('fill-timeout-s', '3600'));
const OUT = arg('out', '');
const TAG = arg('tag', '');
const EDGE_CPU_PROF = arg('edge-cpu-prof', '');
/** Extra node flags for the edge process, e.g. "--import ./probe.mjs" (space-separated). */
const EDGE_NODE_ARGS = arg('edge-node-args', '').split(' ').filter(Boolean);
const EPOCH = Date.parse('2026-11-26T22:00:00+01:00');
const round = (x: number, d = 1) => +x.toFixed(d);
const wallSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (msg: string) => process.stderr.write(`[edge-idle] ${msg}\n`);

const store = buildStore({ labels: LABELS, aps: APS, seed: 1 });
const clock = new RealClock({ speed: SPEED, startMs: EPOCH });
const edge = EdgeProcess.fork([...(EDGE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${EDGE_CPU_PROF}`] : []), ...EDGE_NODE_ARGS]);
let sim: StoreSimulator | undefined;
try {
  const started = await edge.call({ op: 'start', speed: SPEED, simNow: clock.now(), hostNow: performance.timeOrigin + performance.now(), chain: store.file.chain, store: store.file.store, users: store.users, logLevel: 'error' });
  for (const b of seedBatches(store, clock.now())) {
    const r = await edge.call({ op: 'ingest', payload: JSON.stringify(b) });
    if (r.reply.status !== 'applied') throw new Error(`seed not applied: ${JSON.stringify(r.reply)}`);
  }
  const fill0 = clock.now();
  sim = await StoreSimulator.start({
    brokerUrl: started.mqttUrl,
    chain: store.file.chain,
    store: store.file.store,
    aps: store.users.map((u) => ({ apId: u.apId, username: u.username, password: u.password, queueCapacity: 64, wakeReport: true })),
    labels: store.file.labels.map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId, ...(l.neighbourApId ? { neighbourApId: l.neighbourApId } : {}) })),
    radio: { frameLoss: 0.01 },
    clock,
    seed: 1,
    logger: silentLogger,
  });
  // The fill is done when the edge has planned every label and holds every label's acknowledgement.
  for (;;) {
    await wallSleep(1_000);
    const [r] = await edge.call({ op: 'query', sql: `SELECT count(*) AS n, coalesce(sum(dirty > 0), 0) AS dirty, coalesce(sum(desired_hash IS NOT NULL AND confirmed_hash IS NOT desired_hash), 0) AS open, coalesce(sum(desired_hash IS NULL), 0) AS unplanned FROM labels` });
    const [n, dirty, open, unplanned] = [Number(r!.n), Number(r!.dirty), Number(r!.open), Number(r!.unplanned)];
    if (n >= LABELS && dirty === 0 && open === 0 && unplanned === 0) break;
    if (clock.now() - fill0 > FILL_TIMEOUT_S * 1000) throw new Error(`fill not done after ${FILL_TIMEOUT_S} simulated s: ${JSON.stringify(r)}`);
  }
  progress(`filled in ${round((clock.now() - fill0) / 1000)} simulated s; idle for ${IDLE_S} simulated s`);
  // Let the last transfers' follow-ups settle, then measure.
  await wallSleep(3_000);
  const wakeEntries = () => store.users.reduce((n, u) => n + sim!.apStats(u.apId).ap.wakeReportEntries, 0);
  const checkins = () => store.users.reduce((n, u) => n + sim!.apStats(u.apId).radio.checkinsForwarded, 0);
  const [entries0, checkins0] = [wakeEntries(), checkins()];
  const profFrom = (performance.timeOrigin + performance.now()) * 1000;
  await edge.call({ op: 'usage', reset: true });
  const cpu0 = process.cpuUsage();
  const sim0 = clock.now();
  const wall0 = performance.now();
  await wallSleep((IDLE_S * 1000) / SPEED);
  const usage = await edge.call({ op: 'usage', reset: false });
  const wallS = (performance.now() - wall0) / 1000;
  const simS = (clock.now() - sim0) / 1000;
  const entries = wakeEntries() - entries0;
  const checkinsFwd = checkins() - checkins0;
  const cpu = process.cpuUsage(cpu0);
  const line = {
    bench: 'edge-idle',
    tag: TAG,
    at: new Date().toISOString(),
    labels: LABELS,
    aps: APS,
    speed: SPEED,
    // Label wakes per wall second: the message rate the edge answers (labels × speed / 30 s at the reference sleep).
    label_wakes_per_wall_s: round((LABELS * SPEED) / 30, 0),
    wake_report_entries_per_wall_s: round(entries / wallS, 0),
    checkins_forwarded_per_wall_s: round(checkinsFwd / wallS, 0),
    idle_wall_s: round(wallS),
    idle_sim_s: round(simS),
    edge_cpu_s: round(usage.cpuS, 2),
    edge_cpu_cores: round(usage.cpuS / wallS, 3),
    edge_cpu_us_per_label_wake: round((usage.cpuS * 1e6) / ((LABELS * SPEED * wallS) / 30), 1),
    edge_cpu_us_per_wake_report_entry: entries > 0 ? round((usage.cpuS * 1e6) / entries, 1) : null,
    edge_event_loop_busy: round(usage.eventLoopUtilization, 3),
    edge_lag_p99_ms: round(usage.lagP99Ms),
    sim_cpu_cores: round((cpu.user + cpu.system) / 1e6 / wallS, 3),
    edge_rss_mb: usage.rssPeakMb,
    dispatch: usage.dispatch,
    ...(EDGE_CPU_PROF ? { prof_window_us: [Math.round(profFrom), Math.round((performance.timeOrigin + performance.now()) * 1000)] } : {}),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  if (OUT) appendFileSync(OUT, `${JSON.stringify(line)}\n`);
} finally {
  await sim?.stop();
  clock.stop();
  await edge.stop(30_000);
}
