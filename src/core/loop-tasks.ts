/**
 * D143 How long the edge's own synchronous stretches hold the event loop, per task, as fixed-bucket histograms
 * (StageLatency, D80): /metrics exports them as `esl_edge_loop_task_ms{stage=…}`, and bench/full-store diffs two
 * snapshots to count, per update, the stretches over 20 and 50 ms.
 *
 * Why: the loop's delay p99 (issue 16 asks ≤ 20 ms) is set by its longest iterations, and a CPU profile cannot tell
 * where one iteration ends. Each value is one stretch that runs without yielding: a slice of a dispatch pass
 * (selection over the APs and the sends it starts), a turn of the delta preparer, a slice of a planner chunk after its
 * pictures come back from the render workers, and its stretch after its transaction commits. Wall time from
 * `performance.now()`: a scheduling measurement, not domain time, so it does not go through the injected clock.
 */
import { performance } from 'node:perf_hooks';
import { StageLatency } from './stage-latency.js';

export const LOOP_TASKS = ['dispatch_pass', 'delta_turn', 'plan_rendered', 'plan_committed'] as const;
export type LoopTask = (typeof LOOP_TASKS)[number];
export type LoopTaskTiming = StageLatency<LoopTask>;
export const createLoopTaskTiming = (): LoopTaskTiming => new StageLatency(LOOP_TASKS);

/** Wall ms now, for a task's start (`timing.add(task, loopMs() - t0)` at its end). */
export const loopMs = (): number => performance.now();

/** Lets the event loop run what is ready (I/O, timers) before the caller goes on: one setImmediate turn. */
export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wall ms a sliced task runs before it yields to the event loop (D143). */
export const SLICE_MS = 8;

/**
 * A task cut into slices of about SLICE_MS: the caller asks `due()` between two items and, when it says so, awaits
 * `next()`, which records the slice that ended and yields one turn. `end()` records the last slice.
 */
export class LoopSlices {
  private start = loopMs();
  slices = 0;

  constructor(
    private readonly timing: LoopTaskTiming | undefined,
    private readonly task: LoopTask,
    private readonly budgetMs = SLICE_MS,
  ) {}

  due(): boolean {
    return loopMs() - this.start >= this.budgetMs;
  }

  async next(): Promise<void> {
    this.end();
    await yieldToLoop();
    this.slices++;
    this.start = loopMs();
  }

  end(): void {
    this.timing?.add(this.task, loopMs() - this.start);
  }
}
