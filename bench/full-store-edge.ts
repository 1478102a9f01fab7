/**
 * The edge of the full-store benchmark, in a process of its own (forked by bench/full-store.ts, contract in
 * full-store-ipc.ts): the real daemon — embedded aedes broker, sqlite file in a temp dir, renderer, dispatcher —
 * on a RealClock at the benchmark's speed, so that its timers (retry backoff, transfer timeouts, promotion
 * boundaries, EDGE_HELLO.serverTimeMs) live on the simulator's timeline. Its log goes to stderr.
 *
 * It measures itself: CPU seconds (process.cpuUsage deltas), RSS sampled every 100 ms, and the event-loop delay.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load-config.js';
import { createLogger } from '../src/core/logger.js';
import { errorMessage } from '#contracts';
import { startDaemon, type Daemon } from '../src/daemon.js';
import { RealClock } from '../simulator/src/real-clock.js';
import { edgeClock } from '../demo/src/edge-clock.js';
import { startMemTrace } from './edge-mem-trace.js';
import { LoopGapProbe } from './loop-gaps.js';
import { STAGE_BUCKETS_MS, type StageHistogram } from '../src/core/stage-latency.js';
import { hostNow, type EdgeMessage, type EdgeReplyMessage, type EdgeRequest, type EdgeResults, type EdgeStartRequest, type EdgeUsage } from './full-store-ipc.js';

const MB = 1024 * 1024;
let daemon: Daemon | undefined;
let clock: RealClock | undefined;
let dataDir: string | undefined;
let stopping = false;

// ---- self-measurement ----------------------------------------------------------------------------------
let cpuMark = process.cpuUsage();
let rssPeak = process.memoryUsage.rss();
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 100).unref();
let elu = performance.eventLoopUtilization();
/**
 * D143 The main thread's GC pauses since the last reset, by kind: each one holds the event loop for its whole length,
 * so they bound what the loop-delay p99 can reach whatever the edge's own callbacks do.
 */
const GC_KINDS: Record<number, keyof EdgeUsage['gc']['byKind']> = {
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
let gcPauses: { kind: keyof EdgeUsage['gc']['byKind']; start: number; ms: number }[] = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push({ kind: GC_KINDS[(e as unknown as { detail?: { kind: number } }).detail?.kind ?? 0] ?? 'minor', start: e.startTime, ms: e.duration });
}).observe({ entryTypes: ['gc'] });

function gcUsage(): EdgeUsage['gc'] {
  const ms = gcPauses.map((p) => p.ms).sort((a, b) => a - b);
  const byKind: EdgeUsage['gc']['byKind'] = { minor: [0, 0, 0], major: [0, 0, 0], incremental: [0, 0, 0], weakcb: [0, 0, 0] };
  for (const p of gcPauses) {
    const k = byKind[p.kind];
    k[0]++;
    k[1] = Math.round(k[1] + p.ms);
    k[2] = Math.max(k[2], Math.round(p.ms * 10) / 10);
  }
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    pauses: ms.length,
    totalMs: Math.round(ms.reduce((a, b) => a + b, 0)),
    p99Ms: r1(pct(ms, 0.99)),
    maxMs: r1(ms.at(-1) ?? 0),
    over20Ms: ms.filter((x) => x > 20).length,
    over50Ms: ms.filter((x) => x > 50).length,
    byKind,
  };
}
/**
 * Every access to the edge's database waits in one FIFO queue (src/persistence/database.ts): when the edge falls
 * behind, the queue grows long before the event loop looks busy. A trivial read every second measures that wait at
 * instants independent of the edge's own jobs. Not more often: the probe is a job too, and while the event loop is
 * busy each one holds the queue 20–30 ms; at one every 250 ms it held ~10 % of the queue in a repricing (D137).
 */
let dbWait: number[] = [];
setInterval(() => {
  if (daemon === undefined || stopping) return;
  const t0 = performance.now();
  daemon.db.get('SELECT 1').then(
    () => dbWait.push(performance.now() - t0),
    () => undefined,
  );
}, 1_000).unref();
/** D147 What the loop's gaps over 30 and 60 ms were made of (fed by the daemon's LoopTaskTiming observer). */
const gaps = new LoopGapProbe();
/** D143 The loop tasks' timing at the last reset. */
let loopMark: StageHistogram[] | undefined;
/** D137 The queue's own timing (every job's wait and hold) at the last reset. */
let queueMark: StageHistogram[] | undefined;
let queueMarkAt = performance.now();

startMemTrace(() => daemon);

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** The upper bound of the bucket holding the p-quantile of `counts` (STAGE_BUCKETS_MS; beyond the last: its bound). */
function bucketQuantile(counts: number[], p: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  let cum = 0;
  for (let i = 0; i < counts.length; i++) {
    cum += counts[i]!;
    if (cum >= p * total) return STAGE_BUCKETS_MS[Math.min(i, STAGE_BUCKETS_MS.length - 1)]!;
  }
  return STAGE_BUCKETS_MS.at(-1)!;
}

/** Busy share and job-weighted wait p99 of the database queue since the last reset. */
function queueUsage(db: Daemon['db']): { dbBusy: number; dbJobWaitP99Ms: number } {
  const now = db.queueTiming.snapshot();
  const before = new Map((queueMark ?? []).map((h) => [h.stage, h]));
  const diff = (stage: string) => {
    const h = now.find((x) => x.stage === stage)!;
    const b = before.get(stage);
    return { counts: h.counts.map((c, i) => c - (b?.counts[i] ?? 0)), sumMs: h.sumMs - (b?.sumMs ?? 0) };
  };
  const hold = diff('hold');
  const [u, n] = [diff('urgent_wait'), diff('normal_wait')];
  const wallMs = performance.now() - queueMarkAt;
  return { dbBusy: wallMs > 0 ? hold.sumMs / wallMs : 0, dbJobWaitP99Ms: bucketQuantile(u.counts.map((c, i) => c + n.counts[i]!), 0.99) };
}

/** D143 Per loop task since the last reset: [stretches, over 20 ms, over 50 ms, sum ms, p99 bucket bound ms]. */
function loopTaskUsage(d: Daemon): EdgeUsage['loopTasks'] {
  const before = new Map((loopMark ?? []).map((h) => [h.stage, h]));
  const i20 = STAGE_BUCKETS_MS.indexOf(20);
  const i50 = STAGE_BUCKETS_MS.indexOf(50);
  const out: EdgeUsage['loopTasks'] = {};
  for (const h of d.loopTasks.snapshot()) {
    const b = before.get(h.stage);
    const counts = h.counts.map((c, i) => c - (b?.counts[i] ?? 0));
    const over = (ix: number) => counts.slice(ix + 1).reduce((a, c) => a + c, 0);
    out[h.stage] = [counts.reduce((a, c) => a + c, 0), over(i20), over(i50), Math.round(h.sumMs - (b?.sumMs ?? 0)), bucketQuantile(counts, 0.99)];
  }
  return out;
}

function usage(reset: boolean): EdgeUsage {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  const cpu = process.cpuUsage(cpuMark);
  const waits = [...dbWait].sort((a, b) => a - b);
  const u: EdgeUsage = {
    cpuS: (cpu.user + cpu.system) / 1e6,
    rssPeakMb: Math.round(rssPeak / MB),
    rssMaxProcessMb: Math.round(process.resourceUsage().maxRSS / 1024),
    lagP50Ms: lag.percentile(50) / 1e6,
    lagP99Ms: lag.percentile(99) / 1e6,
    lagMaxMs: lag.max / 1e6,
    eventLoopUtilization: performance.eventLoopUtilization(elu).utilization,
    gc: gcUsage(),
    loopTasks: loopTaskUsage(requireDaemon()),
    loopGaps: gaps.report(gcPauses.map((p) => [p.start, p.ms])),
    dbWaitP50Ms: pct(waits, 0.5),
    dbWaitP99Ms: pct(waits, 0.99),
    dbWaitMaxMs: waits.at(-1) ?? 0,
    ...queueUsage(requireDaemon().db),
    dispatch: { ...requireDaemon().dispatcher.stats },
    images: { ...requireDaemon().images.stats },
    labelWrites: { ...requireDaemon().labels.flushStats },
  };
  if (reset) {
    cpuMark = process.cpuUsage();
    rssPeak = process.memoryUsage.rss();
    lag.reset();
    elu = performance.eventLoopUtilization();
    gcPauses = [];
    gaps.reset();
    loopMark = requireDaemon().loopTasks.snapshot();
    dbWait = [];
    queueMark = requireDaemon().db.queueTiming.snapshot();
    queueMarkAt = performance.now();
  }
  return u;
}

function requireDaemon(): Daemon {
  if (daemon === undefined) throw new Error('the edge has not been started');
  return daemon;
}

async function start(req: EdgeStartRequest): Promise<EdgeResults['start']> {
  // Same simulated timeline as the parent's clock (full-store-ipc.ts).
  clock = new RealClock({ speed: req.speed, startMs: req.simNow + (hostNow() - req.hostNow) * req.speed });
  dataDir = mkdtempSync(join(tmpdir(), 'esl-bench-full-store-'));
  const config = parseConfig({
    store: { chain: req.chain, id: req.store },
    dataDir,
    log: { level: req.logLevel },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: req.users },
    http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'bench', token: 'bench-token-0123456789abcdef' }] },
    ...(req.dispatch !== undefined ? { dispatch: req.dispatch } : {}),
    ...(req.rendering !== undefined ? { rendering: req.rendering } : {}),
  });
  daemon = await startDaemon(config, { clock: edgeClock(clock), log: createLogger({ level: req.logLevel, destination: pino.destination(2) }), listenHttp: false });
  daemon.loopTasks.observe((task, endMs, ms) => gaps.stretch(task, endMs, ms));
  usage(true);
  return { mqttUrl: daemon.mqttUrl, pid: process.pid };
}

async function handle(req: EdgeRequest): Promise<unknown> {
  switch (req.op) {
    case 'start':
      return start(req);
    case 'ingest': {
      const d = requireDaemon();
      const startedAt = clock!.now();
      const r = await d.intake.ingest(req.payload, { channel: 'local' });
      return { reply: r.reply, startedAt, appliedAt: clock!.now() } satisfies EdgeResults['ingest'];
    }
    case 'query':
      return requireDaemon().db.all(req.sql, req.params ?? []);
    case 'now':
      return { now: clock?.now() ?? Number.NaN } satisfies EdgeResults['now'];
    case 'transfers': {
      const t: EdgeResults['transfers'] = { sending: 0, staged: 0, delivered: 0 };
      for (const l of requireDaemon().labels.withTransfers()) if (l.transferState !== null) t[l.transferState]++;
      return t;
    }
    case 'labels': {
      const d = requireDaemon();
      const now = clock!.now();
      return req.ids.map((id) => {
        const l = d.labels.get(id);
        if (!l) return { id };
        const rel = (t: number | null) => (t === null || t < 0 ? null : Math.round(t - now));
        return {
          id,
          needsSend: l.needsSend,
          transferState: l.transferState,
          transferAp: l.transferAp,
          apId: l.apId,
          wakeAtMs: rel(l.wakeAt),
          wakeToldMs: l.wakeToldMs,
          nextAttemptInMs: rel(l.nextAttemptAt),
          attempts: l.attempts,
        };
      }) satisfies EdgeResults['labels'];
    }
    case 'usage':
      return usage(req.reset);
    case 'stop':
      stopping = true;
      await daemon?.stop();
      clock?.stop();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
      setTimeout(() => process.exit(0), 50);
      return { stopped: true } satisfies EdgeResults['stop'];
  }
}

function reply(m: EdgeReplyMessage): void {
  // The parent may be gone by the time an answer is ready; sending then would throw.
  if (process.connected) process.send!(m);
}

process.on('message', (m: EdgeMessage) => {
  handle(m.req).then(
    (result) => reply({ id: m.id, ok: true, result }),
    (err: unknown) => reply({ id: m.id, ok: false, error: errorMessage(err) }),
  );
});
// The parent is gone: do not linger with a broker and a database open (at most 30 s for an orderly stop).
process.on('disconnect', () => {
  const exit = () => {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    process.exit(stopping ? 0 : 1);
  };
  setTimeout(exit, 30_000).unref();
  if (!stopping) void daemon?.stop().catch(() => undefined).finally(exit);
});
