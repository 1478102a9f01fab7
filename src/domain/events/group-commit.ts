/**
 * Group commit (docs/decisions.md D20): work that arrives together is committed in ONE sqlite transaction, and each
 * submitter's promise resolves only after that transaction committed — so a caller that acknowledges on
 * resolution (MQTT PUBACK, HTTP response, reply topic) acknowledges only what is durable.
 *
 * A tick starts as soon as the database queue is free (no timer: the first job after a quiet spell commits alone,
 * at the latency of one transaction) and takes every job that arrived until its transaction actually began — while
 * one tick commits, the next one fills. So the batch size follows the load by itself: one job when idle, thousands
 * under a flood, bounded by `maxWeight`.
 *
 * A tick's BEGIN goes with its writes (D95): its one read (known ids, versions) runs inside the database queue, which
 * every writer of the file goes through, and its writes and COMMIT follow in one trip.
 *
 * One failing job must not fail the others: when a tick's transaction fails, it is rolled back and every job of it
 * is retried alone, in arrival order, each in its own transaction; only the job that fails alone is rejected.
 */
import type { Database, QueueLane, Tx } from '../../persistence/database.js';

/** Where a tick's jobs spent their time (D80): recorded when set, `n` jobs at once. */
export interface GroupCommitTiming {
  add(stage: 'queued_to_tick' | 'db_queue_wait' | 'tick_to_commit', ms: number, n?: number): void;
}

export interface GroupCommitOptions<J, R> {
  db: Database;
  /** Applies the jobs of one tick inside its transaction; returns one result per job, in order. */
  apply: (tx: Tx, jobs: J[]) => Promise<R[]>;
  /** A tick takes jobs until their summed weight reaches this (at least one job). Default 20,000. */
  maxWeight?: number;
  /** A job's weight, e.g. the number of events in a batch. Default 1. */
  weight?: (job: J) => number;
  /**
   * The database queue lane of the ticks (D66): `urgent` when a submitter acknowledges on resolution, so a tick goes
   * ahead of background work waiting for the connection. Default normal.
   */
  lane?: QueueLane;
  /** After each commit, before the submitters' promises resolve: what was committed and how long the tick took. */
  onCommit?: (jobs: readonly J[], results: readonly R[], ms: number) => void;
  /** Stage latencies (D80): submit → taken by a tick, waiting for the connection, taken → COMMIT done. */
  timing?: GroupCommitTiming;
}

interface Waiting<J, R> {
  job: J;
  /** performance.now() at submit. */
  at: number;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export interface GroupCommitStats {
  /** Transactions committed (a tick, or one job retried alone). */
  ticks: number;
  jobs: number;
  /** Largest number of jobs in one committed tick. */
  maxTickJobs: number;
  /** Ticks that failed and were retried job by job. */
  retriedAlone: number;
}

export class GroupCommitter<J, R> {
  private waiting: Waiting<J, R>[] = [];
  private running: Promise<void> | null = null;
  private readonly maxWeight: number;
  private readonly weight: (job: J) => number;
  private readonly lane: QueueLane;
  readonly stats: GroupCommitStats = { ticks: 0, jobs: 0, maxTickJobs: 0, retriedAlone: 0 };
  /**
   * performance.now() when the last transaction committed, read by a submitter right after its promise resolved:
   * every job of a tick resolves in one synchronous loop and the next commit needs I/O, so it is that job's commit.
   */
  lastCommitAt = 0;

  constructor(private readonly opts: GroupCommitOptions<J, R>) {
    this.maxWeight = opts.maxWeight ?? 20_000;
    this.weight = opts.weight ?? (() => 1);
    this.lane = opts.lane ?? 'normal';
  }

  /** Resolves with the job's result after the transaction that holds it committed; rejects if it could not commit. */
  submit(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ job, at: performance.now(), resolve, reject });
      if (!this.running) {
        // setImmediate, not a timer: it only lets the jobs of the same I/O round (e.g. the packets of one socket
        // read) join the first tick; it adds no wall-clock wait.
        this.running = new Promise<void>((r) => setImmediate(r)).then(() => this.drain());
      }
    });
  }

  /** Resolves when nothing is waiting or committing (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) await this.tick();
    } finally {
      this.running = null;
    }
  }

  private async tick(): Promise<void> {
    let taken: Waiting<J, R>[] = [];
    let results: R[];
    const t0 = performance.now();
    let tStart = t0;
    try {
      results = await this.opts.db.transaction(
        async (tx) => {
          // Taken only now that the transaction holds the database: everything that arrived meanwhile joins.
          taken = this.take();
          tStart = performance.now();
          this.recordTake(taken, tStart, tStart - t0);
          return this.opts.apply(
            tx,
            taken.map((w) => w.job),
          );
        },
        { lane: this.lane, begin: 'with-first-write' },
      );
    } catch (err) {
      if (taken.length === 0) {
        // The transaction never started (e.g. the database is closed): nothing can commit now.
        for (const w of this.waiting.splice(0)) w.reject(err);
        return;
      }
      if (taken.length === 1) {
        taken[0]!.reject(err);
        return;
      }
      this.stats.retriedAlone++;
      for (const w of taken) await this.alone(w);
      return;
    }
    this.committed(taken, results, t0, tStart);
  }

  private recordTake(taken: readonly Waiting<J, R>[], now: number, dbWaitMs: number): void {
    const timing = this.opts.timing;
    if (!timing) return;
    for (const w of taken) timing.add('queued_to_tick', now - w.at);
    timing.add('db_queue_wait', dbWaitMs, taken.length);
  }

  private async alone(w: Waiting<J, R>): Promise<void> {
    const t0 = performance.now();
    try {
      let tStart = t0;
      const results = await this.opts.db.transaction(
        (tx) => {
          tStart = performance.now();
          return this.opts.apply(tx, [w.job]);
        },
        { lane: this.lane, begin: 'with-first-write' },
      );
      this.committed([w], results, t0, tStart);
    } catch (err) {
      w.reject(err);
    }
  }

  private take(): Waiting<J, R>[] {
    let weight = 0;
    let n = 0;
    while (n < this.waiting.length && (n === 0 || weight + this.weight(this.waiting[n]!.job) <= this.maxWeight)) {
      weight += this.weight(this.waiting[n]!.job);
      n++;
    }
    return this.waiting.splice(0, n);
  }

  private committed(taken: Waiting<J, R>[], results: R[], t0: number, tStart: number): void {
    this.lastCommitAt = performance.now();
    this.opts.timing?.add('tick_to_commit', this.lastCommitAt - tStart, taken.length);
    this.stats.ticks++;
    this.stats.jobs += taken.length;
    this.stats.maxTickJobs = Math.max(this.stats.maxTickJobs, taken.length);
    try {
      this.opts.onCommit?.(
        taken.map((w) => w.job),
        results,
        performance.now() - t0,
      );
    } finally {
      taken.forEach((w, i) => w.resolve(results[i]!));
    }
  }
}
