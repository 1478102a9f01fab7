/**
 * Full-store benchmark: the reference store (/work/shared/reference-store.md — 50,000 labels on 25 APs, the label
 * mix, 10 % heard by a neighbour AP, a German catalogue of 50,000 products with 10 % in a promotion, 1 % frame loss)
 * simulated against the real edge, through the three standard updates:
 *
 *   1. full repricing — every regular price changes (one price list, in batches);
 *   2. promotion start — 10 % of products (5,000) enter a promotion at an instant on the minute, announced
 *      `--promo-lead-s` before; measured from that instant;
 *   3. small change — 100 price changes, single events at random instants over one simulated minute; latency from
 *      each event to its label.
 *
 * Before them the store fills (every label gets its first picture); that is reported too, as "fill".
 *
 * For each: simulated time until every reachable label shows its new picture (ground truth: the simulated panel)
 * and until the edge has every label's acknowledgement; the lower bound of the reference-store formula computed
 * from the bytes actually sent to each label (full-store-probe.ts); their ratio; bytes on air in total and per
 * label; the edge's CPU seconds and peak RSS; the simulator's CPU seconds; wall time.
 *
 * The edge runs in a child process (full-store-edge.ts) with its default configuration, on a RealClock at the same
 * speed as the simulator's: its CPU and RSS are its own (aedes broker included), the simulator's CPU is this
 * process's, and each has a core. Whether the edge keeps up at the chosen speed shows in its event-loop delay
 * (edge_lag_p99_sim_ms), in how long it took to plan the update (planned_s) and in how full it kept the APs'
 * queues (ap_queue_fill); a run at a lower speed that gives the same times is the proof.
 *
 *   npm run bench -- full-store                                 # the reference store (≈ 50 min wall at 1×)
 *   node dist/bench/full-store.js --labels 600 --aps 1 --speed 20    # quick (≈ 1 min)
 *   options: --labels N --aps M --speed S --loss P --seed K --queue-capacity Q --promo-lead-s L
 *            --small-changes C --phase-timeout-s T --confirm-wait-s W --edge-log LEVEL --edge-cpu-prof DIR
 *            --edge-node-flags "F …" (appended to the edge's Node flags)
 *            --label-decoders ctx|ctx-pending|legacy   (legacy: labels of before protocol §6.6, zlib only; D28;
 *                                      ctx-pending: CTX but no RADIO_OFFER, protocol §9.10, D38)
 *            --updates fill,full-repricing,promotion-start,small-change   (fill always runs: it connects the store)
 *            --results-dir DIR (default bench/results; '' for none)
 *            --wake-report on|off   (off: APs of before protocol §5.6, no WAKE_REPORT capability; D34)
 *            --ack-wake on|off      (on: the AP wakes a label right after the refresh that follows a transfer; D37)
 *            --edge-dispatch JSON    (edge dispatch settings over the defaults, e.g. '{"wakeHorizonMs":8000}')
 *            --edge-rendering JSON   (edge rendering settings over the defaults, e.g. '{"workerNice":0}', D150)
 *            --ap-deferral pool|queue  (the simulated AP's §9.1.1 deferral: pool, the default, D91; queue, D59)
 *            --ap-hold-ms N  (the simulated AP's §9.1.1 hold with RADIO_WAIT, §9.11: default 250, D92; 0 = never hold)
 *            --ap-burst on|off  (the simulated AP's §9.12 burst of block 0 after the first offer: default on, D145)
 *            --ap-work-ahead on|off  (the simulated AP keeps the edge's §4.9 appointments: default on, D146)
 *            --sim-event-time on|off  (on: the simulated radio runs on its events' due times, D118; off: as before)
 *            --starved-wakes on|off  (on: count the update's waiting labels' wake-ups that found their AP free with
 *                                     nothing staged for them, ap_starved_wakes and wakes_5s; default off, D156)
 *   200,000 labels on 100 APs (issue 16; fill and full repricing, several hours at 1×):
 *   npm run bench -- full-store --labels 200000 --aps 100 --updates fill,full-repricing
 *
 * An update is complete when every reachable label of it shows its expected picture (ground truth: its simulated
 * panel shows a picture other than the one it showed when the update began, equal to the edge's desired picture,
 * and the edge has nothing left to plan); the edge's acknowledgements are then awaited for at most
 * --confirm-wait-s. Every update ends with a report line, complete or not (then with the labels still missing).
 *
 * stdout: one JSON object per line ({"bench":"full-store", …}); stderr: progress and a summary table. Both also go
 * to bench/results/full-store-{store}-{labels}x{aps}-{timestamp}.{jsonl,txt}.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabelDecoder } from '#protocol';
import { radioModel } from '../simulator/src/radio-model.js';
import { RealClock } from '../simulator/src/real-clock.js';
import { StoreSimulator } from '../simulator/src/store-simulator.js';
import { silentLogger } from '../simulator/src/sim-logger.js';
import { EDGE_NODE_FLAGS } from '../src/core/edge-runtime.js';
import { EdgeProcess, hostNow, type EdgeUsage } from './full-store-ipc.js';
import { StoreProbe, percentile, type ApBound, type Snapshot, type WakeTally } from './full-store-probe.js';
import { edgeKeepsUp, table, type UpdateReport } from './full-store-report.js';
import { buildStore, promotionStartBatch, repricingBatches, seedBatches, smallChangeEvents, type BenchStore } from './full-store-store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

const LABELS = Number(arg('labels', '50000'));
const APS = Number(arg('aps', '25'));
/** Default speeds at which the edge was seen to keep up on a 2-core machine (see the README figures). */
const SPEED = Number(arg('speed', LABELS > 10_000 ? '1' : '20'));
const LOSS = Number(arg('loss', '0.01'));
const SEED = Number(arg('seed', '1'));
/** Staged transfers per AP: the simulator's default AP (64). */
const QUEUE_CAPACITY = Number(arg('queue-capacity', '64'));
/** The promotion is announced this long before it starts (enough for an edge to stage every image beforehand). */
const PROMO_LEAD_S = Number(arg('promo-lead-s', '120'));
const SMALL_CHANGES = Number(arg('small-changes', '100'));
const SMALL_WINDOW_MS = 60_000;
const PHASE_TIMEOUT_S = Number(arg('phase-timeout-s', '7200'));
/** After the ground truth is complete, wait at most this long (simulated) for the edge's acknowledgements. */
const CONFIRM_WAIT_S = Number(arg('confirm-wait-s', '900'));
/** How long the till's feed may still be announcing after the labels are done before it is reported as behind. */
const TILL_WAIT_S = Number(arg('till-wait-s', '1200'));
const UPDATES = arg('updates', 'fill,full-repricing,promotion-start,small-change').split(',');
/** Where the JSON lines and the summary table are written (one file each per run); '' = stdout/stderr only. */
const RESULTS_DIR = arg('results-dir', 'bench/results');
const EDGE_LOG = arg('edge-log', 'error') as 'error';
/** A directory: the edge process writes a V8 CPU profile there (node --cpu-prof). */
const EDGE_CPU_PROF = arg('edge-cpu-prof', '');
/** Node flags appended to the edge's (src/core/edge-runtime.ts), e.g. "--heap-growing-percent=0" for V8's default growth (D63). */
const EDGE_NODE_FLAGS_EXTRA = arg('edge-node-flags', '').split(' ').filter((f) => f !== '');
/** Protocol §5.3: `legacy` labels send no decoders byte and get RLE/ZLIB only, to compare with CTX in one setup. */
const LABEL_DECODERS = arg('label-decoders', 'ctx');
/** Protocol §9.10: `ctx-pending` labels decode CTX but do not announce RADIO_OFFER (decoders bit 3), D38. */
const PENDING_DECODERS = LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX;
/** Protocol §5.6: `off` simulates APs without capability WAKE_REPORT (the edge then stages as in D19), to compare in one build. */
const WAKE_REPORT = arg('wake-report', 'on');
/** D37: the AP tells a label that took a transfer to wake just after its refresh (its confirmation comes sooner). */
const ACK_WAKE = arg('ack-wake', 'off');
/** Edge dispatch settings over the defaults (JSON, e.g. '{"wakeHorizonMs":8000}'): for experiments, reported. */
const EDGE_DISPATCH_ARG = arg('edge-dispatch', '');
const EDGE_DISPATCH = EDGE_DISPATCH_ARG === '' ? undefined : (JSON.parse(EDGE_DISPATCH_ARG) as Record<string, unknown>);
/** Edge rendering settings over the defaults (JSON, e.g. '{"workerNice":0}', D150): for experiments, reported. */
const EDGE_RENDERING_ARG = arg('edge-rendering', '');
const EDGE_RENDERING = EDGE_RENDERING_ARG === '' ? undefined : (JSON.parse(EDGE_RENDERING_ARG) as Record<string, unknown>);
const AP_DEFERRAL = arg('ap-deferral', 'pool') === 'queue' ? 'queue' : 'pool';
const AP_HOLD_MS = Number(arg('ap-hold-ms', '250'));
/** §9.1 step 5 silence after which the simulated AP ends an exchange (D107; 2000 = the AP of before). */
const AP_SILENCE_MS = Number(arg('ap-silence-ms', '200'));
/** §9.12 (D145): `off` simulates APs of before the burst (their labels then ask for block 0 as before). */
const AP_BURST = arg('ap-burst', 'on') !== 'off';
/** §4.9 (D146): `off` simulates APs of before WORK_AHEAD (the edge then sends no appointments). */
const AP_WORK_AHEAD = arg('ap-work-ahead', 'on') !== 'off';
/**
 * D118 The simulator's clock runs each event at its due time (on) or at the wall clock's reading when this process got
 * to it (off: before D118, when every radio hop also cost this process's timer latency).
 */
const SIM_EVENT_TIME = arg('sim-event-time', 'on') !== 'off';
/** D156 Tally the waiting labels' wake-ups that found their AP free with nothing staged (opt-in: it hooks every wake-up). */
const STARVED_WAKES = arg('starved-wakes', 'off') === 'on';
const REFERENCE = LABELS === 50_000 && APS === 25 && LOSS === 0.01 && QUEUE_CAPACITY === 64;
/** Thursday evening, store time: the simulated clock starts here. */
const EPOCH = Date.parse('2026-11-26T22:00:00+01:00');

const wallStart = performance.now();
const model = radioModel({ frameLoss: LOSS, ackWakeAfterTransfer: ACK_WAKE === 'on', apDeferral: AP_DEFERRAL, apHoldMaxMs: AP_HOLD_MS, apSilenceMs: AP_SILENCE_MS, apBurst: AP_BURST, apWorkAhead: AP_WORK_AHEAD });
const header = {
  bench: 'full-store',
  store: REFERENCE ? 'reference' : 'custom',
  labels: LABELS,
  aps: APS,
  speed: SPEED,
  label_decoders: LABEL_DECODERS,
  wake_report: WAKE_REPORT,
  ack_wake: ACK_WAKE,
  ap_deferral: AP_DEFERRAL,
  ap_hold_ms: AP_HOLD_MS,
  ap_silence_ms: AP_SILENCE_MS,
  ap_burst: AP_BURST ? 'on' : 'off',
  ap_work_ahead: AP_WORK_AHEAD ? 'on' : 'off',
  sim_event_time: SIM_EVENT_TIME ? 'on' : 'off',
  ...(STARVED_WAKES ? { starved_wakes: 'on' } : {}),
  ...(EDGE_DISPATCH !== undefined ? { edge_dispatch_config: EDGE_DISPATCH } : {}),
  ...(EDGE_RENDERING !== undefined ? { edge_rendering_config: EDGE_RENDERING } : {}),
  ...(EDGE_NODE_FLAGS_EXTRA.length > 0 ? { edge_node_flags: [...EDGE_NODE_FLAGS, ...EDGE_NODE_FLAGS_EXTRA].join(' ') } : {}),
};

const resultBase = RESULTS_DIR
  ? join(RESULTS_DIR, `full-store-${header.store}-${LABELS}x${APS}-s${SPEED}${LABEL_DECODERS === 'ctx' ? '' : `-${LABEL_DECODERS}`}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`)
  : '';
if (resultBase) mkdirSync(RESULTS_DIR, { recursive: true });

function emit(o: Record<string, unknown>): void {
  const line = `${JSON.stringify({ ...header, ...o })}\n`;
  process.stdout.write(line);
  if (resultBase) appendFileSync(`${resultBase}.jsonl`, line);
}
function progress(msg: string): void {
  process.stderr.write(`[full-store ${((performance.now() - wallStart) / 1000).toFixed(0)}s] ${msg}\n`);
}
const simLog =
  (level: string) =>
  (obj: object, msg?: string): void =>
    progress(`simulator ${level}: ${msg ?? ''} ${JSON.stringify(obj)}`);
const wallSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number, d = 1) => +x.toFixed(d);

interface Trigger {
  /** The update's instant: its first event, or the promotion's start. */
  t0: number;
  /** Labels whose desired image changed at or after this edge time belong to the update. */
  windowStart: number;
  /** Indices (= label = product index) of the labels the update changes. */
  labels: readonly number[];
  /** Do not call the update done before this simulated time. */
  notBefore?: number;
  /** Per label index, the time its own event was taken (small change). */
  refAt?: (i: number) => number | undefined;
  /** Resolves when every event has been taken by the edge. */
  sent?: Promise<unknown>;
}

interface Ctx {
  store: BenchStore;
  clock: RealClock;
  edge: EdgeProcess;
  sim?: StoreSimulator;
  probe?: StoreProbe;
}

type EdgeStatus = { dirty: number; planned: number; open: number; apsOnline: number; sending: number; staged: number; delivered: number; waiting: number };

/** The edge's view, for progress lines and the acknowledgement wait; never the completion criterion. */
async function edgeStatus(ctx: Ctx, since: number): Promise<EdgeStatus> {
  const [r] = await ctx.edge.call({
    op: 'query',
    sql: `SELECT coalesce(sum(dirty > 0), 0) AS dirty, coalesce(sum(desired_since >= ?), 0) AS planned,
            coalesce(sum(desired_hash IS NOT NULL AND confirmed_hash IS NOT desired_hash), 0) AS open,
            coalesce(sum(next_attempt_at > ? AND confirmed_hash IS NOT desired_hash), 0) AS waiting,
            (SELECT count(*) FROM aps WHERE online = 1) AS apsOnline FROM labels`,
    params: [since, ctx.clock.now()],
  });
  // Transfers under way live in the edge's memory only (D128).
  const t = await ctx.edge.call({ op: 'transfers' });
  const n = (k: string) => Number(r![k]);
  return { dirty: n('dirty'), planned: n('planned'), open: n('open'), apsOnline: n('apsOnline'), ...t, waiting: n('waiting') };
}

/** The simulated APs' side of their links to the edge, for progress lines. */
function apLinks(ctx: Ctx): string {
  if (ctx.sim === undefined) return '';
  const aps = ctx.store.users.map((u) => ctx.sim!.ap(u.apId));
  const linked = aps.filter((a) => a.online).length;
  const hello = aps.filter((a) => a.helloDone).length;
  const staged = aps.reduce((n, a) => n + a.transfers.size, 0);
  return `; APs linked ${linked}, hello done ${hello} (edge: ${'{online}'} online), hellos sent ${aps.reduce((n, a) => n + a.stats.hellosSent, 0)}, staged ${staged}`;
}

async function ingest(ctx: Ctx, payload: string): Promise<number> {
  const r = await ctx.edge.call({ op: 'ingest', payload });
  if (r.reply.status !== 'applied') throw new Error(`edge did not apply ${r.reply.eventId}: ${JSON.stringify(r.reply)}`);
  return r.startedAt;
}

/** label id → the edge's desired content hash. */
async function desiredHashes(ctx: Ctx): Promise<Map<string, unknown>> {
  const rows = await ctx.edge.call({ op: 'query', sql: 'SELECT label_id, desired_hash FROM labels WHERE desired_hash IS NOT NULL' });
  return new Map(rows.map((r) => [String(r.label_id), r.desired_hash]));
}

/**
 * The issue-16 acceptance figures for this update: fill and repricing ratio ≤ 1.3; a promotion shown within 5 s of
 * its start minute (p99); a small change's p99 event → panel within its bound + 5 s; edge CPU ≤ 0.5 core averaged
 * over the repricing.
 */
function targets(r: UpdateReport): Record<string, unknown> {
  switch (r.update) {
    case 'fill':
    case 'full-repricing':
      return { target: { ratio_max: 1.3, ratio: r.ratio, met: r.complete && r.ratio <= 1.3 && (r.update === 'fill' || r.edge_cpu_cores <= 0.5), ...(r.update === 'full-repricing' ? { edge_cpu_cores_max: 0.5, edge_cpu_cores: r.edge_cpu_cores } : {}) } };
    case 'promotion-start':
      return { target: { shown_after_start_p99_s_max: 5, shown_after_start_p99_s: r.expected_shown_p99_s, met: r.complete && r.expected_shown_p99_s <= 5 } };
    case 'small-change':
      return { target: { event_to_panel_p99_s_max: round(r.bound_s + 5), event_to_panel_p99_s: r.expected_shown_p99_s, met: r.complete && r.expected_shown_p99_s <= r.bound_s + 5 } };
  }
}

/** The simulated APs' radio counters summed over the store (zeros before the simulator runs). */
function apRadioTotals(ctx: Ctx): Record<string, number> {
  const out: Record<string, number> = {};
  if (ctx.sim === undefined) return out;
  for (const u of ctx.store.users) {
    for (const [k, v] of Object.entries(ctx.sim.apStats(u.apId).radio)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** D156 The waiting labels' wake-ups in the window of ap_starved (the update's first 80 %), and the share starved. */
function starvedWakes(w: WakeTally, from: number, to: number): Required<Pick<UpdateReport, 'ap_wakes_waiting' | 'ap_wakes_starved' | 'ap_starved_wakes'>> {
  const inWindow = (t: number) => t >= from && t <= to;
  const waiting = w.waiting.filter(inWindow).length;
  const starved = w.starved.filter(inWindow).length;
  return { ap_wakes_waiting: waiting, ap_wakes_starved: starved, ap_starved_wakes: round(waiting > 0 ? starved / waiting : 0, 4) };
}

/** D156 The same wake-ups over the whole update, per 5 simulated s from its start: [s, waiting, starved]. */
function wakesTimeline(w: WakeTally, t0: number): [number, number, number][] {
  const rows: [number, number, number][] = [];
  const add = (t: number, k: 1 | 2) => {
    const b = Math.max(0, Math.floor((t - t0) / 5_000));
    while (rows.length <= b) rows.push([rows.length * 5, 0, 0]);
    rows[b]![k]++;
  };
  for (const t of w.waiting) add(t, 1);
  for (const t of w.starved) add(t, 2);
  return rows;
}

/** Mean count of staged labels per sample by how soon they wake (< 1 s, 1–3, 3–10, ≥ 10 s; full-store-probe.ts). */
function stagedWakeIn(fills: readonly { wakeIn: number[] }[]): Record<string, number> {
  const sum = [0, 0, 0, 0, 0, 0, 0];
  for (const f of fills) f.wakeIn.forEach((v, k) => (sum[k]! += v));
  const m = (k: number) => round(sum[k]! / Math.max(1, fills.length), 1);
  return { lt1: m(0), s1to3: m(1), s3to10: m(2), ge10: m(3), ge10_cut_off: m(4), ge10_told_normal: m(5), ge10_never_told: m(6) };
}

function diffTotals(now: Record<string, number>, then: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, v]) => [k, Math.round(v - (then[k] ?? 0))]));
}

/**
 * 3. The till's price feed: once the rule engine has announced every product of the update (pricing_pending empty,
 * waited for at most TILL_WAIT_S simulated s), when its last row since the update's window opened was written.
 */
async function tillFeed(ctx: Ctx, trig: Trigger): Promise<{ lastAt: number | null; rows: number }> {
  const until = ctx.clock.now() + TILL_WAIT_S * 1000;
  let caughtUp = false;
  for (;;) {
    const [p] = await ctx.edge.call({ op: 'query', sql: 'SELECT count(*) AS n FROM pricing_pending' });
    if (Number(p?.n ?? 0) === 0) {
      caughtUp = true;
      break;
    }
    if (ctx.clock.now() > until) {
      progress(`till feed: ${String(p?.n)} products not yet announced ${TILL_WAIT_S} simulated s after the labels; reporting`);
      break;
    }
    await wallSleep(1_000);
  }
  const [r] = await ctx.edge.call({ op: 'query', sql: 'SELECT max(created_at) AS last, count(*) AS n FROM price_feed WHERE created_at >= ?', params: [trig.windowStart] });
  return { lastAt: caughtUp && r?.last !== null && r?.last !== undefined ? Number(r.last) : null, rows: Number(r?.n ?? 0) };
}

async function runUpdate(ctx: Ctx, update: UpdateReport['update'], trigger: () => Promise<Trigger>): Promise<UpdateReport> {
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const usage0 = await ctx.edge.call({ op: 'usage', reset: true });
  const radio0 = apRadioTotals(ctx);
  const busy0 = apChannelBusy(ctx);
  ctx.probe?.takeSamples();
  let before: Snapshot | undefined = ctx.probe?.snapshot();
  const shownBefore = ctx.probe?.ids.map((_, i) => ctx.probe!.panelHash(i));
  const trig = await trigger();
  before ??= ctx.probe!.snapshot();
  const probe = ctx.probe!;
  const clock = ctx.clock;
  // The ground truth before the update: a label is done when its panel shows another picture, the edge's desired one.
  const startHash = trig.labels.map((i) => shownBefore?.[i] ?? probe.panelHash(i));
  probe.watch(trig.labels, (i) => trig.refAt?.(i) ?? trig.t0);
  let sentDone = trig.sent === undefined;
  void trig.sent?.then(() => (sentDone = true));
  const wait = () => wallSleep(LABELS > 10_000 ? 2_000 : 1_000);
  const simS = () => (clock.now() - trig.t0) / 1000;
  let complete = false;
  let confirmedAll = false;
  let missing: number[] = [...trig.labels.keys()];
  let stragglers: Record<string, unknown> | undefined;
  let lastProgress = performance.now();
  let status: EdgeStatus | undefined;
  const statusLine = async () => {
    status = await edgeStatus(ctx, trig.windowStart).catch(() => status);
    const s = status;
    const edge = s ? `; edge: planned ${s.planned}, not yet confirmed ${s.open} (sending ${s.sending}, staged ${s.staged}, delivered ${s.delivered}, in backoff ${s.waiting}), dirty ${s.dirty}` : '';
    return `${edge}${apLinks(ctx).replace('{online}', String(s?.apsOnline ?? '?'))}`;
  };
  // 1. Ground truth: every label of the update shows a new picture, and it is the one the edge wants.
  for (;;) {
    await wait();
    if (simS() > PHASE_TIMEOUT_S) {
      progress(`${update}: TIMEOUT after ${PHASE_TIMEOUT_S} simulated s: ${missing.length} of ${trig.labels.length} labels do not show their new picture${await statusLine()}`);
      break;
    }
    if (clock.now() >= (trig.notBefore ?? 0) && sentDone) {
      missing = missing.filter((k) => probe.panelHash(trig.labels[k]!) === startHash[k]);
      if (stragglers === undefined && missing.length > 0 && missing.length <= 20) stragglers = await stragglerSnapshot(ctx, missing.map((k) => trig.labels[k]!), simS());
      if (missing.length === 0) {
        const desired = await desiredHashes(ctx);
        const wrong = trig.labels.filter((i) => desired.get(probe.ids[i]!) !== probe.panelHash(i));
        if (wrong.length === 0) {
          complete = true;
          break;
        }
        if (performance.now() - lastProgress > 15_000) progress(`${update}: every panel changed, ${wrong.length} not yet to the edge's desired picture`);
      }
    }
    if (performance.now() - lastProgress > (LABELS > 10_000 ? 60_000 : 15_000)) {
      lastProgress = performance.now();
      progress(`${update}: ${simS().toFixed(0)} s simulated, ${trig.labels.length - missing.length}/${trig.labels.length} labels show their new picture${await statusLine()}`);
    }
  }
  // 2. The edge's acknowledgements (each label's next check-in after its refresh), bounded.
  const confirmUntil = clock.now() + CONFIRM_WAIT_S * 1000;
  while (complete) {
    const s = await edgeStatus(ctx, trig.windowStart).catch(() => undefined);
    if (s !== undefined && s.open === 0 && s.dirty === 0) {
      confirmedAll = true;
      break;
    }
    if (clock.now() > confirmUntil) {
      progress(`${update}: the edge still waits for ${s?.open ?? '?'} acknowledgements ${CONFIRM_WAIT_S} simulated s after the ground truth was complete; reporting`);
      break;
    }
    await wait();
  }
  await trig.sent;
  const after = probe.snapshot();
  const usage: EdgeUsage = await ctx.edge.call({ op: 'usage', reset: false });
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - wall0) / 1000;
  const samples = probe.takeSamples();
  const rows = await ctx.edge.call({ op: 'query', sql: 'SELECT label_id, desired_hash, desired_since, consistent_since FROM labels WHERE desired_hash IS NOT NULL' });
  const till = await tillFeed(ctx, trig);

  let mismatches = 0;
  let changed = 0;
  let consistentMs = 0;
  let confirmedMs = 0;
  let plannedMs = 0;
  const panel: number[] = [];
  const confirmed: number[] = [];
  for (const r of rows) {
    const i = probe.index.get(String(r.label_id));
    if (i === undefined) continue;
    if (probe.panelHash(i) !== r.desired_hash) mismatches++;
    const ref = trig.refAt?.(i) ?? trig.t0;
    if (after.stores[i]! > before.stores[i]!) {
      panel.push((probe.shownAt[i]! - ref) / 1000);
      consistentMs = Math.max(consistentMs, probe.shownAt[i]! - trig.t0);
    }
    const desiredSince = Number(r.desired_since);
    if (desiredSince >= trig.windowStart) {
      changed++;
      plannedMs = Math.max(plannedMs, desiredSince - trig.t0);
      if (r.consistent_since !== null) {
        confirmed.push((Number(r.consistent_since) - ref) / 1000);
        confirmedMs = Math.max(confirmedMs, Number(r.consistent_since) - trig.t0);
      }
    }
  }
  panel.sort((a, b) => a - b);
  confirmed.sort((a, b) => a - b);
  // The labels of the update whose panel got a new picture (the diagnoses below read the same set).
  const shownLabels = trig.labels.filter((i) => after.stores[i]! > before.stores[i]!);
  // Only the labels of the update, each from its own event (small change) or the update's instant.
  const shown = shownLabels
    .map((i) => (probe.shownAt[i]! - (trig.refAt?.(i) ?? trig.t0)) / 1000)
    .sort((a, b) => a - b);
  const radio = probe.radio(model, before, after);
  const fillWindowEnd = trig.t0 + 0.8 * consistentMs;
  const fills = samples.queueFill.filter((q) => q.at >= trig.t0 && q.at <= fillWindowEnd);
  const d = (k: keyof EdgeUsage['dispatch']) => usage.dispatch[k] - usage0.dispatch[k];
  const measured: Omit<UpdateReport, 'edge_keeps_up'> = {
    update,
    complete,
    confirmed_all: confirmedAll,
    labels_expected: trig.labels.length,
    labels_missing: missing.length,
    labels_changed: changed,
    consistent_s: round(consistentMs / 1000),
    confirmed_s: round(confirmedMs / 1000),
    bound_s: round(radio.boundS),
    ratio: round(radio.boundS > 0 ? consistentMs / 1000 / radio.boundS : 0, 2),
    panel_p50_s: round(percentile(panel, 0.5)),
    panel_p99_s: round(percentile(panel, 0.99)),
    expected_shown_p50_s: round(percentile(shown, 0.5)),
    expected_shown_p99_s: round(percentile(shown, 0.99)),
    confirmed_p50_s: round(percentile(confirmed, 0.5)),
    confirmed_p99_s: round(percentile(confirmed, 0.99)),
    planned_s: round(plannedMs / 1000),
    till_feed_s: till.lastAt === null ? null : round((till.lastAt - trig.t0) / 1000),
    till_feed_rows: till.rows,
    bytes_on_air: radio.bytesOnAir,
    // Per label of the update (the edge-side count of changed labels misses pictures planned before the window).
    bytes_per_label: round(radio.bytesOnAir / Math.max(1, trig.labels.length), 0),
    frames_on_air: radio.frames,
    radio_bytes_all: radio.radioBytes,
    full_images: d('fullImages'),
    delta_images: d('deltaImages'),
    transfers_failed: d('transfersFailed'),
    ground_truth_mismatches: mismatches,
    edge_cpu_s: round(usage.cpuS),
    edge_cpu_per_wall_s: round(usage.cpuS / wallS, 2),
    edge_cpu_cores: round(usage.cpuS / wallS, 2),
    edge_rss_peak_mb: usage.rssPeakMb,
    sim_cpu_s: round((cpu.user + cpu.system) / 1e6),
    wall_s: round(wallS),
    simulated_s: round((after.at - before.at) / 1000),
    edge_lag_p99_sim_ms: Math.round(usage.lagP99Ms * SPEED),
    edge_event_loop_busy: round(usage.eventLoopUtilization, 2),
    edge_db_wait_p99_sim_ms: Math.round(usage.dbWaitP99Ms * SPEED),
    edge_db_busy: round(usage.dbBusy, 2),
    edge_db_job_wait_p99_sim_ms: Math.round(usage.dbJobWaitP99Ms * SPEED),
    sim_lateness_p99_ms: Math.round(samples.latenessP99Ms),
    ap_queue_fill: round(fills.length > 0 ? fills.reduce((s, q) => s + q.fill, 0) / fills.length : 0, 2),
    ap_starved: round(fills.length > 0 ? fills.filter((q) => q.starved).length / fills.length : 0, 3),
    ...(STARVED_WAKES ? starvedWakes(samples.wakes, trig.t0, fillWindowEnd) : {}),
  };
  const report: UpdateReport = { ...measured, edge_keeps_up: edgeKeepsUp(measured) };
  emit({
    ...report,
    ...(missing.length > 0 ? { labels_missing_sample: missing.slice(0, 20).map((k) => probe.ids[trig.labels[k]!]) } : {}),
    ...targets(report),
    // Diagnosis (D91): where the AP's channel time went, and the edge's staging counters, over this update.
    ap_radio: diffTotals(apRadioTotals(ctx), radio0),
    ap_staged_wake_in: stagedWakeIn(fills),
    // Every 5 simulated s from the update's start: [s, labels shown, staged over all APs, APs on air, starved 0/1,
    // staged transfers whose label wakes in < 1 s, 1–3 s, 3–10 s, ≥ 10 s].
    timeline_5s: samples.queueFill
      .filter((q) => q.at >= trig.t0 && Math.round((q.at - trig.t0) / 1000) % 5 === 0)
      .map((q) => [Math.round((q.at - trig.t0) / 1000), q.shown, Math.round(q.fill * QUEUE_CAPACITY * APS), q.onAir, q.starved ? 1 : 0, ...q.wakeIn.slice(0, 4)]),
    // D156 The waiting labels' wake-ups per 5 simulated s: [s, waiting, starved (AP free, nothing staged for it)].
    ...(STARVED_WAKES ? { wakes_5s: wakesTimeline(samples.wakes, trig.t0) } : {}),
    // D143 The edge's GC pauses over the update (wall ms): what of the event loop's delay the collector alone explains.
    edge_gc: usage.gc,
    edge_loop_tasks: usage.loopTasks,
    edge_loop_gaps: usage.loopGaps,
    edge_lag_max_ms: Math.round(usage.lagMaxMs),
    edge_dispatch_delta: Object.fromEntries(Object.keys(usage.dispatch).map((k) => [k, d(k as keyof EdgeUsage['dispatch'])])),
    edge_image_cache_delta: { hits: usage.images.hits - usage0.images.hits, misses: usage.images.misses - usage0.images.misses, evicted: usage.images.evicted - usage0.images.evicted },
    // D128 Label rows the label store wrote during the update (its write-behind batches).
    edge_label_writes_delta: { batches: usage.labelWrites.batches - usage0.labelWrites.batches, rows: usage.labelWrites.rows - usage0.labelWrites.rows },
    refresh_tail: refreshTail(probe, shownLabels, trig.t0),
    tail_sample: tailSample(ctx, probe, shownLabels, trig.t0),
    ...(stragglers ? { stragglers } : {}),
    bound_per_ap_max: radio.perAp.reduce((m, p) => (p.boundS > (m?.boundS ?? -1) ? p : m), radio.perAp[0]),
    per_ap: perApEnd(ctx, probe, radio.perAp, shownLabels, trig.t0, busy0),
  });
  progress(`${update}: ${complete ? 'COMPLETE' : 'INCOMPLETE'} — consistent in ${report.consistent_s} s (bound ${report.bound_s} s), confirmed in ${report.confirmed_s} s${confirmedAll ? '' : ' (not every acknowledgement)'}, wall ${report.wall_s} s`);
  return report;
}

/** Each AP's channel busy time so far (simulated ms). */
function apChannelBusy(ctx: Ctx): Map<string, number> {
  const out = new Map<string, number>();
  if (ctx.sim === undefined) return out;
  for (const u of ctx.store.users) out.set(u.apId, ctx.sim.apStats(u.apId).radio.channelBusyMs);
  return out;
}

/**
 * D160 Which AP ended the update, and how much of its time its channel carried: per AP [id, bound s, air s (the
 * bound's), last own label shown s, channel busy s over the update], latest first. An update whose last AP is its
 * heaviest, with its channel idle for much of the time, is held back by that AP's schedule; one whose last AP is
 * light, by its tail.
 */
function perApEnd(ctx: Ctx, probe: StoreProbe, bounds: readonly ApBound[], shown: readonly number[], t0: number, busy0: ReadonlyMap<string, number>): [string, number, number, number, number][] {
  const done = new Map<string, number>();
  for (const i of shown) {
    const ap = probe.homeAp(i);
    done.set(ap, Math.max(done.get(ap) ?? 0, probe.shownAt[i]! - t0));
  }
  const busy = apChannelBusy(ctx);
  return bounds
    .map((b): [string, number, number, number, number] => [b.apId, round(b.boundS), round(b.airS), round((done.get(b.apId) ?? 0) / 1000), round(((busy.get(b.apId) ?? 0) - (busy0.get(b.apId) ?? 0)) / 1000)])
    .sort((a, b) => b[3] - a[3]);
}

/**
 * Diagnosis of the update's end: the refresh times of its labels (ms → count) and of its last 1 % by panel time, and
 * when those last labels' transfers ended (panel time − refresh). The bound counts the refresh of one label only.
 */
function refreshTail(probe: StoreProbe, labels: readonly number[], t0: number): Record<string, unknown> {
  const count = (ix: readonly number[]) => {
    const m: Record<string, number> = {};
    for (const i of ix) m[String(probe.refreshMs[i])] = (m[String(probe.refreshMs[i])] ?? 0) + 1;
    return m;
  };
  const byShown = [...labels].sort((a, b) => probe.shownAt[a]! - probe.shownAt[b]!);
  const last = byShown.slice(-Math.max(1, Math.ceil(byShown.length / 100)));
  const ends = last.map((i) => (probe.shownAt[i]! - probe.refreshMs[i]! - t0) / 1000);
  return {
    refresh_ms_all: count(labels),
    refresh_ms_last_1pct: count(last),
    last_1pct_transfer_end_s: ends.length > 0 ? [round(Math.min(...ends)), round(Math.max(...ends))] : [],
  };
}

/**
 * D146 The last 8 labels of the update to show their picture, from the simulator: each one's panel time, refresh,
 * wake-ups so far, and its last transfers (start and end from the update's start, wake-ups, status) — what a
 * straggler's transfer went through.
 */
function tailSample(ctx: Ctx, probe: StoreProbe, labels: readonly number[], t0: number): Record<string, unknown>[] {
  if (ctx.sim === undefined) return [];
  const s = (ms: number | undefined) => (ms === undefined ? null : round((ms - t0) / 1000));
  return [...labels]
    .sort((a, b) => probe.shownAt[a]! - probe.shownAt[b]!)
    .slice(-8)
    .map((i) => {
      const id = probe.ids[i]!;
      return {
        id,
        shown_s: s(probe.shownAt[i]),
        refresh_ms: probe.refreshMs[i],
        wake_ups: ctx.sim!.labelStats(id)?.wakeUps,
        transfers: ctx.sim!.transferStats(id).slice(-3).map((t) => [s(t.startedAt), s(t.finishedAt), t.wakeUps, t.status ?? null]),
      };
    });
}

/** D154 The home AP's last two answers to a label, relative to now: the appointment it held at the last one, if any. */
function lastSleepView(
  x: { sleptAt: number; toldS: number; appointmentDue: number | null; before: { sleptAt: number; toldS: number } | null } | undefined,
  now: number,
): Record<string, number | null> | null {
  if (x === undefined) return null;
  return {
    agoMs: Math.round(now - x.sleptAt),
    toldS: x.toldS,
    appointmentInMs: x.appointmentDue === null ? null : Math.round(x.appointmentDue - x.sleptAt),
    beforeAgoMs: x.before === null ? null : Math.round(now - x.before.sleptAt),
    beforeToldS: x.before === null ? null : x.before.toldS,
  };
}

/**
 * D146 The last ≤ 20 labels still missing, when they first are: the edge's view of each (label store, times relative
 * to now) beside the simulator's (its next wake, wake-ups so far, transfers its home AP holds for it, its
 * home AP's last answers).
 */
async function stragglerSnapshot(ctx: Ctx, labels: readonly number[], atS: number): Promise<Record<string, unknown>> {
  const ids = labels.map((i) => ctx.store.file.labels[i]!.labelId);
  const edge = await ctx.edge.call({ op: 'labels', ids }).catch(() => [] as Record<string, unknown>[]);
  const now = ctx.clock.now();
  const sim = ids.map((id, k) => {
    const l = ctx.sim?.label(id);
    const home = ctx.store.file.labels[labels[k]!]!.apId;
    return {
      nextWakeInMs: l ? Math.round(l.nextWakeAt - now) : null,
      wakeUps: l ? ctx.sim!.labelStats(id)?.wakeUps : null,
      homeAp: home,
      staged: ctx.sim ? ctx.sim.ap(home).transfers.forLabel(id).length : null,
      // D154 The home AP's last two answers: when it told the label to sleep, how long, the appointment it held (§4.9).
      lastSleep: lastSleepView(ctx.sim?.ap(home).radio.lastSleep(id), now),
    };
  });
  return { at_s: round(atS), labels: ids.map((id, k) => ({ ...(edge[k] ?? { id }), sim: sim[k] })) };
}

async function main(): Promise<void> {
  const store = buildStore({ labels: LABELS, aps: APS, seed: SEED });
  // D118 The simulated radio runs on its events' due times: this process's own timer latency must not stretch the air.
  const clock = new RealClock({ speed: SPEED, startMs: EPOCH, eventTime: SIM_EVENT_TIME });
  const ctx: Ctx = { store, clock, edge: EdgeProcess.fork([...(EDGE_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${EDGE_CPU_PROF}`] : []), ...EDGE_NODE_FLAGS_EXTRA]) };
  let stopping: Promise<void> | undefined;
  const step = async (what: string, p: Promise<unknown>, limitMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        progress(`shutdown: ${what} did not finish within ${limitMs / 1000} s`);
        resolve();
      }, limitMs);
    });
    await Promise.race([p.catch(() => undefined), late]);
    clearTimeout(timer);
  };
  const cleanup = () =>
    (stopping ??= (async () => {
      ctx.probe?.stop();
      if (ctx.sim) await step('simulator stop', ctx.sim.stop(), 20_000);
      clock.stop();
      await step('edge stop', ctx.edge.stop(30_000), 35_000);
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
  const reports: UpdateReport[] = [];
  try {
    const started = await ctx.edge.call({
      op: 'start',
      speed: SPEED,
      simNow: clock.now(),
      hostNow: hostNow(),
      chain: store.file.chain,
      store: store.file.store,
      users: store.users,
      logLevel: EDGE_LOG,
      ...(EDGE_DISPATCH !== undefined ? { dispatch: EDGE_DISPATCH } : {}),
      ...(EDGE_RENDERING !== undefined ? { rendering: EDGE_RENDERING } : {}),
    });
    const a = clock.now();
    const { now } = await ctx.edge.call({ op: 'now' });
    const skewMs = now - (a + clock.now()) / 2;

    const seedWall0 = performance.now();
    const seeds = seedBatches(store, clock.now());
    for (const b of seeds) await ingest(ctx, JSON.stringify(b));
    emit({
      phase: 'setup',
      products: store.file.products.length,
      labels_with_neighbour: store.labelsWithNeighbour,
      promotions_running_products: store.ongoingPromo.length,
      frame_loss: LOSS,
      queue_capacity: QUEUE_CAPACITY,
      seed_events: seeds.reduce((n, b) => n + b.data.events.length, 0),
      seed_wall_s: round((performance.now() - seedWall0) / 1000),
      clock_skew_sim_ms: round(skewMs),
      edge_pid: started.pid,
    });

    reports.push(
      await runUpdate(ctx, 'fill', async () => {
        const t0 = clock.now();
        ctx.sim = await StoreSimulator.start({
          brokerUrl: started.mqttUrl,
          chain: store.file.chain,
          store: store.file.store,
          aps: store.users.map((u) => ({ apId: u.apId, username: u.username, password: u.password, queueCapacity: QUEUE_CAPACITY, wakeReport: WAKE_REPORT !== 'off' })),
          labels: store.file.labels.map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId, ...(l.neighbourApId ? { neighbourApId: l.neighbourApId } : {}), ...(LABEL_DECODERS === 'legacy' ? { decoders: null } : LABEL_DECODERS === 'ctx-pending' ? { decoders: PENDING_DECODERS } : {}) })),
          radio: { frameLoss: LOSS, ackWakeAfterTransfer: ACK_WAKE === 'on', apDeferral: AP_DEFERRAL, apHoldMaxMs: AP_HOLD_MS, apSilenceMs: AP_SILENCE_MS, apBurst: AP_BURST, apWorkAhead: AP_WORK_AHEAD },
          clock,
          seed: SEED,
          // The simulator's warnings (an AP that lost its link, …) go to stderr with the progress lines.
          logger: { ...silentLogger, warn: simLog('warn'), error: simLog('error') },
        });
        ctx.probe = new StoreProbe(ctx.sim, clock, QUEUE_CAPACITY, STARVED_WAKES);
        if (ctx.probe.ids.some((id, i) => id !== store.file.labels[i]!.labelId)) throw new Error('simulator label order differs from the store file');
        return { t0, windowStart: t0, labels: store.file.labels.map((_, i) => i) };
      }),
    );

    const repricing = repricingBatches(store, 2).map((b) => JSON.stringify(b));
    if (UPDATES.includes('full-repricing')) reports.push(
      await runUpdate(ctx, 'full-repricing', async () => {
        let t0 = Number.NaN;
        for (const payload of repricing) {
          const at = await ingest(ctx, payload);
          if (Number.isNaN(t0)) t0 = at;
        }
        return { t0, windowStart: t0, labels: store.file.labels.map((_, i) => i) };
      }),
    );

    if (UPDATES.includes('promotion-start')) reports.push(
      await runUpdate(ctx, 'promotion-start', async () => {
        const startAt = Math.ceil((clock.now() + PROMO_LEAD_S * 1000) / 60_000) * 60_000;
        let announcedAt = Number.NaN;
        for (const b of promotionStartBatch(store, startAt)) {
          const at = await ingest(ctx, JSON.stringify(b));
          if (Number.isNaN(announcedAt)) announcedAt = at;
        }
        progress(`promotion-start: ${store.startPromo.length} products enter a promotion at ${new Date(startAt).toISOString()} (in ${((startAt - clock.now()) / 1000).toFixed(0)} simulated s)`);
        // Label i shows product i.
        return { t0: startAt, windowStart: announcedAt, labels: store.startPromo, notBefore: startAt };
      }),
    );

    if (UPDATES.includes('small-change')) reports.push(
      await runUpdate(ctx, 'small-change', async () => {
        const t0 = clock.now() + 1_000;
        const eventAt = new Map<number, number>();
        const changes = smallChangeEvents(store, SMALL_CHANGES, 3);
        const sent = changes.map(
          ({ product, event }) =>
            new Promise<void>((resolve, reject) => {
              clock.schedule(t0 + store.random() * SMALL_WINDOW_MS, () => {
                ingest(ctx, JSON.stringify(event)).then((at) => {
                  // Label i shows product i (one label per product).
                  eventAt.set(product, at);
                  resolve();
                }, reject);
              });
            }),
        );
        return { t0, windowStart: t0, labels: changes.map((c) => c.product), refAt: (i) => eventAt.get(i), sent: Promise.all(sent) };
      }),
    );

    const edgeTotal = await ctx.edge.call({ op: 'usage', reset: false });
    const simCpu = process.cpuUsage();
    emit({
      phase: 'total',
      complete: reports.every((r) => r.complete),
      wall_s: round((performance.now() - wallStart) / 1000),
      edge_rss_max_mb: edgeTotal.rssMaxProcessMb,
      sim_process_rss_max_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      sim_process_cpu_s: round((simCpu.user + simCpu.system) / 1e6),
      edge_dispatch: edgeTotal.dispatch,
    });
    const summary = `\nfull-store — ${REFERENCE ? 'reference store' : 'custom store'}: ${LABELS.toLocaleString('en')} labels on ${APS} APs, frame loss ${LOSS * 100} %, AP queue ${QUEUE_CAPACITY}, speed ${SPEED}× (simulated seconds)\n${table(reports)}\n`;
    process.stderr.write(summary);
    if (resultBase) {
      writeFileSync(`${resultBase}.txt`, summary);
      progress(`results: ${resultBase}.jsonl, ${resultBase}.txt`);
    }
  } finally {
    await cleanup();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`full-store: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
