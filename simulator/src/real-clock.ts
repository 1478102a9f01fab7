/**
 * Real-time clock with a speed factor: speed 10 runs the simulated world ten times faster than the wall clock
 * (a 30 s wake interval passes in 3 s). One host timer is armed for the earliest event of the heap.
 *
 * `eventTime` (the simulator's own world, D118): inside an event, now() is the event's due time, not the wall clock's
 * reading when the host timer got round to it. The simulated radio then loses no air time to host scheduling: a
 * frame that ends at T is answered at T + turnaround even when this process ran the event a few ms late, where before
 * every hop of an exchange added the host's timer latency (at least 1 ms of wall time, × speed) to the channel's
 * hold. Outside events (a message from the edge) now() is the wall clock's reading, as before. Not for an edge's
 * clock: its timers firing late is the edge's own lateness, which a benchmark must see.
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
  /** now() inside an event is the event's due time (see above; default false). */
  eventTime?: boolean;
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
  private readonly eventTime: boolean;
  /** The due time of the event running now (eventTime only), else undefined. */
  private current: number | undefined;
  /** Inside fire(): events scheduled now wait for its one arm() at the end (D162). */
  private firing = false;

  constructor(opts: RealClockOptions = {}) {
    this.speed = opts.speed ?? 1;
    if (!(this.speed > 0)) throw new EslError('CLOCK_INVALID_ARGUMENT', `speed must be > 0, got ${opts.speed}`);
    this.hostNow = opts.hostNow ?? (() => performance.timeOrigin + performance.now());
    this.startHost = this.hostNow();
    this.startSim = opts.startMs ?? this.startHost;
    this.eventTime = opts.eventTime ?? false;
  }

  now(): number {
    if (this.current !== undefined) return this.current;
    return this.wallNow();
  }

  /** The wall clock's reading in simulated ms, inside an event too: how late this process runs its events. */
  wallNow(): number {
    return this.startSim + (this.hostNow() - this.startHost) * this.speed;
  }

  schedule(atMs: number, fn: () => void): TimerHandle {
    if (this.stopped) throw new EslError('CLOCK_STOPPED', 'the clock was stopped');
    const event = this.heap.push(atMs, fn);
    // While fire() runs its due events, most of them schedule the next (a frame's end, a label's next wake): arming
    // the host timer then would create a Node timer that the turn's end clears again; fire() arms once when it is done.
    if (atMs < this.timerAt && !this.firing) this.arm();
    return event;
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
    this.firing = true;
    try {
      for (let next = this.heap.popDue(now); next !== undefined; next = this.heap.popDue(now)) {
        if (this.eventTime) this.current = next.at;
        try {
          next.run();
        } finally {
          this.current = undefined;
        }
        if (this.stopped) return;
      }
    } finally {
      this.firing = false;
      // An event that throws must not stop the world: later events still run.
      this.arm();
    }
  }
}
