/**
 * Planning throughput (issue 16, D60–D62): how fast the edge turns a full repricing into every label's desired
 * picture, with no radio. The real daemon (default configuration: render pool, label store, image store, sqlite
 * file) runs in this process; the reference store's catalogue (bench/full-store-store.ts, N labels on M APs) is
 * ingested, every label checks in once and is planned (fill), then every regular price changes (+3 %) and the
 * benchmark waits until every label's desired picture is the new one.
 *
 * Per phase: labels planned per second (from the first event to the last label planned), the CPU the whole process
 * spent per label (main thread, render workers, sqlite and zlib threads), and the share of it on the main thread's
 * event loop, all over the planner's time; `settled_s` is the time until the daemon settled, which also waits for
 * the rule engine to bring the till's price feed up to date (D160: before, every figure ran to that point, and the
 * repricing's ~1,070 labels/s were the till feed's pace, not the planner's). The baseline in the same run is the
 * renderer alone: the same contents rendered through the same render pool (what planning cannot be faster than), so
 * `plan_vs_render` is the planner's own overhead.
 *
 *   npm run bench -- plan-throughput            [--labels 10000 --aps 5 --seed 1 --results FILE]
 *   node dist/bench/plan-throughput.js --labels 10000 --profile-repricing FILE   # the main thread's CPU profile
 *
 * The edge process gets the Node flags and environment of a store's edge (edge-runtime.ts) unless node flags are given.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { noRadioConfig } from './no-radio-config.js';
import { createLogger } from '../src/core/logger.js';
import { startDaemon } from '../src/daemon.js';
import { EDGE_ENV, EDGE_NODE_FLAGS } from '../src/core/edge-runtime.js';
import { RenderPool } from '../src/domain/rendering/render-pool.js';
import { labelTypeById } from '#protocol';
import { firstContactCheckin } from './first-contact.js';
import { buildStore, repricingBatches, seedBatches } from './full-store-store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '10000'));
const APS = Number(arg('aps', String(Math.max(1, Math.round(LABELS / 2000)))));
const SEED = Number(arg('seed', '1'));
const RESULTS = arg('results', '');
const TAG = arg('tag', '');

/** A file: the main thread's V8 CPU profile of the repricing phase alone (node:inspector), for where the time goes. */
const PROFILE = arg('profile-repricing', '');

async function startProfile(): Promise<{ stop: (file: string) => Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    stop: async (file: string) => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

const emit = (o: Record<string, unknown>) => {
  const line = JSON.stringify({ bench: 'plan-throughput', labels: LABELS, aps: APS, ...(TAG ? { tag: TAG } : {}), ...o });
  process.stdout.write(`${line}\n`);
  if (RESULTS) appendFileSync(RESULTS, `${line}\n`);
};

/** Wall, process CPU and event-loop busy time between begin() and end(). */
function meter() {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const e0 = performance.eventLoopUtilization();
  return () => {
    const wallS = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const elu = performance.eventLoopUtilization(e0);
    return { wallS, cpuS: (c.user + c.system) / 1e6, loopBusyS: elu.active / 1000 };
  };
}

// The edge runs as in a store (src/core/edge-runtime.ts: its Node flags and MALLOC_ARENA_MAX): this file re-runs
// itself so started, unless it already was (--as-edge) or the caller passed its own flags (e.g. --cpu-prof).
if (!process.argv.includes('--as-edge') && process.execArgv.length === 0) {
  const r = spawnSync(process.execPath, [...EDGE_NODE_FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2), '--as-edge'], { stdio: 'inherit', env: { ...process.env, ...EDGE_ENV } });
  process.exit(r.status ?? 1);
}

const dataDir = mkdtempSync(join(tmpdir(), 'esl-bench-plan-'));
const config = noRadioConfig(dataDir);
const daemon = await startDaemon(config, { log: createLogger({ level: 'error' }), listenHttp: false });
const pool = daemon.renderer instanceof RenderPool ? daemon.renderer : null;
await pool?.ready();
const store = buildStore({ labels: LABELS, aps: APS, seed: SEED });
const ids = store.file.labels.map((l) => l.labelId);

/** How often the labels still waiting for their new picture may be looked at (ms). */
const POLL_MS = 100;
/**
 * D166 Looking at every waiting label runs on the daemon's main thread (this process) at ~0.5 µs a label: at 200,000
 * labels every 100 ms it took 69 % of that thread's busy time in a repricing's CPU profile, so the benchmark measured
 * itself. All of them are looked at only while few labels are left to plan (the label store's dirty count, one read),
 * otherwise every FULL_LOOK_MS to keep the list short; the last label is still seen within a poll.
 */
const FULL_LOOK_MS = 5_000;
const FEW_DIRTY = Math.max(1, Math.floor(LABELS / 20));

interface Phase {
  /** From the first event to the last label planned (the planner's time), and the process's CPU and loop over it. */
  wallS: number;
  cpuS: number;
  loopBusyS: number;
  ingestS: number;
  /** D160 From the first event until the daemon settled: the rule engine's till-feed passes included. */
  settledS: number;
}

/**
 * Runs an update and measures until every label's desired picture differs from `before` (or exists, for the fill),
 * looked at every POLL_MS; then waits until the daemon settles. D160: the planner's time ends at its last label, not
 * at settle(), which also waits for the rule engine's till-feed passes (a quarter of the queue at most, D55).
 */
async function planned(work: () => Promise<void>, before: Map<string, string | null>): Promise<Phase> {
  const end = meter();
  const t0 = performance.now();
  const isNew = (id: string) => {
    const h = daemon.labels.get(id)?.desiredHash ?? null;
    return h !== null && h !== before.get(id);
  };
  let waiting = ids;
  let done: ReturnType<ReturnType<typeof meter>> | null = null;
  let lookedAt = -Infinity;
  const poll = setInterval(() => {
    if (done) return;
    const now = performance.now();
    if (daemon.labels.dirtyCount > FEW_DIRTY && now - lookedAt < FULL_LOOK_MS) return;
    lookedAt = now;
    waiting = waiting.filter((id) => !isNew(id));
    if (waiting.length === 0) done = end();
  }, POLL_MS);
  try {
    await work();
    const ingestS = (performance.now() - t0) / 1000;
    await daemon.settle();
    const settledS = (performance.now() - t0) / 1000;
    waiting = waiting.filter((id) => !isNew(id));
    if (waiting.length > 0) throw new Error(`only ${LABELS - waiting.length}/${LABELS} labels got a new picture`);
    return { ...(done ?? end()), ingestS, settledS };
  } finally {
    clearInterval(poll);
  }
}

const row = (phase: string, r: Omit<Phase, 'settledS'> & { settledS?: number }) => ({
  phase,
  wall_s: +r.wallS.toFixed(2),
  ...(r.settledS !== undefined ? { settled_s: +r.settledS.toFixed(2) } : {}),
  ingest_s: +r.ingestS.toFixed(2),
  labels_per_s: Math.round(LABELS / r.wallS),
  cpu_s: +r.cpuS.toFixed(2),
  cpu_ms_per_label: +((r.cpuS * 1000) / LABELS).toFixed(3),
  loop_busy_ms_per_label: +((r.loopBusyS * 1000) / LABELS).toFixed(3),
  cores: +(r.cpuS / r.wallS).toFixed(2),
  rss_mb: Math.round(process.memoryUsage.rss() / 1048576),
});

try {
  const seed = seedBatches(store, Date.now()).map((b) => JSON.stringify(b));
  const fill = await planned(async () => {
    for (const b of seed) {
      const r = await daemon.intake.ingest(b, { channel: 'local' });
      if (r.reply.status !== 'applied') throw new Error(`seed batch: ${JSON.stringify(r.reply)}`);
    }
    for (const l of store.file.labels) {
      await daemon.dispatcher.labelCheckin(l.apId, firstContactCheckin(l.labelId, l.labelType));
    }
    daemon.planner.kick();
  }, new Map());
  emit(row('fill', fill));

  const before = new Map(ids.map((id) => [id, daemon.labels.get(id)?.desiredHash ?? null]));
  const reprice = repricingBatches(store, 2).map((b) => JSON.stringify(b));
  const prof = PROFILE ? await startProfile() : null;
  const rep = await planned(async () => {
    for (const b of reprice) {
      const r = await daemon.intake.ingest(b, { channel: 'local' });
      if (r.reply.status !== 'applied') throw new Error(`repricing batch: ${JSON.stringify(r.reply)}`);
    }
  }, before);
  if (prof) await prof.stop(PROFILE);
  const repRow = row('full-repricing', rep);
  emit(repRow);

  // Baseline: the renderer alone, the same contents through the same pool, in chunks as the planner sends them.
  const jobs = [];
  for (const id of ids) {
    const l = daemon.labels.get(id)!;
    const img = await daemon.images.load(l.desiredHash!);
    jobs.push({ content: img!.content, labelType: labelTypeById(l.labelType!)! });
  }
  const end = meter();
  for (let i = 0; i < jobs.length; i += 256) {
    const settled = pool ? await pool.renderMany(jobs.slice(i, i + 256)) : await Promise.allSettled(jobs.slice(i, i + 256).map((j) => daemon.renderer.render(j.content, j.labelType)));
    const bad = settled.find((s) => s.status === 'rejected');
    if (bad) throw new Error(`baseline render failed: ${String((bad as PromiseRejectedResult).reason)}`);
  }
  const base = end();
  const baseRow = row('render-only-baseline', { ...base, ingestS: 0 });
  emit(baseRow);
  emit({
    phase: 'summary',
    plan_labels_per_s: repRow.labels_per_s,
    render_labels_per_s: baseRow.labels_per_s,
    plan_vs_render: +(repRow.labels_per_s / baseRow.labels_per_s).toFixed(3),
    plan_cpu_ms_per_label: repRow.cpu_ms_per_label,
    render_cpu_ms_per_label: baseRow.cpu_ms_per_label,
    render_workers: pool?.size ?? 0,
  });
} finally {
  await daemon.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
