/**
 * Simulated time. Everything in the radio world (wake-ups, air time, panel refreshes, timeouts) is scheduled on a
 * `SimClock`, never on host timers directly, so the same simulator runs in real time (demo, optionally sped up)
 * or in discrete-event virtual time (tests, benchmarks: an hour of store traffic in seconds).
 *
 * Both implementations keep ONE event queue (`event-heap.ts`: two binary heaps, near and far, D164) and at most one host timer; 50,000
 * sleeping labels are 50,000 heap entries, not 50,000 timers.
 */

export interface TimerHandle {
  cancel(): void;
}

export interface SimClock {
  /** Current simulated time, epoch milliseconds. */
  now(): number;
  /** Runs `fn` at simulated time `atMs` (at once if that is in the past). */
  schedule(atMs: number, fn: () => void): TimerHandle;
  /** Runs `fn` after `delayMs` simulated milliseconds. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number): Promise<void>;
  /**
   * D118 The wall clock's reading in simulated ms, inside an event too, for a clock whose now() is the event's due
   * time there (RealClock with eventTime): how late the process runs its events. Absent: now() is that reading.
   */
  wallNow?(): number;
}

/** Monday 6 January 2025, 08:00 UTC: a fixed start for virtual runs, so that they are reproducible. */
export const DEFAULT_VIRTUAL_START_MS = Date.UTC(2025, 0, 6, 8, 0, 0);
