/**
 * Failed MQTT logins slow down, per source address and per username (docs/decisions.md D25).
 *
 * - Per source: after `freeFailures` failures, the next login from that address is checked only once
 *   baseDelayMs·2^(n−1) (capped at maxDelayMs) has passed since the last failure, and at most
 *   `maxPendingPerSource` logins of one address are in progress at once (more are refused unchecked with CONNACK 3
 *   "Server unavailable", §3.2.2.3). A guesser's rate per address thus falls to one guess per maxDelayMs, and a
 *   flood cannot queue unbounded work (each check of a hashed secret costs ~50 ms of scrypt).
 * - Per username: the answer to a *failed* login for a username under attack is held back by the same growing delay
 *   (a tarpit). A correct login is checked and answered at once, so a flood of wrong passwords for `ap-01` from
 *   elsewhere never locks the real AP out — the failure mode of account lock-outs.
 *
 * A success resets the source's count. Counts are forgotten `forgetAfterMs` after their last failure, and the
 * tables are bounded (oldest evicted), so a spray of addresses or names cannot grow memory.
 */
import type { Clock } from '../core/clock.js';

export interface LoginThrottleOptions {
  freeFailures: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxPendingPerSource: number;
  forgetAfterMs: number;
  /** Entries per table before the oldest are evicted. */
  maxEntries?: number;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  pending: number;
}

export type GateResult = { ok: true; waitedMs: number } | { ok: false; reason: 'busy' };

export class LoginThrottle {
  private readonly sources = new Map<string, Entry>();
  private readonly users = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: LoginThrottleOptions,
  ) {}

  /** Delay owed after `failures` failures. */
  delayFor(failures: number): number {
    const over = failures - this.opts.freeFailures;
    if (over <= 0) return 0;
    return Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.min(over - 1, 30));
  }

  private entry(table: Map<string, Entry>, key: string, create: boolean): Entry | undefined {
    let e = table.get(key);
    const now = this.clock.now();
    if (e && e.pending === 0 && now - e.lastFailureAt > this.opts.forgetAfterMs) {
      table.delete(key);
      e = undefined;
    }
    if (!e && create) {
      const max = this.opts.maxEntries ?? 10_000;
      if (table.size >= max) {
        // Maps iterate in insertion order: evict the oldest idle entry.
        for (const [k, v] of table) {
          if (v.pending === 0) {
            table.delete(k);
            break;
          }
        }
      }
      e = { failures: 0, lastFailureAt: 0, pending: 0 };
      table.set(key, e);
    }
    return e;
  }

  /** How long a login from `source` must wait before it is checked (0 for a source without recent failures). */
  sourceWaitMs(source: string): number {
    const e = this.entry(this.sources, source, false);
    if (!e) return 0;
    return Math.max(0, e.lastFailureAt + this.delayFor(e.failures) - this.clock.now());
  }

  /** Admits a login from `source` once its delay has passed; call `done` with the outcome afterwards. */
  async gate(source: string): Promise<GateResult> {
    const e = this.entry(this.sources, source, true)!;
    if (e.pending >= this.opts.maxPendingPerSource) return { ok: false, reason: 'busy' };
    e.pending++;
    const wait = this.sourceWaitMs(source);
    if (wait > 0) await new Promise<void>((resolve) => this.clock.setTimeout(resolve, wait));
    return { ok: true, waitedMs: wait };
  }

  /**
   * Records the outcome of a gated login. Returns how long to hold back the answer to a failure (the per-username
   * tarpit); 0 for a success. A failure keeps its place among the source's pending logins until `release`, called
   * when the held answer has gone out, so the tarpit also bounds one source's rate.
   */
  done(source: string, username: string | undefined, ok: boolean): number {
    const now = this.clock.now();
    const s = this.entry(this.sources, source, true)!;
    if (ok) {
      s.pending = Math.max(0, s.pending - 1);
      s.failures = 0;
      return 0;
    }
    s.failures++;
    s.lastFailureAt = now;
    if (username === undefined) return 0;
    const u = this.entry(this.users, username, true)!;
    u.failures++;
    u.lastFailureAt = now;
    return this.delayFor(u.failures);
  }

  /** Ends a failed login's place among its source's pending logins (after its held answer went out). */
  release(source: string): void {
    const s = this.sources.get(source);
    if (s) s.pending = Math.max(0, s.pending - 1);
  }

  /** Table sizes (for diagnostics). */
  stats(): { sources: number; users: number } {
    return { sources: this.sources.size, users: this.users.size };
  }
}
