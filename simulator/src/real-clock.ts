/**
 * Real-time clock with a speed factor: speed 10 runs the simulated world ten times faster than the wall clock
 * (a 30 s wake interval passes in 3 s). One host timer is armed for the earliest event of the heap.
 */
import { EventHeap } from './event-heap.js';
import { type SimClock, type TimerHandle } from './sim-clock.js';
import { EslError } from '#contracts';

/** Node timers overflow above 2^31-1 ms. */
const MAX_HOST_DELAY_MS = 2_147_483_647;

export interface RealClockOptions {
  /** Simulated ms per wall-clock ms (default 1). */
  speed?: number;
  /** Simulated epoch ms at start (default: the host's wall clock). */
  startMs?: number;
  /** Host time sources, injectable for tests of the clock itself. */
  hostNow?: () => number;
}

export class RealClock implements SimClock {
  readonly speed: number;
  private readonly heap = new EventHeap();
  private readonly startSim: number;
  private readonly startHost: number;
  private readonly hostNow: () => number;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(opts: RealClockOptions = {}) {
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new EslError('CLOCK_INVALID_ARGUMENT', `speed must be > 0, got ${opts.speed}`);
    this.hostNow = opts.hostNow ?? (() => performance.timeOrigin + performance.now());
    this.startHost = this.hostNow();
    this.startSim = opts.startMs ?? this.startHost;
  }

  now(): number {
    return this.startSim + (this.hostNow() - this.startHost) * this.speed;
  }

  schedule(atMs: number, fn: () => void): TimerHandle {
    if (this.stopped) throw new EslError('CLOCK_STOPPED', 'the clock was stopped');
    const event = this.heap.push(atMs, fn);
    if (atMs < this.timerAt) this.arm();
    return { cancel: () => this.heap.cancel(event) };
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.schedule(this.now() + Math.max(0, delayMs), fn);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  /** Drops every pending event and the host timer. */
  stop(): void {
    this.stopped = true;
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
    const delay = Math.min(MAX_HOST_DELAY_MS, Math.max(0, (next.at - this.now()) / this.speed));
    this.timer = setTimeout(() => this.fire(), delay);
    // The simulator's sockets keep the process alive; a pending wake-up alone must not.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.now();
    try {
      for (let next = this.heap.peek(); next !== undefined && next.at <= now; next = this.heap.peek()) {
        this.heap.pop();
        next.run();
        if (this.stopped) return;
      }
    } finally {
      // An event that throws must not stop the world: later events still run.
      this.arm();
    }
  }
}
