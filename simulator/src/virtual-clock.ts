/**
 * Discrete-event virtual clock: time stands still until the owner advances it; events run in timestamp order,
 * each with `now()` equal to its own due time. Used by tests and benchmarks to simulate hours in seconds.
 *
 * Host I/O (MQTT, serial) still happens in real time. `advance` and `runUntil` therefore yield to the host event
 * loop every `yieldEvery` events, so that frames in flight are delivered while simulated time moves on.
 */
import { EventHeap } from './event-heap.js';
import { DEFAULT_VIRTUAL_START_MS, type SimClock, type TimerHandle } from './sim-clock.js';
import { EslError } from '#contracts';

export interface VirtualClockOptions {
  startMs?: number;
  /** Yield to host I/O after this many events (default 256). */
  yieldEvery?: number;
}

const yieldToHost = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class VirtualClock implements SimClock {
  private current: number;
  private readonly heap = new EventHeap();
  private readonly yieldEvery: number;
  private running = false;
  /** Set by events that resolve a promise: its continuation must see the event's time. */
  private yieldRequested = false;
  /** Events run since construction (benchmarks report it). */
  eventsRun = 0;

  constructor(opts: VirtualClockOptions = {}) {
    this.current = opts.startMs ?? DEFAULT_VIRTUAL_START_MS;
    this.yieldEvery = Math.max(1, opts.yieldEvery ?? 256);
  }

  now(): number {
    return this.current;
  }

  /** Live events waiting in the queue. */
  get pending(): number {
    return this.heap.size;
  }

  schedule(atMs: number, fn: () => void): TimerHandle {
    return this.heap.push(Math.max(atMs, this.current), fn);
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.schedule(this.current + Math.max(0, delayMs), fn);
  }

  /** Resolves at now + ms; the clock lets the awaiting code run before it moves on to later events. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) =>
      this.setTimeout(() => {
        resolve();
        this.yieldRequested = true;
      }, ms),
    );
  }

  /** Runs every event due within the next `ms` simulated milliseconds, then sets the time to now + ms. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new EslError('CLOCK_INVALID_ARGUMENT', `advance(${ms}): ms must be >= 0`);
    const target = this.current + ms;
    await this.run(target, () => false);
    this.current = target;
    await yieldToHost();
  }

  /**
   * Runs events in order until `predicate()` holds (checked before the first and after every event) or the next
   * event lies beyond `timeoutMs` of simulated time. Returns whether the predicate held.
   */
  async runUntil(predicate: () => boolean, opts: { timeoutMs?: number } = {}): Promise<boolean> {
    const limit = this.current + (opts.timeoutMs ?? 3_600_000);
    const ok = await this.run(limit, predicate);
    if (!ok && !predicate()) {
      this.current = Math.max(this.current, limit);
      return false;
    }
    return true;
  }

  private async run(limit: number, predicate: () => boolean): Promise<boolean> {
    if (this.running) throw new EslError('CLOCK_BUSY', 'the virtual clock is already being advanced');
    this.running = true;
    try {
      let sinceYield = 0;
      for (;;) {
        if (predicate()) return true;
        const next = this.heap.popDue(limit);
        if (next === undefined) return false;
        this.current = next.at;
        this.eventsRun++;
        next.run();
        if (++sinceYield >= this.yieldEvery || this.yieldRequested) {
          sinceYield = 0;
          this.yieldRequested = false;
          await yieldToHost();
        }
      }
    } finally {
      this.running = false;
    }
  }
}
