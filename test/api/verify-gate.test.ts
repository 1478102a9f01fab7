/** The gate in front of hash checks (D27): one at a time, clean requests before suspect ones, suspect queue bounded. */
import { describe, expect, it } from 'vitest';
import { VerifyGate } from '../../src/api/verify-gate.js';

describe('VerifyGate', () => {
  it('runs one check at a time and lets a clean request overtake waiting suspect ones', async () => {
    const gate = new VerifyGate(8);
    const order: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const releases: (() => void)[] = [];
    const job = (name: string) => async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      order.push(name);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return name;
    };
    const first = gate.run(true, job('s0'));
    const suspects = [1, 2, 3].map((i) => gate.run(true, job(`s${i}`)));
    const clean = gate.run(false, job('clean'));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 5));
      releases.shift()?.();
    }
    expect(await Promise.all([first, ...suspects, clean])).toEqual(['s0', 's1', 's2', 's3', 'clean']);
    expect(order).toEqual(['s0', 'clean', 's1', 's2', 's3']);
    expect(maxRunning).toBe(1);
  });

  it('refuses a suspect request when its queue is full, never a clean one', async () => {
    const gate = new VerifyGate(2);
    let release!: () => void;
    const busy = gate.run(false, () => new Promise<string>((r) => (release = () => r('busy'))));
    const queued = [gate.run(true, async () => 'a'), gate.run(true, async () => 'b')];
    expect(await gate.run(true, async () => 'refused')).toBeNull();
    const clean = gate.run(false, async () => 'clean');
    expect(gate.waiting).toBe(3);
    release();
    expect(await Promise.all([busy, ...queued, clean])).toEqual(['busy', 'a', 'b', 'clean']);
  });
});
