/**
 * Runs a pass of some work when asked, one pass at a time: asks that arrive during a pass coalesce into one more
 * pass after it, so a burst of kicks (every event, check-in and timer of a busy store) costs at most the running pass
 * plus one (D90). A pass that throws is reported and, when `retryAfterErrorMs` is set, tried again after that long
 * on the injected clock (D6); later kicks run passes as before. After stop() nothing new starts, and stop() resolves
 * once the running pass has ended (a pass should look at `stopped` between its steps to end soon).
 *
 * The label planner and the rule engine use it; the dispatcher keeps its own loop, which also spaces its passes
 * `minPassIntervalMs` apart (D16).
 */
import type { Clock, TimerHandle } from './clock.js';

export interface CoalescingRunnerOptions {
  /** One pass of the work. */
  pass: () => Promise<void>;
  /** A pass threw (log it); called once per failed pass. */
  onError: (err: unknown) => void;
  clock: Clock;
  /** After a failed pass, run again after this many ms without being kicked; 0 = only when kicked. */
  retryAfterErrorMs?: number;
}

export class CoalescingRunner {
  private running: Promise<void> | null = null;
  private again = false;
  private isStopped = false;
  private retryTimer: TimerHandle | null = null;
  /** Passes started so far. */
  passes = 0;

  constructor(private readonly opts: CoalescingRunnerOptions) {}

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Asks for a pass: now when none runs, else once more after the running one (however often asked). */
  kick(): void {
    if (this.isStopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.passes++;
    this.running = this.run().finally(() => {
      this.running = null;
      if (this.again && !this.isStopped) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves when no pass runs and none is due to follow (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No pass starts from now; resolves when the running one (if any) has ended. */
  stop(): Promise<void> {
    this.isStopped = true;
    this.again = false;
    if (this.retryTimer) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    return this.idle();
  }

  private async run(): Promise<void> {
    try {
      await this.opts.pass();
    } catch (err) {
      this.opts.onError(err);
      this.retryLater();
    }
  }

  private retryLater(): void {
    const ms = this.opts.retryAfterErrorMs ?? 0;
    if (ms <= 0 || this.isStopped) return;
    if (this.retryTimer) this.opts.clock.clearTimeout(this.retryTimer);
    this.retryTimer = this.opts.clock.setTimeout(() => {
      this.retryTimer = null;
      this.kick();
    }, ms);
  }
}
