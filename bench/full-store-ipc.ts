/**
 * The full-store benchmark runs the edge in a child process (bench/full-store-edge.ts) so that its CPU seconds and
 * RSS are the edge's alone and the edge and the simulator each get a core of their own. This file is the message
 * contract between the two and the parent's side of it (EdgeProcess).
 *
 * Time: both processes run a RealClock at the same speed on the same simulated timeline. The parent sends its
 * simulated time and its host time (performance.timeOrigin + performance.now(), the same epoch in every process) at
 * start; the child starts its clock at parentSim + (childHost − parentHost) × speed. `now` round trips measure the
 * remaining skew.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConfigInput } from '../src/config/config-schema.js';
import type { DispatchStats } from '../src/domain/dispatch/dispatcher.js';
import type { EventReply } from '#contracts';
import { EDGE_ENV, EDGE_NODE_FLAGS } from '../src/core/edge-runtime.js';
import type { GapMakeup, LongestGap } from './loop-gaps.js';

export interface EdgeStartRequest {
  op: 'start';
  speed: number;
  /** Parent's simulated time and host time at the same instant (clock alignment). */
  simNow: number;
  hostNow: number;
  chain: string;
  store: string;
  users: { username: string; password: string; role: 'ap'; apId: string }[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** Overrides of the edge's dispatch settings (none for the reference run: the edge's defaults are measured). */
  dispatch?: ConfigInput['dispatch'];
  /** Overrides of the edge's rendering settings (D150: `workerNice`), likewise. */
  rendering?: ConfigInput['rendering'];
}

export type EdgeRequest =
  | EdgeStartRequest
  | { op: 'ingest'; payload: string }
  | { op: 'query'; sql: string; params?: (string | number | null)[] }
  | { op: 'now' }
  /** Transfers under way, from the label store's memory (they are never written to sqlite, D128). */
  | { op: 'transfers' }
  /** D146 The label store's view of some labels (a straggler's state while it is still missing). */
  | { op: 'labels'; ids: string[] }
  | { op: 'usage'; reset: boolean }
  | { op: 'stop' };

export interface EdgeUsage {
  /** CPU seconds (user + system) of the edge process since the last reset. */
  cpuS: number;
  /** Peak RSS since the last reset, sampled every 100 ms of wall time. */
  rssPeakMb: number;
  /** Peak RSS of the process since it started (getrusage maxrss). */
  rssMaxProcessMb: number;
  /** Event-loop delay since the last reset, wall ms. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Fraction of wall time the edge's event loop was busy since the last reset. */
  eventLoopUtilization: number;
  /**
   * D143 The main thread's GC pauses since the last reset (wall ms): count, sum, p99, max, how many exceeded 20 and
   * 50 ms, and per kind [count, sum ms, max ms].
   */
  gc: {
    pauses: number;
    totalMs: number;
    p99Ms: number;
    maxMs: number;
    over20Ms: number;
    over50Ms: number;
    byKind: Record<'minor' | 'major' | 'incremental' | 'weakcb', [number, number, number]>;
  };
  /** D143 Per loop task since the last reset: [stretches, over 20 ms, over 50 ms, sum ms, p99 bucket bound ms]. */
  loopTasks: Record<string, [number, number, number, number, number]>;
  /** D147 The make-up of the loop's gaps over 30 and 60 ms, and the longest five one by one (bench/loop-gaps.ts). */
  loopGaps: { over30: GapMakeup; over60: GapMakeup; longest: LongestGap[] };
  /** Wait of a trivial read in the edge's database queue, sampled every second (every 250 ms before D137), wall ms. */
  dbWaitP50Ms: number;
  dbWaitP99Ms: number;
  dbWaitMaxMs: number;
  /** D137 Share of wall time the database queue was held by a job since the last reset. */
  dbBusy: number;
  /** D137 p99 of every job's wait for the database queue since the last reset (bucket bound), wall ms. */
  dbJobWaitP99Ms: number;
  dispatch: DispatchStats;
  /** The image store's memory cache since start: hits, misses (read back from sqlite), evictions (D19, D86). */
  images: { hits: number; misses: number; evicted: number };
  /** The label store's write-behind since start: batches committed and label rows written (D18, D128). */
  labelWrites: { batches: number; rows: number };
}

export interface EdgeResults {
  start: { mqttUrl: string; pid: number };
  ingest: { reply: EventReply; startedAt: number; appliedAt: number };
  query: Record<string, string | number | null>[];
  now: { now: number };
  transfers: { sending: number; staged: number; delivered: number };
  labels: Record<string, unknown>[];
  usage: EdgeUsage;
  stop: { stopped: true };
}

export type EdgeOp = EdgeRequest['op'];
export type EdgeMessage = { id: number; req: EdgeRequest };
export type EdgeReplyMessage = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** Host time on the epoch every process shares, with sub-millisecond resolution. */
export function hostNow(): number {
  return performance.timeOrigin + performance.now();
}

export class EdgeProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: EdgeReplyMessage) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`edge: ${m.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`edge process exited (code ${code}, signal ${signal})`));
      this.pending.clear();
    });
  }

  /** Forks bench/full-store-edge.js (next to this file once compiled); its stdout goes to our stderr. */
  static fork(execArgv: string[] = []): EdgeProcess {
    const here = dirname(fileURLToPath(import.meta.url));
    // The edge runs as in a store (src/core/edge-runtime.ts, D42).
    const child = fork(join(here, 'full-store-edge.js'), [], { stdio: ['ignore', 2, 'inherit', 'ipc'], execArgv: [...EDGE_NODE_FLAGS, ...execArgv], env: { ...process.env, ...EDGE_ENV } });
    return new EdgeProcess(child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  call<K extends EdgeOp>(req: Extract<EdgeRequest, { op: K }>): Promise<EdgeResults[K]> {
    if (this.exited) return Promise.reject(new Error('edge process has exited'));
    const id = this.nextId++;
    return new Promise<EdgeResults[K]>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as EdgeResults[K]), reject });
      this.child.send({ id, req } satisfies EdgeMessage);
    });
  }

  /** Asks the edge to stop (daemon.stop); kills it when it has not exited within `graceMs`. */
  async stop(graceMs = 30_000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once('exit', () => r()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.call({ op: 'stop' }).catch(() => undefined);
    await gone;
    clearTimeout(timer);
  }
}
