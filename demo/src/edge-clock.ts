/**
 * The edge's Clock (src/core/clock.ts) on a simulator clock, so that `startDaemon(config, { clock })` lives in the
 * simulator's time: with `RealClock({ speed: 40 })` the edge's retry backoff, transfer timeouts, heartbeat
 * supervision, ACK timeouts and retransmissions, audit ages and EDGE_HELLO.serverTimeMs run 40× faster, in step with
 * the APs and labels (every timer of the edge runs on its injected clock, D22).
 */
import type { Clock, TimerHandle as EdgeTimerHandle } from '../../src/core/clock.js';
import { type SimClock, type TimerHandle } from '../../simulator/src/sim-clock.js';
import { isEslError } from '#contracts';

export class EdgeClockAdapter implements Clock {
  private readonly timers = new Map<number, TimerHandle>();
  private nextId = 1;

  constructor(readonly sim: SimClock) {}

  /** Whole milliseconds: the edge stores times in INTEGER columns and sends them in u64 protocol fields. */
  now(): number {
    return Math.floor(this.sim.now());
  }

  setTimeout(fn: () => void, ms: number): EdgeTimerHandle {
    const id = this.nextId++;
    try {
      const handle = this.sim.setTimeout(() => {
        this.timers.delete(id);
        fn();
      }, Math.max(0, ms));
      this.timers.set(id, handle);
    } catch (err) {
      // The simulated world has ended (the clock was stopped while the edge shuts down): the timer never fires,
      // as a host timer would not fire in a process that is exiting.
      if (!(isEslError(err, 'CLOCK_STOPPED'))) throw err;
    }
    return { id };
  }

  clearTimeout(handle: EdgeTimerHandle): void {
    this.timers.get(handle.id)?.cancel();
    this.timers.delete(handle.id);
  }

  /** Timers armed and not yet fired or cleared (tests check that the edge cleans up). */
  get pending(): number {
    return this.timers.size;
  }
}

/** The edge's Clock on `sim` (pass the same clock to the StoreSimulator). */
export function edgeClock(sim: SimClock): EdgeClockAdapter {
  return new EdgeClockAdapter(sim);
}
