/**
 * Simulated time that advances only while the processes it watches are idle (D22). `speed` simulated ms pass per
 * wall ms in which the event loop waits for I/O or timers and no thread of the watched processes (this one, and
 * e.g. an edge daemon in a child process) runs or waits for a CPU. CPU work — rendering, sqlite, JSON, the
 * simulator's own events — therefore takes no simulated time, and a machine shared with other work makes a run
 * longer in wall time without changing what happens in simulated time. Tests then assert on simulated time only.
 *
 * Two sources, both cheap and both from the kernel or libuv, not guessed:
 *  - libuv's idle time of this event loop (performance.eventLoopUtilization): simulated time moves with it between
 *    samples, so it is smooth and monotonic;
 *  - every `samplePeriodMs`, /proc/{pid}/task/{tid}/schedstat of each watched process (ns on a CPU and ns waiting on
 *    a run queue, per thread; Linux ≥ 2.6.23). Work beyond this loop's own busy time (thread pool, worker threads,
 *    GC threads, a child process, the loop being runnable but not running) becomes a debt that later idle time pays
 *    off before simulated time moves again. Where schedstat is not readable only the first source is used.
 *
 * A RealClock at the same speed is the limit of this clock on an infinitely fast, otherwise idle machine.
 */
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { EventHeap } from './event-heap.js';
import { type SimClock, type TimerHandle } from './sim-clock.js';
import { EslError } from '#contracts';

const MAX_HOST_DELAY_MS = 2_147_483_647;
/** At most this much thread time (wall ms) is carried from one sample to the next. */
const MAX_CARRY_MS = 2_000;

export interface PacedClockOptions {
  /** Simulated ms per idle wall ms (default 1). */
  speed?: number;
  /** Simulated epoch ms at start (default: the host's wall clock). */
  startMs?: number;
  /** How often the watched processes' threads are sampled (wall ms, default 20). */
  samplePeriodMs?: number;
  /** Further processes whose work stops simulated time (e.g. a daemon in a child process); read at every sample. */
  watchPids?: () => readonly number[];
}

/**
 * Σ over the threads of a process of (ns on a CPU + ns runnable but waiting), read from schedstat. The files stay open
 * between samples and are read with pread at offset 0 (a /proc file is generated afresh at each read from its start):
 * one syscall per thread and sample instead of open, fstat, read and close — at 50 samples a second over a dozen or
 * more threads the sampler was a sixth of a paced test's busy main thread under the profiler (D140).
 */
class ThreadTimes {
  private readonly fds = new Map<string, number>();
  private readonly buf = Buffer.alloc(96);

  constructor(private readonly pid: number | 'self') {}

  /** The sum now, or null when the process's task list is not readable (not Linux, or the process is gone). */
  read(): number | null {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${this.pid}/task`);
    } catch {
      this.close();
      return null;
    }
    const seen = new Set(tids);
    for (const [tid, fd] of this.fds) {
      if (!seen.has(tid)) {
        closeQuietly(fd);
        this.fds.delete(tid);
      }
    }
    let ns = 0;
    for (const tid of tids) {
      let fd = this.fds.get(tid);
      try {
        if (fd === undefined) this.fds.set(tid, (fd = openSync(`/proc/${this.pid}/task/${tid}/schedstat`, 'r')));
        const n = readSync(fd, this.buf, 0, this.buf.length, 0);
        const text = this.buf.toString('latin1', 0, n);
        const sp = text.indexOf(' ');
        ns += Number(text.slice(0, sp)) + Number(text.slice(sp + 1, text.indexOf(' ', sp + 1)));
      } catch {
        // The thread ended between readdir and read.
        if (fd !== undefined) closeQuietly(fd);
        this.fds.delete(tid);
      }
    }
    return ns;
  }

  close(): void {
    for (const fd of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already gone.
  }
}

export class PacedClock implements SimClock {
  readonly speed: number;
  private readonly heap = new EventHeap();
  private readonly watchPids: () => readonly number[];
  private readonly samplePeriodMs: number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private readonly sampler: NodeJS.Timeout;
  private stopped = false;
  /** Simulated time at the last sample, and the loop's idle ms then. */
  private simAt: number;
  private idleAt: number;
  private wallAt: number;
  private activeAt: number;
  /** Wall ms of work seen by the last samples that idle time has not paid off yet. */
  private debt = 0;
  /** Thread ms reported beyond the intervals they were reported in, spread over the following ones. */
  private carryMs = 0;
  /** Last thread ns per watched pid, and the open schedstat files of each. */
  private readonly threadsAt = new Map<number | 'self', number>();
  private readonly threadTimes = new Map<number | 'self', ThreadTimes>();
  private lastNow: number;
  /** Wall ms credited as simulated time so far, and wall ms spent (the ratio shows how loaded the run was). */
  readonly stats = { creditedWallMs: 0, debtWallMs: 0 };

  constructor(opts: PacedClockOptions = {}) {
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new EslError('CLOCK_INVALID_ARGUMENT', `speed must be > 0, got ${opts.speed}`);
    this.watchPids = opts.watchPids ?? (() => []);
    this.samplePeriodMs = Math.max(1, opts.samplePeriodMs ?? 20);
    this.simAt = opts.startMs ?? performance.timeOrigin + performance.now();
    this.lastNow = this.simAt;
    const elu = performance.eventLoopUtilization();
    this.idleAt = elu.idle;
    this.activeAt = elu.active;
    this.wallAt = performance.now();
    this.sampleThreads();
    this.sampler = setInterval(() => this.sample(), this.samplePeriodMs);
    this.sampler.unref();
  }

  /**
   * Wall ms of work seen but not yet paid off by idle time: simulated time stands still until it is. The kernel
   * adds a thread's run-queue wait only when the thread gets a CPU, so under heavy load work shows up in lumps,
   * after idle time that was already credited; it is then owed here.
   */
  get owedWallMs(): number {
    return this.debt;
  }

  now(): number {
    // A late sampler (a loaded machine delays timers) must not let provisional credit pile up: sample here then.
    if (performance.now() - this.wallAt > this.samplePeriodMs) this.sample();
    const idle = performance.eventLoopUtilization().idle - this.idleAt;
    const t = this.simAt + this.speed * Math.max(0, idle - this.debt);
    // Never backwards, whatever the samples say.
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /** How many wall ms of work the watched threads did since the last sample, beyond this loop's active time. */
  private sampleThreads(): number {
    // After stop() nothing is paced any more, and no file is opened again.
    if (this.stopped) return 0;
    let ns = 0;
    const pids = ['self' as const, ...this.watchPids()];
    for (const [pid, times] of this.threadTimes) {
      if (!pids.includes(pid)) {
        times.close();
        this.threadTimes.delete(pid);
        this.threadsAt.delete(pid);
      }
    }
    for (const pid of pids) {
      let times = this.threadTimes.get(pid);
      if (times === undefined) this.threadTimes.set(pid, (times = new ThreadTimes(pid)));
      const cur = times.read();
      if (cur === null) {
        this.threadsAt.delete(pid);
        continue;
      }
      const prev = this.threadsAt.get(pid);
      this.threadsAt.set(pid, cur);
      // A new pid (a restarted child): its work before this sample was not seen; count from here.
      if (prev !== undefined && cur >= prev) ns += cur - prev;
    }
    return ns / 1e6;
  }

  private sample(): void {
    const elu = performance.eventLoopUtilization();
    const wall = performance.now();
    const dIdle = elu.idle - this.idleAt;
    const dActive = elu.active - this.activeAt;
    const dWall = wall - this.wallAt;
    // Busy = the loop's own active time or the threads' work, whichever is larger, at most the interval. Thread
    // time beyond the interval is carried to the next ones (bounded): the kernel reports a run-queue wait only when
    // the thread gets a CPU, in lumps larger than an interval; parallel threads also sum to more than the wall.
    this.carryMs = Math.min(MAX_CARRY_MS, this.carryMs + this.sampleThreads());
    const threadsMs = Math.min(dWall, this.carryMs);
    this.carryMs -= threadsMs;
    const extra = Math.max(0, threadsMs - dActive);
    // That work overlapped this interval's idle time: it is paid from it first, the rest from later idle time.
    // now() may have handed out part of this interval's idle time already; it never goes back (lastNow) and
    // stands still until simAt catches up.
    const owed = this.debt + extra;
    const credit = Math.max(0, dIdle - owed);
    this.simAt += this.speed * credit;
    this.stats.creditedWallMs += credit;
    this.stats.debtWallMs += extra;
    this.debt = Math.max(0, owed - dIdle);
    this.idleAt = elu.idle;
    this.activeAt = elu.active;
    this.wallAt = wall;
  }

  schedule(atMs: number, fn: () => void): TimerHandle {
    if (this.stopped) throw new EslError('CLOCK_STOPPED', 'the clock was stopped');
    const event = this.heap.push(atMs, fn);
    if (atMs < this.timerAt) this.arm();
    return event;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.schedule(this.now() + Math.max(0, delayMs), fn);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Drops every pending event, the host timer and the sampler. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sampler);
    for (const times of this.threadTimes.values()) times.close();
    this.threadTimes.clear();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.clear();
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    const next = this.heap.peek();
    if (next === undefined || this.stopped) return;
    this.timerAt = next.at;
    // The earliest wall instant the event can be due (at full credit); if work stopped time meanwhile, fire()
    // finds it not yet due and arms again. At least 1 ms, so that a frozen clock does not spin.
    const ahead = (next.at - this.now()) / this.speed;
    const delay = ahead <= 0 ? 0 : Math.min(MAX_HOST_DELAY_MS, Math.max(1, ahead));
    this.timer = setTimeout(() => this.fire(), delay);
    // The simulator's sockets keep the process alive; a pending wake-up alone must not.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    try {
      for (let next = this.heap.popDue(this.now()); next !== undefined; next = this.heap.popDue(this.now())) {
        next.run();
        if (this.stopped) return;
      }
    } finally {
      // An event that throws must not stop the world: later events still run.
      this.arm();
    }
  }
}
