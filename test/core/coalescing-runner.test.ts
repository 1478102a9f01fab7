/**
 * D90 The coalescing runner of the label planner and the rule engine: one pass at a time, kicks during a pass
 * coalesce into one more, a failing pass is reported and does not stop later ones (and is retried after its delay on
 * the injected clock), and stop() waits for the pass under way. Passes are held open by the test (deferreds), so
 * nothing depends on how fast the machine is.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { CoalescingRunner } from '../../src/core/coalescing-runner.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const settle = () => new Promise<void>((r) => setImmediate(r));

function rig(retryAfterErrorMs?: number) {
  const clock = new ManualClock(0);
  const passes: ReturnType<typeof deferred>[] = [];
  const errors: unknown[] = [];
  const runner = new CoalescingRunner({
    pass: () => {
      const d = deferred();
      passes.push(d);
      return d.promise;
    },
    onError: (err) => errors.push(err),
    clock,
    ...(retryAfterErrorMs !== undefined ? { retryAfterErrorMs } : {}),
  });
  return { clock, passes, errors, runner };
}

describe('CoalescingRunner (D90)', () => {
  it('runs a pass at once, and kicks during it coalesce into exactly one more', async () => {
    const { passes, runner } = rig();
    runner.kick();
    expect(passes).toHaveLength(1);
    for (let i = 0; i < 10; i++) runner.kick();
    expect(passes).toHaveLength(1); // never two at a time
    passes[0]!.resolve();
    await settle();
    expect(passes).toHaveLength(2);
    passes[1]!.resolve();
    await runner.idle();
    expect(passes).toHaveLength(2);
    expect(runner.passes).toBe(2);
    runner.kick();
    expect(passes).toHaveLength(3);
    passes[2]!.resolve();
    await runner.idle();
  });

  it('idle() waits for the pass under way and the one it owes', async () => {
    const { passes, runner } = rig();
    runner.kick();
    runner.kick();
    let idle = false;
    const p = runner.idle().then(() => (idle = true));
    passes[0]!.resolve();
    await settle();
    expect(idle).toBe(false);
    expect(passes).toHaveLength(2);
    passes[1]!.resolve();
    await p;
    expect(idle).toBe(true);
  });

  it('reports a failing pass and keeps running later ones', async () => {
    const { passes, errors, runner } = rig();
    runner.kick();
    runner.kick();
    const boom = new Error('render failed');
    passes[0]!.reject(boom);
    await settle();
    expect(errors).toEqual([boom]);
    expect(passes).toHaveLength(2); // the kick during the failed pass still runs
    passes[1]!.resolve();
    await runner.idle();
    runner.kick();
    expect(passes).toHaveLength(3);
    passes[2]!.resolve();
    await runner.idle();
    expect(errors).toHaveLength(1);
  });

  it('retries a failed pass after retryAfterErrorMs on the injected clock', async () => {
    const { clock, passes, errors, runner } = rig(5_000);
    runner.kick();
    passes[0]!.reject(new Error('database busy'));
    await runner.idle();
    expect(errors).toHaveLength(1);
    clock.advance(4_999);
    expect(passes).toHaveLength(1);
    clock.advance(1);
    expect(passes).toHaveLength(2);
    passes[1]!.resolve();
    await runner.idle();
    clock.advance(60_000);
    expect(passes).toHaveLength(2); // a pass that succeeded is not repeated
  });

  it('stop() waits for the running pass; nothing starts after it, not the owed pass nor a retry', async () => {
    const { clock, passes, runner } = rig(5_000);
    runner.kick();
    runner.kick(); // owes one more pass
    let stopped = false;
    const s = runner.stop().then(() => (stopped = true));
    expect(runner.stopped).toBe(true);
    await settle();
    expect(stopped).toBe(false);
    passes[0]!.resolve();
    await s;
    expect(stopped).toBe(true);
    expect(passes).toHaveLength(1);
    runner.kick();
    clock.advance(60_000);
    expect(passes).toHaveLength(1);

    const b = rig(5_000);
    b.runner.kick();
    b.passes[0]!.reject(new Error('failed'));
    await b.runner.idle();
    await b.runner.stop();
    b.clock.advance(60_000);
    expect(b.passes).toHaveLength(1);
  });
});
