/**
 * D143 LoopSlices: a sliced task records each slice it ends and lets the event loop run between two slices. The
 * budgets are 0 (every item ends a slice) and Infinity (none does), so no assertion depends on how fast this machine is.
 * D147 LoopTurn: the sliced tasks of one loop turn share its budget; its time is a counter the test moves.
 */
import { describe, expect, it } from 'vitest';
import { LoopSlices, LoopTurn, MIN_SLICE_MS, createLoopTaskTiming, yieldToLoop } from '../../src/core/loop-tasks.js';

const count = (timing: ReturnType<typeof createLoopTaskTiming>, task: string) => timing.snapshot().find((h) => h.stage === task)!.count;

describe('LoopSlices (D143)', () => {
  it('yields to the event loop between slices and records each slice', async () => {
    const timing = createLoopTaskTiming();
    const slices = new LoopSlices(timing, 'dispatch_pass', 0);
    const order: string[] = [];
    setImmediate(() => order.push('io'));
    for (const item of ['a', 'b', 'c']) {
      if (slices.due()) await slices.next();
      order.push(item);
    }
    slices.end();
    // The callback queued before the task ran between its first two slices, not after the task.
    expect(order.indexOf('io')).toBeGreaterThanOrEqual(0);
    expect(order.indexOf('io')).toBeLessThan(order.indexOf('c'));
    expect(slices.slices).toBe(3);
    expect(count(timing, 'dispatch_pass')).toBe(4);
    expect(count(timing, 'plan_rendered')).toBe(0);
  });

  it('runs a task whose budget is never spent as one slice', async () => {
    const timing = createLoopTaskTiming();
    const slices = new LoopSlices(timing, 'plan_rendered', Infinity);
    let yielded = false;
    setImmediate(() => (yielded = true));
    for (let i = 0; i < 1_000; i++) if (slices.due()) await slices.next();
    slices.end();
    expect(yielded).toBe(false);
    expect(slices.slices).toBe(0);
    expect(count(timing, 'plan_rendered')).toBe(1);
  });
});

describe('LoopTurn (D147)', () => {
  it('counts from the first ask of a turn and starts again once the loop has gone round', async () => {
    let t = 0;
    const turn = new LoopTurn(8, () => t);
    expect(turn.spent()).toBe(false);
    t = 7.9;
    expect(turn.spent()).toBe(false);
    t = 8;
    expect(turn.spent()).toBe(true);
    await yieldToLoop();
    t = 20;
    // A new turn: the count starts again here.
    expect(turn.spent()).toBe(false);
    t = 27;
    expect(turn.spent()).toBe(false);
    t = 28;
    expect(turn.spent()).toBe(true);
  });

  it('ends a slice when other tasks spent the turn, but only after the slice has run its minimum', async () => {
    let t = 0;
    const timing = createLoopTaskTiming();
    const turn = new LoopTurn(8, () => t);
    const dispatch = new LoopSlices(timing, 'dispatch_pass', 100, turn);
    expect(dispatch.due()).toBe(false);
    t = 9;
    // Its own budget (100) is far; the turn's (8) is spent.
    expect(dispatch.due()).toBe(true);
    const planner = new LoopSlices(timing, 'plan_rendered', 100, turn);
    const alone = new LoopSlices(timing, 'plan_rendered', 100, undefined);
    expect(planner.due()).toBe(false);
    t = 9 + MIN_SLICE_MS - 0.1;
    expect(planner.due()).toBe(false);
    t = 9 + MIN_SLICE_MS;
    expect(planner.due()).toBe(true);
    // Without the shared turn, the same slice goes on.
    expect(alone.due()).toBe(false);
    // After a yield the loop has gone round: a fresh turn, the slice goes on.
    await dispatch.next();
    expect(dispatch.due()).toBe(false);
    t += 5;
    expect(dispatch.due()).toBe(false);
    t += 3;
    expect(dispatch.due()).toBe(true);
    // Slices are timed on the turn's clock: the dispatch pass's first slice ended at its next(), 11 ms in.
    expect(timing.snapshot().find((h) => h.stage === 'dispatch_pass')!.sumMs).toBe(9 + MIN_SLICE_MS);
  });

  it('gives every daemon task built with the same timing one shared turn', () => {
    const timing = createLoopTaskTiming();
    expect(timing.turn).toBeInstanceOf(LoopTurn);
    expect(createLoopTaskTiming().turn).not.toBe(timing.turn);
  });
});
