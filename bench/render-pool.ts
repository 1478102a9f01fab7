/**
 * Rendering off the event loop (issue 16 item 3, docs/decisions.md D30–D31): labels/s and the main thread's
 * event-loop delay (perf_hooks monitorEventLoopDelay) while 5,000 labels of the reference store's mix are rendered
 * on the main thread (rendering.workers = 0, the baseline) and through the worker pool with 1, 2, … workers; plus
 * each mode's memory. Every mode runs in its own child process of the same run (clean RSS figures), one after the
 * other.
 *
 * The drive imitates the planner: chunks of 256 labels (LabelPlanner's CHUNK) with a turn of the event loop between
 * chunks (the planner's database work), inside a chunk `--concurrency` render() calls at a time ("planner", today's
 * LabelPlanner) or the whole chunk as one renderMany() ("batch", the pool's batch API). Each mode first renders the
 * catalogue once (first pass: glyph caches fill), then measures the steady state: the same products at new prices,
 * as in a full repricing.
 *
 *   npm run build && node dist/bench/render-pool.js [--labels 5000] [--workers 0,1,2] [--concurrency 4] [--seed 42] [--young MB]
 *
 * stdout: one JSON object per line; stderr: a summary table.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay, performance as perf } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import type { LabelType } from '#protocol';
import type { LabelContent } from '#contracts';
import { LabelRenderer } from '../src/domain/rendering/label-renderer.js';
import { RenderPool, WORKER_YOUNG_GENERATION_MB } from '../src/domain/rendering/render-pool.js';
import { products, referenceLabelTypes } from './render-catalogue.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '5000'));
const WORKERS = arg('workers', '0,1,2').split(',').map(Number);
const CONCURRENCY = Number(arg('concurrency', '4'));
const SEED = Number(arg('seed', '42'));
const MODE = arg('mode', '');
const DRIVE = arg('drive', 'planner');
/** V8 young generation per worker, MB ('' = the pool's default). */
const YOUNG = arg('young', '');
const CHUNK = 256;


const mb = (bytes: number) => Math.round(bytes / 1048576);

interface Renderer {
  render(c: LabelContent, t: LabelType): Promise<{ hash: string }>;
}

async function drive(r: Renderer, pool: RenderPool | null, items: { c: LabelContent; t: LabelType }[]): Promise<string[]> {
  const hashes: string[] = new Array<string>(items.length);
  for (let start = 0; start < items.length; start += CHUNK) {
    const chunk = items.slice(start, start + CHUNK);
    if (DRIVE === 'batch' && pool) {
      const res = await pool.renderMany(chunk.map((x) => ({ content: x.c, labelType: x.t })));
      res.forEach((x, i) => {
        if (x.status === 'rejected') throw x.reason;
        hashes[start + i] = x.value.hash;
      });
    } else {
      let next = 0;
      const loop = async () => {
        while (next < chunk.length) {
          const i = next++;
          hashes[start + i] = (await r.render(chunk[i]!.c, chunk[i]!.t)).hash;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, loop));
    }
    await turn(); // the planner's database work between chunks
  }
  return hashes;
}

/**
 * The control: the same histogram on a main thread with nothing to do, for as long as a mode's steady pass took. On
 * a shared machine the OS alone delays a thread's timers; this is the floor no renderer can go under.
 */
async function idle(seconds: number): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  h.disable();
  console.log(
    JSON.stringify({
      bench: 'render-pool',
      workers: null,
      drive: 'idle',
      seconds,
      labelsPerSec: 0,
      firstPassLabelsPerSec: 0,
      mainThreadUtilisation: 0,
      eventLoopDelayMs: { p50: +(h.percentile(50) / 1e6).toFixed(1), p99: +(h.percentile(99) / 1e6).toFixed(1), max: +(h.max / 1e6).toFixed(1) },
      rssMB: { start: 0, created: 0, after: 0, peak: Math.round(process.resourceUsage().maxRSS / 1024) },
      hashDigest: null,
    }),
  );
}

async function child(workers: number): Promise<void> {
  const catalogue = products(LABELS, SEED);
  const types = referenceLabelTypes(LABELS);
  const items = catalogue.map((c, i) => ({ c, t: types[i]! }));
  const repriced = items.map((x) => ({ c: { ...x.c, priceCents: x.c.priceCents + 10 }, t: x.t }));
  const rssStart = process.memoryUsage().rss;
  const t0 = performance.now();
  const pool = workers > 0 ? await RenderPool.create({ workers, ...(YOUNG ? { youngGenerationMb: Number(YOUNG) } : {}) }) : null;
  await pool?.ready();
  const renderer: Renderer = pool ?? (await LabelRenderer.create());
  const createMs = performance.now() - t0;
  const rssCreated = process.memoryUsage().rss;

  let s = performance.now();
  const first = await drive(renderer, pool, items);
  const firstS = (performance.now() - s) / 1000;

  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const elu0 = perf.eventLoopUtilization();
  s = performance.now();
  const steady = await drive(renderer, pool, repriced);
  const steadyS = (performance.now() - s) / 1000;
  const elu = perf.eventLoopUtilization(elu0);
  h.disable();
  const cpu = process.cpuUsage();
  const rssAfter = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  const workerStats = pool ? await pool.workerStats() : [];
  if (pool) await pool.close();
  // A digest of every hash: equal digests across modes = the same bytes on the main thread and in the workers.
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(first.join('')).update(steady.join('')).digest('hex').slice(0, 16);
  console.log(
    JSON.stringify({
      bench: 'render-pool',
      workers,
      drive: workers > 0 ? DRIVE : 'planner',
      concurrency: CONCURRENCY,
      youngGenerationMb: workers > 0 ? Number(YOUNG || WORKER_YOUNG_GENERATION_MB) : null,
      labels: LABELS,
      createMs: Math.round(createMs),
      firstPassLabelsPerSec: Math.round(LABELS / firstS),
      labelsPerSec: Math.round(LABELS / steadyS),
      // How busy the main thread was (0–1): with the pool, what delay remains is the OS not scheduling it.
      mainThreadUtilisation: +elu.utilization.toFixed(3),
      eventLoopDelayMs: { p50: +(h.percentile(50) / 1e6).toFixed(1), p99: +(h.percentile(99) / 1e6).toFixed(1), max: +(h.max / 1e6).toFixed(1) },
      mainHeapMB: mb(heap),
      // Each worker's own isolate after the run: V8 heap used/total, external (buffers), glyph cache.
      workerHeaps: workerStats.map(({ threadId: _t, ...w }) => w),
      rssMB: { start: mb(rssStart), created: mb(rssCreated), after: mb(rssAfter), peak: Math.round(process.resourceUsage().maxRSS / 1024) },
      processCpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1),
      hashDigest: digest,
    }),
  );
}

interface Row {
  workers: number | null;
  drive: string;
  labelsPerSec: number;
  firstPassLabelsPerSec: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  mainThreadUtilisation: number;
  rssMB: { start: number; created: number; after: number; peak: number };
  hashDigest: string | null;
}

function parent(): void {
  const self = fileURLToPath(import.meta.url);
  const rows: Row[] = [];
  const modes = [{ w: -1, d: 'idle' }, ...WORKERS.flatMap((w) => (w === 0 ? [{ w, d: 'planner' }] : [{ w, d: 'planner' }, { w, d: 'batch' }]))];
  for (const m of modes) {
    const r = spawnSync(process.execPath, [self, '--mode', m.w < 0 ? 'idle' : 'child', '--seconds', '10', '--workers', String(m.w), '--drive', m.d, '--labels', String(LABELS), '--concurrency', String(CONCURRENCY), '--seed', String(SEED), ...(YOUNG ? ['--young', YOUNG] : [])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) throw new Error(`mode workers=${m.w} drive=${m.d} failed (${r.status})`);
    const line = r.stdout.trim().split('\n').at(-1)!;
    process.stdout.write(`${line}\n`);
    rows.push(JSON.parse(line) as Row);
  }
  const control = rows.find((r) => r.drive === 'idle');
  const base = rows.find((r) => r.workers === 0);
  const summary = {
    bench: 'render-pool',
    summary: `${LABELS} labels, reference mix, steady state; ratios against the main thread in the same run`,
    sameHashesEverywhere: rows.filter((r) => r.hashDigest !== null).every((r) => r.hashDigest === base?.hashDigest),
    idleEventLoopP99: control?.eventLoopDelayMs.p99 ?? null,
    ratios: rows
      .filter((r) => (r.workers ?? 0) > 0)
      .map((r) => ({
        workers: r.workers,
        drive: r.drive,
        labelsPerSec: base ? +(r.labelsPerSec / base.labelsPerSec).toFixed(2) : null,
        eventLoopP99: base ? +(r.eventLoopDelayMs.p99 / base.eventLoopDelayMs.p99).toFixed(3) : null,
        eventLoopP99OverIdle: control ? +(r.eventLoopDelayMs.p99 / control.eventLoopDelayMs.p99).toFixed(2) : null,
      })),
    // What the renderer costs, MB over the process before it: started (templates, fonts, isolates), and after the
    // run (caches, garbage not yet collected). Pool minus main thread at start = the cost of a worker itself.
    memoryMB: rows
      .filter((r) => r.workers !== null)
      .map((r) => ({ workers: r.workers, drive: r.drive, started: r.rssMB.created - r.rssMB.start, afterRun: r.rssMB.after - r.rssMB.start, peakRss: r.rssMB.peak })),
  };
  console.log(JSON.stringify(summary));
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const lines = [
    '',
    `${'workers'.padEnd(8)}${'drive'.padEnd(9)}${pad('labels/s', 9)}${pad('1st/s', 7)}${pad('EL p50', 8)}${pad('EL p99', 8)}${pad('EL max', 8)}${pad('ELU', 6)}${pad('RSS after', 10)}${pad('peak', 6)}`,
    ...rows.map(
      (r) =>
        `${String(r.workers ?? '-').padEnd(8)}${r.drive.padEnd(9)}${pad(r.labelsPerSec, 9)}${pad(r.firstPassLabelsPerSec, 7)}${pad(r.eventLoopDelayMs.p50, 8)}${pad(r.eventLoopDelayMs.p99, 8)}${pad(r.eventLoopDelayMs.max, 8)}${pad(r.mainThreadUtilisation, 6)}${pad(r.rssMB.after, 10)}${pad(r.rssMB.peak, 6)}`,
    ),
    '',
    `event-loop delay in ms (main thread, steady pass, resolution 10 ms as /metrics: 10 = no delay); ELU = main-thread utilisation; RSS in MB of the whole process; same hashes in every mode: ${summary.sameHashesEverywhere}`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

if (MODE === 'child') await child(Number(arg('workers', '0')));
else if (MODE === 'idle') await idle(Number(arg('seconds', '5')));
else parent();
