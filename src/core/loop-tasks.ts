/**
 * D143 How long the edge's own synchronous stretches hold the event loop, per task, as fixed-bucket histograms
 * (StageLatency, D80): /metrics exports them as `esl_edge_loop_task_ms{stage=…}`, and bench/full-store diffs two
 * snapshots to count, per update, the stretches over 20 and 50 ms.
 *
 * Why: the loop's delay p99 (issue 16 asks ≤ 20 ms) is set by its longest iterations, and a CPU profile cannot tell
 * where one iteration ends. Each value is one stretch that runs without yielding: a slice of a dispatch pass
 * (selection over the APs and the sends it starts), a turn of the delta preparer, a slice of a planner chunk after its
 * pictures come back from the render workers, and its stretch after its transaction commits; a slice of a large
 * batch's schema check at intake (D148). Wall time from
 * `performance.now()`: a scheduling measurement, not domain time, so it does not go through the injected clock.
 */
import { performance } from 'node:perf_hooks';
import { StageLatency } from './stage-latency.js';

export const LOOP_TASKS = ['dispatch_pass', 'delta_turn', 'plan_rendered', 'plan_committed', 'ap_frame', 'image_sweep', 'intake_batch'] as const;
export type LoopTask = (typeof LOOP_TASKS)[number];

/** Called with each stretch as it ends: its task, its end (`loopMs()`) and its length, ms. */
export type StretchObserver = (task: LoopTask, endMs: number, ms: number) => void;

/**
 * The histograms, and one optional observer of every stretch (D147): bench/full-store's edge uses it to tell which
 * tasks filled the loop iterations that held its timers longest; nothing in the daemon observes.
 */
export class LoopTaskTiming extends StageLatency<LoopTask> {
  private observer: StretchObserver | null = null;
  /** D147 The loop turn every sliced task of this daemon shares (LoopSlices built with this timing use it). */
  readonly turn = new LoopTurn();

  observe(fn: StretchObserver | null): void {
    this.observer = fn;
  }

  override add(stage: LoopTask, ms: number, n = 1): void {
    super.add(stage, ms, n);
    this.observer?.(stage, loopMs(), ms);
  }
}
export const createLoopTaskTiming = (): LoopTaskTiming => new LoopTaskTiming(LOOP_TASKS);

/** Wall ms now, for a task's start (`timing.add(task, loopMs() - t0)` at its end). */
export const loopMs = (): number => performance.now();

/** Lets the event loop run what is ready (I/O, timers) before the caller goes on: one setImmediate turn. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wall ms a sliced task runs before it yields to the event loop (D143). */
export const SLICE_MS = 8;
/** D147 Wall ms a slice runs at least, even in a turn other tasks have spent: each task's share of a busy turn. */
export const MIN_SLICE_MS = 2;

/**
 * D147 One turn of the event loop as the sliced tasks share it. Each task used to run its own SLICE_MS before it
 * yielded, so a turn in which a dispatch slice, a planner slice and a delta-preparer turn all ran held the loop for
 * the three together: bench/full-store's loop gaps (bench/loop-gaps.ts) found the gaps over 30 ms of a reference
 * repricing made of ~2 such stretches each, GC and frames besides. Now a task also yields once the turn has run
 * `budgetMs` since the first sliced task asked in it, so the tasks of one turn share one budget.
 *
 * Where a turn ends: the first ask of a turn queues a setImmediate that clears the count, and Node runs the
 * immediates queued during a check phase in the next one (lib/internal/timers.js processImmediate), so the count
 * covers from that first ask until the loop has gone round. No task starves behind the others: a slice runs at
 * least MIN_SLICE_MS (and its first item) whatever the turn has spent.
 */
export class LoopTurn {
  private startedAt = -1;
  private readonly clear = (): void => {
    this.startedAt = -1;
  };

  constructor(
    readonly budgetMs = SLICE_MS,
    /** Wall ms; a test gives its own. The slices sharing this turn read their time from it too. */
    readonly now: () => number = loopMs,
  ) {}

  /** Whether this turn has run its budget; the first call of a turn starts its count and says no. */
  spent(): boolean {
    const t = this.now();
    if (this.startedAt < 0) {
      this.startedAt = t;
      setImmediate(this.clear);
      return false;
    }
    return t - this.startedAt >= this.budgetMs;
  }
}

/**
 * A task cut into slices of about SLICE_MS: the caller asks `due()` between two items and, when it says so, awaits
 * `next()`, which records the slice that ended and yields one turn. `end()` records the last slice. With a shared
 * LoopTurn (the timing's, by default) a slice also ends when the loop's turn has spent its budget, once the slice
 * has run MIN_SLICE_MS (D147).
 */
export class LoopSlices {
  private readonly now: () => number;
  private start: number;
  slices = 0;

  constructor(
    private readonly timing: LoopTaskTiming | undefined,
    private readonly task: LoopTask,
    private readonly budgetMs = SLICE_MS,
    private readonly turn: LoopTurn | undefined = timing?.turn,
  ) {
    this.now = turn?.now ?? loopMs;
    this.start = this.now();
  }

  due(): boolean {
    const ran = this.now() - this.start;
    if (ran >= this.budgetMs) return true;
    // Asked at every item, so the turn's count starts with the first sliced item of the turn.
    const spent = this.turn?.spent() ?? false;
    return spent && ran >= Math.min(MIN_SLICE_MS, this.budgetMs);
  }

  async next(): Promise<void> {
    this.end();
    await yieldToLoop();
    this.slices++;
    this.start = this.now();
  }

  end(): void {
    this.timing?.add(this.task, this.now() - this.start);
  }
}
