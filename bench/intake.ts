/**
 * Intake benchmark (issue 16, item 2 "group commit"; docs/decisions.md D20, D21). The real edge — `esl-edge start`
 * in its own process with the store's node flags (D42, D111), default configuration, embedded aedes broker, sqlite
 * file in a temp dir — takes:
 *
 *   1. durable events/s: 16 concurrent QoS 1 publishers (real MQTT.js clients), each keeping `--window` publishes
 *      in flight, every publish counted when its PUBACK arrives — which the edge sends only after the event's
 *      group commit (D5, D20);
 *   2. acknowledgement latency, open loop: `--rate` events/s (default 5,000) on a fixed schedule across the 16
 *      publishers; latency is PUBACK time minus *scheduled* send time (a stalled edge cannot hide its backlog);
 *   3. a `--rows` (50,000) row price list as one batch event, POSTed to /api/v1/events, until the response;
 *
 * beside the bare-sqlite baseline measured in the same run on the same disk (same pragmas, src/persistence): the
 * same price rows, one plain INSERT per transaction (the floor of "one transaction per event"), and the price list
 * rows with one prepared INSERT each in one transaction. After the run the edge's database must hold every
 * acknowledged event. Prints JSON lines; `--out FILE` also writes them to FILE.
 *
 *   npm run build && node dist/bench/intake.js [--publishers 16] [--window 32] [--events 80000] [--rate 5000]
 *     [--rate-s 10] [--rows 50000] [--out bench/results/intake-….jsonl] [--tag NAME]
 *     [--wal-checkpoints background|in-commit]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { gtin13 } from '#contracts';
import { Database } from '../src/persistence/database.js';
import { EDGE_ENV, EDGE_NODE_FLAGS } from '../src/core/edge-runtime.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const PUBLISHERS = arg('publishers', 16);
const WINDOW = arg('window', 32);
const EVENTS = arg('events', 80_000);
const RATE = arg('rate', 5_000);
const RATE_S = arg('rate-s', 10);
const ROWS = arg('rows', 50_000);
const OUT = strArg('out');
/** A name for the edge build under test (BENCH_EDGE_MAIN), written on every line: before/after runs share one file. */
const TAG = strArg('tag');
/** storage.walCheckpoints of the edge under test (D44): unset keeps the default configuration. */
const WAL_CHECKPOINTS = strArg('wal-checkpoints');
const CHAIN = 'bench';
const STORE = 'intake';
const ROOT = `esl/${CHAIN}/${STORE}`;
const TOKEN = 'bench-token-0123456789abcdef';
const POS = { username: 'pos', password: 'pos-bench-password' };

const gtin = (i: number) => gtin13(`40${String(i).padStart(10, '0')}`);
const here = dirname(fileURLToPath(import.meta.url));

/** Every line names its run, so several runs can share one result file. */
const RUN = new Date().toISOString();
function emit(o: Record<string, unknown>): void {
  const line = `${JSON.stringify({ bench: 'intake', run: RUN, ...(TAG ? { tag: TAG } : {}), ...(WAL_CHECKPOINTS ? { wal_checkpoints: WAL_CHECKPOINTS } : {}), edge_node_flags: EDGE_ARGS.join(' '), ...o })}\n`;
  process.stdout.write(line);
  if (OUT) appendFileSync(OUT, line);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** CPU seconds of a process so far (Linux /proc; USER_HZ is 100 on every Linux ABI). */
function cpuSecondsOf(pid: number, thread?: number): number {
  const stat = readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
const ownCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** A price event of publisher `p`, sequence `i`: every event its own product, so every one is applied. */
function priceEvent(tag: string, p: number, i: number): string {
  return JSON.stringify({ id: `${tag}-${p}-${i}`, source: 'bench', version: i + 1, type: 'price', data: { gtin: gtin(p * 1_000_000 + i), priceCents: 100 + (i % 900) } });
}

// ---- the edge ------------------------------------------------------------------------------------------------
const dir = mkdtempSync(join(tmpdir(), 'esl-bench-intake-'));
const [mqttPort, httpPort] = [await freePort(), await freePort()];
const configFile = join(dir, 'config.json');
const dbFile = join(dir, 'data', 'esl-edge.db');
writeFileSync(
  configFile,
  JSON.stringify({
    store: { chain: CHAIN, id: STORE },
    dataDir: join(dir, 'data'),
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: mqttPort }, users: [{ ...POS, role: 'publisher' }] },
    http: { host: '127.0.0.1', port: httpPort, tokens: [{ name: 'bench', token: TOKEN }] },
    ...(WAL_CHECKPOINTS ? { storage: { walCheckpoints: WAL_CHECKPOINTS } } : {}),
  }),
);
const api = `http://127.0.0.1:${httpPort}`;
// Default log level (info: one line per commit, as in a store), written to a pipe that is read. BENCH_EDGE_MAIN runs
// another build of the edge (a before/after comparison with the same driver); BENCH_EDGE_NODE_ARGS e.g. --cpu-prof.
// The edge runs as a store starts it (deploy/esl-edge.service: EDGE_NODE_FLAGS, EDGE_ENV; D42, D63), as every
// other bench that starts an edge does: until D111 this one ran V8's default young generation, 4× the store's.
const edgeMain = process.env.BENCH_EDGE_MAIN ?? join(here, '..', 'src', 'cli', 'main.js');
const EDGE_ARGS = [...EDGE_NODE_FLAGS, ...(process.env.BENCH_EDGE_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
const edge: ChildProcess = spawn(process.execPath, [...EDGE_ARGS, edgeMain, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...EDGE_ENV } });
// The edge logs one `intake.committed` line per group-commit tick (D20) with its duration: kept per phase, so a
// latency figure comes with the tick lengths behind it.
let ticks: { ms: number; events: number }[] = [];
{
  let rest = '';
  edge.stdout?.setEncoding('utf8');
  edge.stdout?.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('"intake.committed"')) continue;
      try {
        const o = JSON.parse(line) as { ms?: number; events?: number; deadLetters?: number };
        ticks.push({ ms: o.ms ?? 0, events: (o.events ?? 0) + (o.deadLetters ?? 0) });
      } catch {
        // not a log line of ours
      }
    }
  });
}
/** Tick lengths since the last call (ms), for the phase that just ended. */
function tickStats(): Record<string, number> {
  const t = ticks;
  ticks = [];
  const ms = t.map((x) => x.ms).sort((a, b) => a - b);
  return { ticks: t.length, tick_ms_p50: pct(ms, 0.5), tick_ms_p99: pct(ms, 0.99), tick_ms_max: ms[ms.length - 1] ?? 0, events_per_tick_mean: t.length ? +(t.reduce((a, x) => a + x.events, 0) / t.length).toFixed(1) : 0 };
}
const cleanup = () => {
  edge.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (let t = 0; ; t++) {
  if ((await fetch(`${api}/health`).catch(() => undefined))?.ok) break;
  if (t > 300) throw new Error('edge did not start');
  await new Promise((r) => setTimeout(r, 100));
}

/**
 * The edge's per-stage acknowledgement histogram (D80, /metrics esl_edge_intake_ack_stage_ms): cumulative bucket
 * counts per stage, diffed between two scrapes so each phase reads only its own events.
 */
type StageScrape = Map<string, Map<number, number>>;
async function scrapeStages(): Promise<StageScrape> {
  const text = await (await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const out: StageScrape = new Map();
  for (const m of text.matchAll(/^esl_edge_intake_ack_stage_ms_bucket\{stage="([^"]+)",le="([^"]+)"\} (\S+)$/gm)) {
    const le = m[2] === '+Inf' ? Infinity : Number(m[2]);
    if (!out.has(m[1]!)) out.set(m[1]!, new Map());
    out.get(m[1]!)!.set(le, Number(m[3]));
  }
  return out;
}
/**
 * The edge's own event loop and GC over a phase (prom-client's default metrics): the lag gauges come from a
 * histogram that each scrape resets (so a scrape at the phase start makes the one at its end read just the phase),
 * GC is a cumulative histogram, diffed. Where the edge stalls is time its stage histogram partly cannot see
 * (the socket read and aedes' parse happen before `received`).
 */
async function scrapeRuntime(): Promise<Map<string, number>> {
  const text = await (await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^esl_edge_nodejs_(eventloop_lag_(?:p99|max)_seconds|gc_duration_seconds_(?:sum|count))(\{[^}]*\})? (\S+)$/gm)) {
    const key = m[1]!.startsWith('gc') ? `${m[1]}${m[2] ?? ''}` : m[1]!;
    out.set(key, Number(m[3]));
  }
  return out;
}
function runtimeBreakdown(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  let gcMs = 0;
  let gcN = 0;
  let majorMs = 0;
  for (const [k, v] of b) {
    const d = v - (a.get(k) ?? 0);
    if (k.startsWith('gc_duration_seconds_sum')) {
      gcMs += d * 1000;
      if (k.includes('major')) majorMs += d * 1000;
    } else if (k.startsWith('gc_duration_seconds_count')) gcN += d;
  }
  return {
    eventloop_lag_p99_ms: +((b.get('eventloop_lag_p99_seconds') ?? NaN) * 1000).toFixed(2),
    eventloop_lag_max_ms: +((b.get('eventloop_lag_max_seconds') ?? NaN) * 1000).toFixed(2),
    gc_pauses: gcN,
    gc_ms: +gcMs.toFixed(1),
    gc_major_ms: +majorMs.toFixed(1),
  };
}

/** Percentiles per stage from two scrapes (linear within a bucket, as Prometheus' histogram_quantile). */
function stageBreakdown(a: StageScrape, b: StageScrape): Record<string, Record<string, number>> {
  const res: Record<string, Record<string, number>> = {};
  for (const [stage, after] of b) {
    const before = a.get(stage) ?? new Map<number, number>();
    const bounds = [...after.keys()].sort((x, y) => x - y);
    const cum = bounds.map((le) => after.get(le)! - (before.get(le) ?? 0));
    const total = cum[cum.length - 1] ?? 0;
    if (total === 0) continue;
    const q = (p: number) => {
      const rank = p * total;
      const i = cum.findIndex((c) => c >= rank);
      const hi = bounds[i]!;
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      if (!Number.isFinite(hi)) return lo;
      const below = i === 0 ? 0 : cum[i - 1]!;
      return +(lo + ((hi - lo) * (rank - below)) / Math.max(1, cum[i]! - below)).toFixed(2);
    };
    res[stage] = { n: total, p50: q(0.5), p90: q(0.9), p99: q(0.99) };
  }
  return res;
}

const clients: MqttClient[] = [];
for (let p = 0; p < PUBLISHERS; p++) {
  clients.push(await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { ...POS, clientId: `bench-pub-${p}`, protocolVersion: 4, reconnectPeriod: 0 }));
}
const publish = (p: number, body: string) => clients[p]!.publishAsync(`${ROOT}/in/price`, body, { qos: 1 });

// Warm-up: the edge's code paths, JIT and sqlite caches.
await Promise.all(clients.map((_, p) => Promise.all(Array.from({ length: 50 }, (_x, i) => publish(p, priceEvent('warm', p, i))))));
tickStats();

// ---- 1. durable events/s, closed loop ------------------------------------------------------------------------
let acked = 0;
let tput = 0;
let p99 = 0;
{
  const perPublisher = Math.ceil(EVENTS / PUBLISHERS);
  // The payloads are made before the clock starts: the publishers' JSON is not the edge's work.
  const payloads = clients.map((_, p) => Array.from({ length: perPublisher }, (_x, i) => priceEvent('tput', p, i)));
  // The main thread's share too: it runs MQTT, JSON, zod and the ticks' JavaScript; sqlite runs on the thread pool.
  const stages0 = await scrapeStages();
  const [edgeCpu0, mainCpu0, ownCpu0] = [cpuSecondsOf(edge.pid!), cpuSecondsOf(edge.pid!, edge.pid!), ownCpuSeconds()];
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (_, p) => {
      let next = 0;
      const lane = async () => {
        while (next < perPublisher) {
          const i = next++;
          await publish(p, payloads[p]![i]!);
          acked++;
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
  const s = (performance.now() - t0) / 1000;
  const [edgeCpu, mainCpu, ownCpu] = [cpuSecondsOf(edge.pid!) - edgeCpu0, cpuSecondsOf(edge.pid!, edge.pid!) - mainCpu0, ownCpuSeconds() - ownCpu0];
  tput = acked / s;
  const metrics = await (await fetch(`${api}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const m = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  emit({
    metric: 'durable_events_per_s',
    value: Math.round(tput),
    target: 20_000,
    ok: tput >= 20_000,
    events: acked,
    seconds: +s.toFixed(2),
    publishers: PUBLISHERS,
    window_per_publisher: WINDOW,
    // CPU per event: what the figure above costs, whatever else the machine runs (events/s is shared-CPU bound).
    edge_cpu_us_per_event: Math.round((edgeCpu / acked) * 1e6),
    edge_cpu_cores: +(edgeCpu / s).toFixed(2),
    // The bottleneck on two cores: the edge's main thread (one core at most).
    edge_main_thread_cpu_us_per_event: Math.round((mainCpu / acked) * 1e6),
    edge_main_thread_cores: +(mainCpu / s).toFixed(2),
    // What one whole core would sustain at that cost (a projection, not a measurement: the machine is shared).
    edge_events_per_cpu_s: Math.round(acked / edgeCpu),
    publishers_cpu_us_per_event: Math.round((ownCpu / acked) * 1e6),
    load_avg_1m: +loadavg()[0]!.toFixed(1),
    commits: m('esl_edge_intake_commits'),
    events_per_commit_mean: +(m('esl_edge_intake_events_committed') / m('esl_edge_intake_commits')).toFixed(1),
    events_per_commit_max: m('esl_edge_intake_max_events_per_commit'),
    ...tickStats(),
  });
  emit({ metric: 'ack_stages_ms', phase: 'durable_events_per_s', stages: stageBreakdown(stages0, await scrapeStages()) });
}

// ---- 2. acknowledgement latency at a fixed rate, open loop ---------------------------------------------------
{
  const total = RATE * RATE_S;
  const payloads = Array.from({ length: total }, (_, i) => priceEvent('rate', i % PUBLISHERS, i));
  const lat: number[] = [];
  // The driver's own share: how late each publish left against its schedule, and its PUBACK time from that send.
  const sendLag: number[] = [];
  const fromSend: number[] = [];
  let failed = 0;
  const stages0 = await scrapeStages();
  const runtime0 = await scrapeRuntime();
  // The driver must not measure itself: its own event-loop delay over the phase is reported beside the latencies.
  const ownLoop = monitorEventLoopDelay({ resolution: 1 });
  ownLoop.enable();
  const [edgeCpu0, mainCpu0] = [cpuSecondsOf(edge.pid!), cpuSecondsOf(edge.pid!, edge.pid!)];
  const t0 = performance.now();
  let sent = 0;
  const all: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    const step = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE));
      for (; sent < due; sent++) {
        const scheduled = t0 + (sent * 1000) / RATE;
        const p = sent % PUBLISHERS;
        const sentAt = performance.now();
        sendLag.push(sentAt - scheduled);
        all.push(
          publish(p, payloads[sent]!).then(
            () => {
              const now = performance.now();
              lat.push(now - scheduled);
              fromSend.push(now - sentAt);
            },
            () => void failed++,
          ),
        );
      }
      if (sent >= total) resolve();
      else setTimeout(step, 1);
    };
    step();
  });
  await Promise.all(all);
  const s = (performance.now() - t0) / 1000;
  ownLoop.disable();
  const [edgeCpu, mainCpu] = [cpuSecondsOf(edge.pid!) - edgeCpu0, cpuSecondsOf(edge.pid!, edge.pid!) - mainCpu0];
  const runtime1 = await scrapeRuntime();
  lat.sort((a, b) => a - b);
  p99 = pct(lat, 0.99);
  emit({
    metric: 'ack_latency_ms',
    rate_per_s: RATE,
    achieved_per_s: Math.round(lat.length / s),
    events: lat.length,
    failed,
    p50: +pct(lat, 0.5).toFixed(2),
    p90: +pct(lat, 0.9).toFixed(2),
    p99: +p99.toFixed(2),
    target_p99: 25,
    ok: p99 <= 25 && failed === 0,
    max: +lat[lat.length - 1]!.toFixed(2),
    load_avg_1m: +loadavg()[0]!.toFixed(1),
    // The edge's CPU over this phase: a share of a core it needs at this rate, and what an event costs it.
    edge_cpu_cores: +(edgeCpu / s).toFixed(2),
    edge_cpu_us_per_event: Math.round((edgeCpu / Math.max(1, lat.length)) * 1e6),
    edge_main_thread_cores: +(mainCpu / s).toFixed(2),
    edge_main_thread_cpu_us_per_event: Math.round((mainCpu / Math.max(1, lat.length)) * 1e6),
    ...tickStats(),
  });
  const dist = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return { n: xs.length, p50: +pct(xs, 0.5).toFixed(2), p90: +pct(xs, 0.9).toFixed(2), p99: +pct(xs, 0.99).toFixed(2) };
  };
  // Edge stages (D80) in order, then the driver's: scheduled → sent, sent → PUBACK read. What lies between the
  // PUBLISH leaving the driver and aedes reading it (socket, aedes' per-connection read gate) is the part of
  // sent_to_puback that received_to_puback does not cover.
  emit({ metric: 'ack_stages_ms', phase: 'ack_latency_ms', rate_per_s: RATE, stages: stageBreakdown(stages0, await scrapeStages()),
    edge_runtime: runtimeBreakdown(runtime0, runtime1),
    driver: {
      scheduled_to_sent: dist(sendLag),
      sent_to_puback: dist(fromSend),
      eventloop_delay_p99_ms: +(ownLoop.percentile(99) / 1e6).toFixed(2),
      eventloop_delay_max_ms: +(ownLoop.max / 1e6).toFixed(2),
    },
  });
  acked += lat.length;
}
for (const c of clients) await c.endAsync();

// ---- 3. a 50,000-row price list as one batch event ----------------------------------------------------------
let listS: number;
{
  const list = Array.from({ length: ROWS }, (_, i) => ({ id: `list-${i}`, source: 'hq', version: 1, type: 'price', data: { gtin: gtin(90_000_000 + i), priceCents: 99 + (i % 900) } }));
  const body = JSON.stringify({ id: 'pricelist-1', source: 'hq', version: 1, type: 'batch', data: { events: list } });
  const edgeCpu0 = cpuSecondsOf(edge.pid!);
  const t0 = performance.now();
  const res = await fetch(`${api}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body });
  const reply = (await res.json()) as { status: string; applied?: number };
  listS = (performance.now() - t0) / 1000;
  const edgeCpu = cpuSecondsOf(edge.pid!) - edgeCpu0;
  if (reply.applied !== ROWS) throw new Error(`price list: ${JSON.stringify(reply)}`);
  emit({ metric: 'price_list_apply_s', value: +listS.toFixed(2), rows: ROWS, payload_mb: +(body.length / 1e6).toFixed(1), via: 'HTTP POST /api/v1/events', target: 3, ok: listS <= 3, edge_cpu_s: +edgeCpu.toFixed(2), load_avg_1m: +loadavg()[0]!.toFixed(1) });
}

// ---- the edge holds every acknowledged event ---------------------------------------------------------------
await new Promise<void>((resolve) => {
  edge.once('exit', () => resolve());
  edge.kill('SIGTERM');
});
process.off('exit', cleanup);
{
  const db = await Database.open(dbFile);
  const n = (await db.get<{ n: number }>(`SELECT count(*) AS n FROM events WHERE source = 'bench' AND id NOT LIKE 'warm-%'`))!.n;
  await db.close();
  emit({ metric: 'acknowledged_events_in_db', value: n, acknowledged: acked, ok: n === acked });
  if (n !== acked) process.exitCode = 1;
}

// ---- bare-sqlite baseline, same run, same disk ---------------------------------------------------------------
{
  const baseDir = join(dir, 'baseline');
  const db = await Database.open(join(baseDir, 'baseline.db'));
  const n = Math.min(EVENTS, 20_000);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await db.run('INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [gtin(i), 1, 100 + i, 'EUR', `b-${i}`, 1]);
  }
  const txPerS = n / ((performance.now() - t0) / 1000);
  const b0 = performance.now();
  await db.transaction(async (tx) => {
    const st = tx.prepare('INSERT INTO prices (gtin, valid_from, cents, currency, event_id, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < ROWS; i++) await st.run([gtin(90_000_000 + i), 1, 99 + (i % 900), 'EUR', `list-${i}`, 1]);
  });
  const bs = (performance.now() - b0) / 1000;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  emit({ metric: 'baseline_bare_sqlite', one_insert_per_tx_per_s: Math.round(txPerS), rows_one_tx_prepared_s: +bs.toFixed(2), rows: ROWS });
  emit({
    metric: 'ratios',
    durable_events_per_s_vs_one_insert_per_tx: +(tput / txPerS).toFixed(2),
    price_list_s_vs_prepared_inserts_s: +(listS / bs).toFixed(2),
    ack_p99_ms_at_rate: +p99.toFixed(2),
  });
}
