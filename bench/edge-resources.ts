/**
 * The edge's memory and CPU at store scale, without a radio (issue 16: reference store ≤ 300 MB peak RSS and
 * ≤ 0.5 core over a repricing; 200,000 labels ≤ 800 MB). The real daemon (embedded aedes broker, sqlite file, render
 * pool, label store, image store) is started in this process with its default configuration, then:
 *
 *   idle       — no labels: the baseline RSS of a daemon;
 *   fill       — the catalogue and bindings of bench/full-store-store.ts (N labels on M APs) are ingested, every label
 *                checks in once through the dispatcher (as a label would: type, AP, blank panel) and every label is
 *                planned and rendered;
 *   repricing  — every regular price changes (+3 %), every label is planned and rendered again;
 *   encode     — what the dispatcher does per transfer of the repricing, on a sample of labels: both pictures from
 *                the image store and the §6.6.1 encoding choice (CTX region delta against the fill picture).
 *
 * The daemon runs in a child process of its own (this file with --child), so the benchmark's copy of the store and its
 * event payloads do not count against the edge's memory; the parent sends the events and check-ins over IPC.
 *
 * Per phase: wall and CPU seconds (process-wide, render workers included), CPU ms per label, peak RSS (sampled every
 * 50 ms) and, at the end of the phase, RSS, V8 heap, external and array buffers of the main thread and each render
 * worker's heap. No AP is connected, so nothing is sent: the figures are the edge's own work, not the radio's.
 *
 *   node dist/bench/edge-resources.js [--labels 50000 --aps 25 --encode-sample 2000 --seed 1 --results FILE]
 *   options: --workers N (rendering.workers)  --plain (no edge-runtime flags/env)  --edge-flags "--max-semi-space-size=2"  --tag T
 */
import { fork } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { noRadioConfig } from './no-radio-config.js';
import { createLogger } from '../src/core/logger.js';
import { startDaemon } from '../src/daemon.js';
import { EDGE_ENV, EDGE_NODE_FLAGS } from '../src/core/edge-runtime.js';
import { RenderPool } from '../src/domain/rendering/render-pool.js';
import { ApCapability, chooseEncoding, LabelDecoder, labelTypeById } from '#protocol';
import { firstContactCheckin } from './first-contact.js';
import { startMemTrace } from './edge-mem-trace.js';
import { buildStore, repricingBatches, seedBatches } from './full-store-store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '50000'));
const APS = Number(arg('aps', '25'));
const SEED = Number(arg('seed', '1'));
const ENCODE_SAMPLE = Number(arg('encode-sample', '2000'));
const RESULTS = arg('results', '');
const TAG = arg('tag', '');
/** rendering.workers of the edge (default: the daemon's default, "auto"). */
const WORKERS = arg('workers', 'auto');
/**
 * The edge process runs as in a store (src/core/edge-runtime.ts: its Node flags and MALLOC_ARENA_MAX) unless
 * --plain; --edge-flags "…" replaces the Node flags (space-separated).
 */
const PLAIN = process.argv.includes('--plain');
const EDGE_FLAGS = process.argv.includes('--edge-flags') ? arg('edge-flags', '').split(' ').filter((f) => f !== '') : PLAIN ? [] : [...EDGE_NODE_FLAGS];
const MB = 1024 * 1024;
const mb = (b: number) => Math.round((b / MB) * 10) / 10;

interface CheckinSpec {
  labelId: string;
  apId: string;
  labelType: number;
}
type Request =
  | { op: 'begin' }
  | { op: 'end'; phase: string; items: number }
  | { op: 'ingest'; payload: string }
  | { op: 'checkins'; labels: CheckinSpec[] }
  | { op: 'settle' }
  | { op: 'snapshot' }
  | { op: 'encode'; sample: number }
  | { op: 'stop' };

// ---- the edge (child) ------------------------------------------------------------------------------------
async function child(): Promise<void> {
  let rssPeak = 0;
  let heapPeak = 0;
  let externalPeak = 0;
  setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapTotal);
    externalPeak = Math.max(externalPeak, m.external);
  }, 50).unref();
  const dataDir = mkdtempSync(join(tmpdir(), 'esl-bench-edge-resources-'));
  const config = noRadioConfig(dataDir, WORKERS !== 'auto' ? { rendering: { workers: Number(WORKERS) } } : {});
  const daemon = await startDaemon(config, { log: createLogger({ level: 'error' }), listenHttp: false });
  startMemTrace(() => daemon);
  const pool = daemon.renderer instanceof RenderPool ? daemon.renderer : null;
  await pool?.ready();
  let mark = { cpu: process.cpuUsage(), t: performance.now() };
  let before = new Map<string, string | null>();
  const ids: string[] = [];
  const types = new Map<string, number>();

  async function handle(req: Request): Promise<unknown> {
    switch (req.op) {
      case 'begin':
        rssPeak = process.memoryUsage.rss();
        heapPeak = 0;
        externalPeak = 0;
        mark = { cpu: process.cpuUsage(), t: performance.now() };
        return null;
      case 'end': {
        const wallS = (performance.now() - mark.t) / 1000;
        const c = process.cpuUsage(mark.cpu);
        const cpuS = (c.user + c.system) / 1e6;
        const m = process.memoryUsage();
        rssPeak = Math.max(rssPeak, m.rss);
        const workers = pool ? await pool.workerStats() : [];
        return {
          edge_exec_argv: process.execArgv.join(' '),
          malloc_arena_max: process.env['MALLOC_ARENA_MAX'] ?? null,
          phase: req.phase,
          items: req.items,
          wall_s: +wallS.toFixed(2),
          cpu_s: +cpuS.toFixed(2),
          cores: wallS > 0 ? +(cpuS / wallS).toFixed(2) : 0,
          cpu_ms_per_item: req.items > 0 ? +((cpuS * 1000) / req.items).toFixed(3) : null,
          rss_peak_mb: mb(rssPeak),
          rss_mb: mb(m.rss),
          heap_total_peak_mb: mb(heapPeak),
          external_peak_mb: mb(externalPeak),
          heap_used_mb: mb(m.heapUsed),
          heap_total_mb: mb(m.heapTotal),
          external_mb: mb(m.external),
          array_buffers_mb: mb(m.arrayBuffers),
          images_cached: daemon.images.cachedImages,
          images_cached_mb: mb(daemon.images.cachedBytes),
          render_workers: workers.map((w) => ({ heap_used_mb: w.heapUsedMB, heap_total_mb: w.heapTotalMB, external_mb: w.externalMB, glyphs: w.glyphsCached })),
        };
      }
      case 'ingest': {
        const r = await daemon.intake.ingest(req.payload, { channel: 'local' });
        if (r.reply.status !== 'applied') throw new Error(`batch: ${JSON.stringify(r.reply)}`);
        return null;
      }
      case 'checkins':
        // Each label checks in once, as it would when it first hears its AP: its type, its AP, a blank panel.
        for (const l of req.labels) {
          ids.push(l.labelId);
          types.set(l.labelId, l.labelType);
          await daemon.dispatcher.labelCheckin(l.apId, firstContactCheckin(l.labelId, l.labelType));
        }
        daemon.planner.kick();
        return null;
      case 'settle':
        await daemon.settle();
        return ids.filter((id) => typeof daemon.labels.get(id)?.desiredHash === 'string').length;
      case 'snapshot':
        before = new Map(ids.map((id) => [id, daemon.labels.get(id)?.desiredHash ?? null]));
        return null;
      case 'encode': {
        // The dispatcher's share of a repricing: both pictures from the image store and the §6.6.1 choice.
        const caps = ApCapability.RLE | ApCapability.ZLIB | ApCapability.CTX | ApCapability.DELTA_XOR | ApCapability.DELTA_REGION;
        const step = Math.max(1, Math.floor(ids.length / req.sample));
        let n = 0;
        let bytes = 0;
        for (let i = 0; i < ids.length; i += step) {
          const id = ids[i]!;
          const target = await daemon.images.load(daemon.labels.get(id)!.desiredHash!);
          const base = await daemon.images.load(before.get(id)!);
          if (!target || !base) continue;
          bytes += chooseEncoding({ ap: caps, label: LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX }, labelTypeById(types.get(id)!)!, target.planes, base.planes).payload.length;
          n++;
        }
        return { n, bytesPerLabel: n > 0 ? Math.round(bytes / n) : null };
      }
      case 'stop':
        await daemon.stop();
        rmSync(dataDir, { recursive: true, force: true });
        setTimeout(() => process.exit(0), 20);
        return null;
    }
  }
  process.on('message', (m: { id: number; req: Request }) => {
    handle(m.req).then(
      (result) => process.send!({ id: m.id, ok: true, result }),
      (err: unknown) => process.send!({ id: m.id, ok: false, error: String((err as Error).stack ?? err) }),
    );
  });
  process.on('disconnect', () => process.exit(1));
  process.send!({ id: 0, ok: true, result: 'ready' });
}

// ---- the benchmark (parent) ------------------------------------------------------------------------------
async function parent(): Promise<void> {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', ...process.argv.slice(2)], { execArgv: EDGE_FLAGS, env: { ...process.env, ...(PLAIN ? {} : EDGE_ENV) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  const ready = new Promise<void>((resolve) => waiting.set(0, { resolve: () => resolve(), reject: () => undefined }));
  proc.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (m.ok) w?.resolve(m.result);
    else w?.reject(new Error(m.error));
  });
  proc.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new Error(`edge exited with code ${code}`));
  });
  const call = <T>(req: Request): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      proc.send({ id, req });
    });
  const emit = (o: Record<string, unknown>) => {
    const line = JSON.stringify({ bench: 'edge-resources', labels: LABELS, aps: APS, ...(TAG ? { tag: TAG } : {}), workers: WORKERS, ...o });
    process.stdout.write(`${line}\n`);
    if (RESULTS) appendFileSync(RESULTS, `${line}\n`);
  };
  const phase = async (name: string, items: number, work: () => Promise<void>) => {
    await call({ op: 'begin' });
    await work();
    emit(await call<Record<string, unknown>>({ op: 'end', phase: name, items }));
  };

  await ready;
  await phase('idle', 0, () => new Promise((r) => setTimeout(r, 2_000)));
  const store = buildStore({ labels: LABELS, aps: APS, seed: SEED });
  await phase('fill', LABELS, async () => {
    for (const b of seedBatches(store, Date.now())) await call({ op: 'ingest', payload: JSON.stringify(b) });
    const specs = store.file.labels.map((l) => ({ labelId: l.labelId, apId: l.apId, labelType: l.labelType }));
    for (let i = 0; i < specs.length; i += 5_000) await call({ op: 'checkins', labels: specs.slice(i, i + 5_000) });
    const planned = await call<number>({ op: 'settle' });
    if (planned !== LABELS) throw new Error(`only ${planned}/${LABELS} labels were planned after the fill`);
  });
  await call({ op: 'snapshot' });
  await phase('repricing', LABELS, async () => {
    for (const b of repricingBatches(store, 2)) await call({ op: 'ingest', payload: JSON.stringify(b) });
    await call({ op: 'settle' });
  });
  let encoded: { n: number; bytesPerLabel: number | null } = { n: 0, bytesPerLabel: null };
  await call({ op: 'begin' });
  encoded = await call({ op: 'encode', sample: ENCODE_SAMPLE });
  emit({ ...(await call<Record<string, unknown>>({ op: 'end', phase: 'encode', items: encoded.n })), payload_bytes_per_label: encoded.bytesPerLabel });
  await call({ op: 'stop' });
}

if (process.argv.includes('--child')) await child();
else await parent();
