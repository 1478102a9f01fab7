/**
 * The render workers' priority under contention (docs/decisions.md D150, `rendering.workerNice`): how long the main
 * thread waits for a core while a render worker is kept busy and other work holds the machine's cores.
 *
 * One process, one render pool per mode (one worker, `nice` steps below the main thread), kept saturated with the
 * reference mix's labels at new prices (chunks of 256 as the planner sends them); beside it `--busy` child processes
 * spin (other work on the gateway: on 2 cores, worker + 1 busy loop + the main thread want 3). The main thread runs
 * what an edge's does between renders: every 2 ms a task of ~0.3 ms of CPU (an AP frame's handling, an ack). Measured
 * per round: the main thread's event-loop delay (monitorEventLoopDelay, resolution 10 ms, as the edge's /metrics)
 * and when each 2-ms task ran against when it was due (p99, max); labels rendered per second. The modes alternate,
 * `--rounds` times, so a drift of the machine falls on both; the last line gives each figure's ratio (nice N over
 * nice 0, medians of the rounds).
 *
 *   npm run build && node dist/bench/render-priority.js [--nice 0,10] [--busy 1] [--rounds 3] [--seconds 8] [--out FILE]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { LabelType } from '#protocol';
import { RenderPool } from '../src/domain/rendering/render-pool.js';
import { products, referenceLabelTypes } from './render-catalogue.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const NICES = arg('nice', '0,10').split(',').map(Number);
const BUSY = Number(arg('busy', '1'));
const ROUNDS = Number(arg('rounds', '3'));
const SECONDS = Number(arg('seconds', '8'));
const OUT = arg('out', '');
const CHUNK = 256;
/** The main thread's own work: a task every TASK_EVERY_MS of TASK_CPU_MS. */
const TASK_EVERY_MS = 2;
const TASK_CPU_MS = 0.3;
const RUN = new Date().toISOString();

function emit(o: Record<string, unknown>): void {
  const line = `${JSON.stringify({ bench: 'render-priority', run: RUN, ...o })}\n`;
  process.stdout.write(line);
  if (OUT) appendFileSync(OUT, line);
}

if (process.argv.includes('--spin')) {
  // A busy loop until the parent goes away.
  process.on('disconnect', () => process.exit(0));
  for (;;) {
    const end = performance.now() + 50;
    while (performance.now() < end);
    await new Promise((r) => setImmediate(r));
  }
}


const pct = (a: number[], p: number) => (a.length === 0 ? 0 : a[Math.min(a.length - 1, Math.floor(p * a.length))]!);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

interface Round {
  nice: number;
  workerNice: number | null;
  labelsPerSec: number;
  delayP99Ms: number;
  delayMaxMs: number;
  taskLateP99Ms: number;
  taskLateMaxMs: number;
}

async function measure(nice: number, catalogue: ReturnType<typeof products>, types: LabelType[], priceStep: number): Promise<Round> {
  const pool = await RenderPool.create({ workers: 1, nice });
  await pool.ready();
  const p = pool.priorities()[0]?.priority;
  // Warm-up: the worker's glyph caches fill (the steady state is what a repricing sees).
  await pool.renderMany(catalogue.slice(0, CHUNK).map((c, i) => ({ content: c, labelType: types[i]! })));

  let stop = false;
  let rendered = 0;
  const renderLoop = (async () => {
    for (let start = 0; !stop; start = (start + CHUNK) % catalogue.length) {
      const jobs = catalogue.slice(start, start + CHUNK).map((c, i) => ({ content: { ...c, priceCents: c.priceCents + priceStep }, labelType: types[start + i]! }));
      const res = await pool.renderMany(jobs);
      rendered += res.filter((r) => r.status === 'fulfilled').length;
    }
  })();

  const late: number[] = [];
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  let due = t0 + TASK_EVERY_MS;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      late.push(now - due);
      const end = now + TASK_CPU_MS;
      while (performance.now() < end);
      if (now - t0 >= SECONDS * 1000) return resolve();
      due = Math.max(due + TASK_EVERY_MS, now);
      setTimeout(tick, Math.max(0, due - performance.now()));
    };
    setTimeout(tick, TASK_EVERY_MS);
  });
  h.disable();
  const seconds = (performance.now() - t0) / 1000;
  const done = rendered;
  stop = true;
  await renderLoop;
  await pool.close();
  late.sort((a, b) => a - b);
  return {
    nice,
    workerNice: p?.ok ? p.nice : null,
    labelsPerSec: round(done / seconds, 0),
    delayP99Ms: round(h.percentile(99) / 1e6, 1),
    delayMaxMs: round(h.max / 1e6, 1),
    taskLateP99Ms: round(pct(late, 0.99), 2),
    taskLateMaxMs: round(late.at(-1) ?? 0, 1),
  };
}

const spinners: ChildProcess[] = Array.from({ length: BUSY }, () => fork(new URL(import.meta.url), ['--spin'], { stdio: 'ignore' }));
try {
  const catalogue = products(2_048, 42);
  const types = referenceLabelTypes(catalogue.length);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const nice of r % 2 === 0 ? NICES : [...NICES].reverse()) {
      const m = await measure(nice, catalogue, types, 10 * (rounds.length + 1));
      rounds.push(m);
      emit({ metric: 'round', round: r, busy: BUSY, seconds: SECONDS, ...m });
    }
  }
  const base = rounds.filter((m) => m.nice === NICES[0]);
  for (const nice of NICES.slice(1)) {
    const mode = rounds.filter((m) => m.nice === nice);
    const ratio = (k: keyof Round) => round(median(mode.map((m) => m[k] as number)) / Math.max(1e-9, median(base.map((m) => m[k] as number))));
    emit({
      metric: 'ratios',
      nice,
      vs_nice: NICES[0],
      busy: BUSY,
      rounds: ROUNDS,
      delay_p99: ratio('delayP99Ms'),
      task_late_p99: ratio('taskLateP99Ms'),
      labels_per_sec: ratio('labelsPerSec'),
      medians: {
        [`nice${NICES[0]}`]: { delayP99Ms: median(base.map((m) => m.delayP99Ms)), taskLateP99Ms: median(base.map((m) => m.taskLateP99Ms)), labelsPerSec: median(base.map((m) => m.labelsPerSec)) },
        [`nice${nice}`]: { delayP99Ms: median(mode.map((m) => m.delayP99Ms)), taskLateP99Ms: median(mode.map((m) => m.taskLateP99Ms)), labelsPerSec: median(mode.map((m) => m.labelsPerSec)) },
      },
    });
  }
} finally {
  for (const s of spinners) s.kill();
}
