/**
 * D143 LoopSlices: a sliced task records each slice it ends and lets the event loop run between two slices. The
 * budgets are 0 (every item ends a slice) and Infinity (none does), so no assertion depends on how fast this machine is.
 */
import { describe, expect, it } from 'vitest';
import { LoopSlices, createLoopTaskTiming } from '../../src/core/loop-tasks.js';

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
