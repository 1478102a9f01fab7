/**
 * A pool of render worker threads behind the planner's Renderer interface (render + templateNames), so layout and
 * rasterising leave the event loop (issue 16 item 3; docs/decisions.md D30–D31). Each worker owns a LabelRenderer
 * (render-worker.ts); the same code renders the same bytes and hash there as on the main thread.
 *
 * - Batching: render() calls made in the same turn of the event loop are sent as one message per worker (a share
 *   of at most BATCH jobs each), and answered with one message whose plane buffers are transferred, not copied.
 * - A worker that dies (crash, OOM kill, terminate) loses no job: its jobs in flight go back to the front of the
 *   queue, alone, for a fresh worker; a job that was in flight in `maxAttempts` dead workers fails with
 *   RENDER_WORKER_FAILED, which the planner handles like any render failure (it tries the label again later).
 * - D148 It encodes deltas too (DeltaEncoder, for the dispatcher's delta preparer): the same queue, workers, batching
 *   and retries; a batch holds jobs of one kind, and names each distinct picture once.
 * - A worker holds the process open only while it has jobs (ref/unref), so a forgotten pool never hangs an exit;
 *   close() terminates every worker and fails what is queued with SHUTTING_DOWN.
 */
import './font-env.js'; // fontconfig's environment must be the process's before a worker loads libvips (font-env.ts)
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { EncodedImage, LabelType } from '#protocol';
import type { Logger } from '../../core/logger.js';
import type { ThreadPriority } from '../../core/thread-priority.js';
import type { DeltaEncoder, DeltaJob } from '../ports.js';
import { EdgeError, EdgeErrorCode, EslError, isErrorCode, type LabelContent } from '#contracts';
import type { RenderedLabel, RenderOptions } from './label-renderer.js';
import { BUNDLED_TEMPLATE_DIR } from './package-root.js';
import { loadTemplates } from './template-loader.js';
import type { EncodeBatch, EncodeResult, WorkerMessage, WorkerResult, WorkerStats } from './render-worker.js';

/** Jobs per message: enough to amortise a message (~0.05 ms) against a render (~0.5 ms), small enough to balance. */
const BATCH = 32;
/** Jobs in flight per worker; the rest wait in the pool's queue (bounded memory, fair to retried jobs). */
const MAX_IN_FLIGHT = 64;
/** Workers that exit before they are ready, in a row, before queued jobs are failed instead of waited for. */
const MAX_START_FAILURES = 3;

export interface RenderPoolOptions {
  /** Worker threads, ≥ 1 (0 means "no pool": the daemon then renders on the main thread). */
  workers: number;
  /** Template directories, as for LabelRenderer.create (default: the bundled ones). */
  templateDirs?: string[];
  /** A job is tried in at most this many workers that die under it (default 2: one retry on a fresh worker). */
  maxAttempts?: number;
  /** V8 young generation per worker, MB (default WORKER_YOUNG_GENERATION_MB). */
  youngGenerationMb?: number;
  /** V8 old generation per worker, MB (default WORKER_OLD_GENERATION_MB). */
  oldGenerationMb?: number;
  /** D150 Nice steps each worker thread runs below the thread that starts it (default 0: the same priority). */
  nice?: number;
  log?: Logger;
  /** Called whenever a batch is posted to a worker (tests and benchmarks observe the pool with it). */
  onDispatch?: (threadId: number, jobs: number) => void;
}

export interface RenderJob {
  content: LabelContent;
  labelType: LabelType;
  opts?: RenderOptions;
}

/**
 * Most workers "auto" starts. One worker renders the reference store's 50,000 labels in well under a minute, far
 * inside the radio's bound; each more costs ~45 MB at start and its own caches (D31), against a 300 MB budget.
 */
export const MAX_AUTO_WORKERS = 2;

/** The default worker count: one per core but one (for the event loop), at least 1, at most MAX_AUTO_WORKERS. */
export function defaultRenderWorkers(cores: number = availableParallelism()): number {
  return Math.min(MAX_AUTO_WORKERS, Math.max(1, cores - 1));
}

interface RenderEntry extends RenderJob {
  kind: 'render';
  id: number;
  attempts: number;
  resolve: (r: RenderedLabel) => void;
  reject: (e: Error) => void;
}

/** D148 A delta to encode (DeltaEncoder). */
interface EncodeEntry {
  kind: 'encode';
  id: number;
  attempts: number;
  job: DeltaJob;
  resolve: (r: EncodedImage) => void;
  reject: (e: Error) => void;
}

type Job = RenderEntry | EncodeEntry;

interface Slot {
  worker: Worker;
  ready: boolean;
  /** What the worker made of its priority (D150), once ready. */
  priority: ThreadPriority | undefined;
  inflight: Map<number, Job>;
  /** Waiting stats requests; a worker answers messages in order. */
  statsWaiting: { resolve: (s: WorkerStats) => void; reject: (e: Error) => void }[];
}

/**
 * A worker's V8 young generation, MB. Rendering allocates many short-lived objects; V8's default lets each isolate's
 * semi-spaces grow to tens of MB, which is RSS the edge pays per worker. bench/render-pool measured 8 MB costing no
 * throughput (D31).
 */
export const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * A worker's V8 old generation, MB. A worker's live heap is ~35 MB after thousands of labels (fonts, templates, glyph
 * masks), but V8 sizes an isolate's old generation by its own heuristics and let one grow to 180 MB of mostly
 * garbage over the reference store's 50,000 labels (bench/edge-resources, D40). The limit makes it collect instead.
 * Should a worker ever need more, it dies with ERR_WORKER_OUT_OF_MEMORY and the pool retries its jobs on a fresh one.
 */
export const WORKER_OLD_GENERATION_MB = 96;

/** Where the worker entry is: the compiled .js next to this module, or (source mode) the .ts via a tsx bootstrap. */
function startWorker(templateDirs: string[] | undefined, youngGenerationMb: number, oldGenerationMb: number, nice: number): Worker {
  const self = import.meta.url;
  const resourceLimits = { maxYoungGenerationSizeMb: youngGenerationMb, maxOldGenerationSizeMb: oldGenerationMb };
  if (self.endsWith('.ts')) {
    const entry = new URL('./render-worker.ts', self).href;
    return new Worker(new URL('./render-worker-dev.mjs', self), { workerData: { entry, templateDirs, nice }, resourceLimits });
  }
  return new Worker(new URL('./render-worker.js', self), { workerData: { templateDirs, nice }, resourceLimits });
}

function toError(r: { name: string; code: string | undefined; message: string }): Error {
  // A catalogued error crosses the thread boundary as name, code and message; it comes back as the same EslError.
  if (isErrorCode(r.code)) return new EslError(r.code, r.message);
  const e = new Error(r.message);
  e.name = r.name;
  if (r.code) Object.assign(e, { code: r.code });
  return e;
}

export class RenderPool implements DeltaEncoder {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private pumpScheduled = false;
  private closed = false;
  private startFailures = 0;
  /** Workers being started (ready() waits for them). */
  private readonly starting = new Set<Promise<void>>();
  private readonly maxAttempts: number;
  readonly counters = { rendered: 0, encoded: 0, failed: 0, retried: 0, workerExits: 0 };

  private constructor(
    private readonly opts: RenderPoolOptions,
    private readonly templates: string[],
  ) {
    this.maxAttempts = opts.maxAttempts ?? 2;
  }

  /**
   * Checks the templates on this thread (a template error fails the start, as with LabelRenderer) and starts the
   * workers without waiting for them: jobs queue until a worker is ready (ready() waits). A worker takes ~0.3 s to
   * load compiled, seconds from source under tsx; the daemon's start need not wait for that.
   */
  static async create(opts: RenderPoolOptions): Promise<RenderPool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError(`RenderPool needs ≥ 1 worker, got ${opts.workers}`);
    const templates = await loadTemplates(opts.templateDirs ?? [BUNDLED_TEMPLATE_DIR]);
    const pool = new RenderPool(opts, [...templates.keys()].sort());
    for (let i = 0; i < opts.workers; i++) pool.startOne();
    return pool;
  }

  /** Resolves when every worker has started (benchmarks and tests); rejects if one fails to. */
  async ready(): Promise<void> {
    await Promise.all(this.starting);
  }

  get size(): number {
    return this.opts.workers;
  }

  templateNames(): string[] {
    return [...this.templates];
  }

  render(content: LabelContent, labelType: LabelType, opts: RenderOptions = {}): Promise<RenderedLabel> {
    if (this.closed) return Promise.reject(new EdgeError(EdgeErrorCode.SHUTTING_DOWN, 'render pool closed'));
    // New work after failed starts gets new attempts to start a worker (see pump()).
    if (this.startFailures >= MAX_START_FAILURES) this.startFailures = 0;
    return new Promise<RenderedLabel>((resolve, reject) => {
      this.queue.push({ kind: 'render', id: this.nextId++, content, labelType, opts, attempts: 0, resolve, reject });
      this.schedulePump();
    });
  }

  /**
   * D148 Encodes deltas in the workers (protocol §6.6.1, as `chooseEncoding` on the main thread): one settled result
   * per job, in order. The pictures are copied to the worker; a job fails as a render does (its worker died in
   * `maxAttempts` workers, or the pool closed).
   */
  encodeDeltas(jobs: readonly DeltaJob[]): Promise<PromiseSettledResult<EncodedImage>[]> {
    if (this.closed) return Promise.allSettled(jobs.map(() => Promise.reject(new EdgeError(EdgeErrorCode.SHUTTING_DOWN, 'render pool closed'))));
    if (this.startFailures >= MAX_START_FAILURES) this.startFailures = 0;
    const settled = jobs.map(
      (job) =>
        new Promise<EncodedImage>((resolve, reject) => {
          this.queue.push({ kind: 'encode', id: this.nextId++, job, attempts: 0, resolve, reject });
        }),
    );
    this.schedulePump();
    return Promise.allSettled(settled);
  }

  /** Renders many labels in as few messages as possible; one settled result per job, in order. */
  renderMany(jobs: readonly RenderJob[]): Promise<PromiseSettledResult<RenderedLabel>[]> {
    return Promise.allSettled(jobs.map((j) => this.render(j.content, j.labelType, j.opts)));
  }

  /** Live figures (metrics, benchmarks). */
  stats(): { workers: number; ready: number; inFlight: number; queued: number } & RenderPool['counters'] {
    return {
      workers: this.slots.length,
      ready: this.slots.filter((s) => s.ready).length,
      inFlight: this.slots.reduce((n, s) => n + s.inflight.size, 0),
      queued: this.queue.length,
      ...this.counters,
    };
  }

  /** Each ready worker's heap and glyph cache (answered after the batches it already has). */
  async workerStats(): Promise<(WorkerStats & { threadId: number })[]> {
    const ready = this.slots.filter((s) => s.ready);
    return Promise.all(
      ready.map(
        (s) =>
          new Promise<WorkerStats & { threadId: number }>((resolve, reject) => {
            s.statsWaiting.push({ resolve: (st) => resolve({ ...st, threadId: s.worker.threadId }), reject });
            s.worker.ref(); // an idle worker is unref()ed: the answer must keep the process alive
            s.worker.postMessage({ type: 'stats' });
          }),
      ),
    );
  }

  /** Thread ids of the live workers. */
  threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  /** D150 Each ready worker's priority as it set it (its OS thread id and nice value, or why it could not). */
  priorities(): { threadId: number; priority: ThreadPriority }[] {
    return this.slots.flatMap((s) => (s.priority ? [{ threadId: s.worker.threadId, priority: s.priority }] : []));
  }

  /** Ends one worker as a crash would (its jobs are retried); tests use it, and an operator may. */
  async terminateWorker(threadId: number): Promise<void> {
    await this.slots.find((s) => s.worker.threadId === threadId)?.worker.terminate();
  }

  /** Terminates every worker; queued and in-flight jobs fail with SHUTTING_DOWN. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const err = () => new EdgeError(EdgeErrorCode.SHUTTING_DOWN, 'render pool closed');
    for (const j of this.queue.splice(0)) j.reject(err());
    const workers = this.slots.map((s) => s.worker);
    for (const s of this.slots.splice(0)) {
      for (const j of s.inflight.values()) j.reject(err());
      s.inflight.clear();
    }
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private startOne(): void {
    const started = this.spawn();
    this.starting.add(started);
    started.then(
      () => this.starting.delete(started),
      (err: unknown) => {
        this.starting.delete(started);
        this.opts.log?.error({ evt: 'render.worker_start_failed', err: (err as Error).message }, 'render worker did not start');
      },
    );
  }

  private spawn(): Promise<void> {
    const nice = this.opts.nice ?? 0;
    const worker = startWorker(this.opts.templateDirs, this.opts.youngGenerationMb ?? WORKER_YOUNG_GENERATION_MB, this.opts.oldGenerationMb ?? WORKER_OLD_GENERATION_MB, nice);
    const slot: Slot = { worker, ready: false, priority: undefined, inflight: new Map(), statsWaiting: [] };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      let startError: Error | undefined;
      worker.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          slot.ready = true;
          slot.priority = m.priority;
          if (!m.priority.ok && nice > 0) {
            // Rendering works the same; only the event loop may wait longer for a core (D150).
            this.opts.log?.warn({ evt: 'render.worker_priority_unchanged', threadId: worker.threadId, reason: m.priority.reason }, 'render worker runs at the event loop\'s priority');
          }
          // Held open while starting (a caller may await nothing else), then only while it has work.
          if (slot.inflight.size === 0) worker.unref();
          this.startFailures = 0;
          resolve();
          this.schedulePump();
        } else if (m.type === 'failed') {
          startError = toError(m);
        } else if (m.type === 'stats') {
          slot.statsWaiting.shift()?.resolve(m.stats);
          if (slot.inflight.size === 0 && slot.statsWaiting.length === 0) worker.unref();
        } else this.onResults(slot, m.results); // 'results' (renders) and 'encoded' (D148)
      });
      worker.on('error', (e) => {
        startError ??= e;
        this.opts.log?.warn({ evt: 'render.worker_error', threadId: worker.threadId, err: e.message }, 'render worker failed');
      });
      worker.on('exit', (code) => {
        const wasReady = slot.ready;
        this.onExit(slot, code);
        if (!wasReady) reject(startError ?? new EdgeError(EdgeErrorCode.RENDER_WORKER_FAILED, `render worker exited with code ${code} before it was ready`));
      });
    });
  }

  /** A worker's answers to a batch of either kind: each job settled once, by its id. */
  private onResults(slot: Slot, results: readonly (WorkerResult | EncodeResult)[]): void {
    for (const r of results) {
      const job = slot.inflight.get(r.id);
      if (!job) continue;
      slot.inflight.delete(r.id);
      if (!r.ok) {
        this.counters.failed++;
        job.reject(toError(r));
      } else if (job.kind === 'encode' && 'encoded' in r) {
        this.counters.encoded++;
        job.resolve(r.encoded);
      } else if (job.kind === 'render' && 'planes' in r) {
        this.counters.rendered++;
        job.resolve({ labelTypeId: r.labelTypeId, page: r.page, template: r.template, planes: r.planes, hash: r.hash, warnings: r.warnings });
      } else {
        this.counters.failed++;
        job.reject(new EdgeError(EdgeErrorCode.RENDER_WORKER_FAILED, `render worker answered job ${r.id} with a result of the other kind`));
      }
    }
    if (slot.inflight.size === 0) slot.worker.unref();
    this.schedulePump();
  }

  private onExit(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // closed
    this.slots.splice(i, 1);
    this.counters.workerExits++;
    if (!slot.ready) this.startFailures++;
    for (const w of slot.statsWaiting.splice(0)) w.reject(new EdgeError(EdgeErrorCode.RENDER_WORKER_FAILED, `render worker exited with code ${code}`));
    const lost = [...slot.inflight.values()];
    slot.inflight.clear();
    this.opts.log?.warn({ evt: 'render.worker_exit', threadId: slot.worker.threadId, code, jobsInFlight: lost.length }, 'render worker exited; its jobs are retried');
    // Oldest first, at the front: a retried job is not starved by the queue behind it.
    const retry: Job[] = [];
    for (const j of lost) {
      j.attempts++;
      if (j.attempts >= this.maxAttempts) {
        this.counters.failed++;
        j.reject(new EdgeError(EdgeErrorCode.RENDER_WORKER_FAILED, `render worker died ${j.attempts} time(s) while rendering this label (exit code ${code})`));
      } else {
        this.counters.retried++;
        retry.push(j);
      }
    }
    this.queue.unshift(...retry.sort((a, b) => a.id - b.id));
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    // setImmediate: render() calls of the same turn (a planner chunk) join one batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    // Replace dead workers; after MAX_START_FAILURES failed starts in a row, fail what waits instead of spinning,
    // and start none until new work arrives (the planner retries its labels later, and render() resets the count).
    while (this.slots.length < this.opts.workers && this.startFailures < MAX_START_FAILURES) this.startOne();
    if (this.startFailures >= MAX_START_FAILURES && !this.slots.some((s) => s.ready)) {
      for (const j of this.queue.splice(0)) {
        this.counters.failed++;
        j.reject(new EdgeError(EdgeErrorCode.RENDER_WORKER_FAILED, 'no render worker could be started'));
      }
      return;
    }
    while (this.queue.length > 0) {
      const ready = this.slots.filter((s) => s.ready && s.inflight.size < MAX_IN_FLIGHT);
      if (ready.length === 0) return;
      const slot = ready.reduce((a, b) => (b.inflight.size < a.inflight.size ? b : a));
      // A retried job travels alone, so a job that kills its worker cannot take a batch down with it twice.
      const share = this.queue[0]!.attempts > 0 ? 1 : Math.min(BATCH, MAX_IN_FLIGHT - slot.inflight.size, Math.ceil(this.queue.length / ready.length));
      // A batch holds jobs of one kind (D148): the kind of the first in the queue.
      const kind = this.queue[0]!.kind;
      const jobs: Job[] = [];
      while (jobs.length < share && this.queue.length > 0 && this.queue[0]!.kind === kind && (jobs.length === 0 || this.queue[0]!.attempts === 0)) jobs.push(this.queue.shift()!);
      for (const j of jobs) slot.inflight.set(j.id, j);
      slot.worker.ref();
      if (kind === 'render') {
        const render = jobs as RenderEntry[];
        slot.worker.postMessage({ type: 'render', jobs: render.map((j) => ({ id: j.id, content: j.content, labelType: j.labelType, opts: j.opts })) });
      } else slot.worker.postMessage(encodeMessage(jobs as EncodeEntry[]));
      this.opts.onDispatch?.(slot.worker.threadId, jobs.length);
    }
  }
}

/** D148 A batch of deltas as the worker takes it: each distinct picture (by identity) copied once. */
function encodeMessage(jobs: readonly EncodeEntry[]): EncodeBatch {
  const pictures: Uint8Array[] = [];
  const index = new Map<Uint8Array, number>();
  const at = (p: Uint8Array) => {
    let i = index.get(p);
    if (i === undefined) {
      i = pictures.push(p) - 1;
      index.set(p, i);
    }
    return i;
  };
  return {
    type: 'encode',
    pictures,
    jobs: jobs.map(({ id, job }) => ({ id, target: at(job.target), base: at(job.base), labelType: job.labelType, ap: job.apCapabilities, decoders: job.decoders, targetHash: job.targetHash, baseHash: job.baseHash })),
  };
}

/**
 * The daemon's pool from `rendering.workers`: "auto" is defaultRenderWorkers(), 0 means no pool (null: render on
 * the main thread, as before D30).
 */
export async function startRenderPool(workers: number | 'auto', opts: Omit<RenderPoolOptions, 'workers'>): Promise<RenderPool | null> {
  const n = workers === 'auto' ? defaultRenderWorkers() : workers;
  if (n === 0) return null;
  const pool = await RenderPool.create({ ...opts, workers: n });
  opts.log?.info({ evt: 'render.pool_started', workers: n, nice: opts.nice ?? 0 }, 'render worker pool started');
  return pool;
}
