/**
 * Runs password-hash verifications one at a time, clean requests first (docs/decisions.md D27).
 *
 * An scrypt check costs ~50–500 ms of a core (more on a busy gateway). Run concurrently, a flood of wrong tokens
 * would fill libuv's thread pool and both cores, and a correct client would wait behind all of it — and so would the
 * event loop serving everyone else. One check at a time leaves a core for the event loop; two queues put requests
 * from sources and tokens with no recent failure ahead of those that failed, so a correct client waits for at most the
 * check under way. The suspect queue is bounded; beyond it a request is refused at once (429).
 */
export class VerifyGate {
  private running = false;
  private readonly clean: (() => void)[] = [];
  private readonly suspect: (() => void)[] = [];

  constructor(private readonly maxSuspectWaiting = 32) {}

  /** Runs `fn` when its turn comes; resolves `null` without running it when the suspect queue is full. */
  async run<T>(suspect: boolean, fn: () => Promise<T>): Promise<T | null> {
    if (this.running || this.clean.length > 0 || this.suspect.length > 0) {
      if (suspect && this.suspect.length >= this.maxSuspectWaiting) return null;
      await new Promise<void>((resolve) => (suspect ? this.suspect : this.clean).push(resolve));
    }
    this.running = true;
    try {
      return await fn();
    } finally {
      const next = this.clean.shift() ?? this.suspect.shift();
      if (next) next();
      else this.running = false;
    }
  }

  get waiting(): number {
    return this.clean.length + this.suspect.length;
  }
}
