/**
 * Slows down repeated authentication failures per key (a source address, a presented credential): the first
 * `freeFailures` failures cost nothing, every further one blocks the key for a delay that doubles up to `maxDelayMs`
 * (docs/decisions.md D27). A blocked key is refused at once, before any password hashing, so a flood of wrong
 * guesses costs the edge a map lookup each and cannot queue up scrypt work in front of a correct request.
 *
 * Time comes from the injected clock (tests drive it); memory is bounded (`maxKeys`, the oldest key is forgotten
 * first, and a key idle for `forgetAfterMs` starts afresh).
 */
import type { Clock } from './clock.js';

export interface FailureLimiterOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  forgetAfterMs: number;
  maxKeys: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimiterOptions = {
  freeFailures: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  forgetAfterMs: 15 * 60_000,
  maxKeys: 10_000,
};

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

export class FailureLimiter {
  private readonly keys = new Map<string, Entry>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly opts: FailureLimiterOptions = DEFAULT_FAILURE_LIMITS,
  ) {}

  /** Milliseconds the key must still wait; 0 when it may try now. */
  blockedForMs(key: string): number {
    const e = this.live(key);
    return e ? Math.max(0, e.blockedUntil - this.clock.now()) : 0;
  }

  /** Records a failure; returns the delay now imposed on the key (0 while it has free failures left). */
  fail(key: string): number {
    const now = this.clock.now();
    const e = this.live(key) ?? { failures: 0, lastFailureAt: now, blockedUntil: 0 };
    e.failures++;
    e.lastFailureAt = now;
    const over = e.failures - this.opts.freeFailures;
    const delay = over > 0 ? Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(over - 1, 30)) : 0;
    e.blockedUntil = now + delay;
    // Re-insert so the Map's order is least recently failed first: the eviction below drops the stalest key.
    this.keys.delete(key);
    this.keys.set(key, e);
    while (this.keys.size > this.opts.maxKeys) this.keys.delete(this.keys.keys().next().value!);
    return delay;
  }

  /** True when the key failed recently (it is remembered), blocked or not. */
  hasFailed(key: string): boolean {
    return this.live(key) !== undefined;
  }

  /** A success clears the key's record. */
  succeed(key: string): void {
    this.keys.delete(key);
  }

  get size(): number {
    return this.keys.size;
  }

  private live(key: string): Entry | undefined {
    const e = this.keys.get(key);
    if (e && this.clock.now() - e.lastFailureAt > this.opts.forgetAfterMs && this.clock.now() >= e.blockedUntil) {
      this.keys.delete(key);
      return undefined;
    }
    return e;
  }
}
