/**
 * The paced clock (D22): simulated time stands still while the watched processes work, so CPU load changes how long
 * a run takes in wall time, not what happens in simulated time. Every assertion here holds the more surely the
 * busier the machine is (load only slows simulated time); none needs an idle machine.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PacedClock } from '../../simulator/src/paced-clock.js';

const wallSleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spin = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('PacedClock', () => {
  it('moves at most `speed` × wall time, and not at all during synchronous work', async () => {
    const clock = new PacedClock({ speed: 20, startMs: 1_000_000 });
    try {
      const w0 = performance.now();
      const s0 = clock.now();
      await wallSleep(300);
      // Idle, it moves — on a loaded machine perhaps only after a while (waits for a CPU are owed first, D53).
      while (clock.now() === s0) await wallSleep(50);
      const s1 = clock.now();
      expect(s1).toBeGreaterThan(s0);
      expect(s1 - s0).toBeLessThanOrEqual(20 * (performance.now() - w0) + 1);
      // 200 ms of CPU on the event loop: no simulated time passes, then or later.
      const before = clock.now();
      spin(200);
      expect(clock.now()).toBe(before);
      const w1 = performance.now();
      await wallSleep(100);
      expect(clock.now() - before).toBeLessThanOrEqual(20 * (performance.now() - w1) + 1);
    } finally {
      clock.stop();
    }
  });

  it('runs timers in simulated order, each no earlier than its simulated due time', async () => {
    const clock = new PacedClock({ speed: 50, startMs: 0 });
    try {
      const seen: { name: string; at: number; due: number }[] = [];
      const t0 = clock.now();
      for (const [name, delay] of [['c', 3_000], ['a', 1_000], ['b', 2_000]] as const) {
        clock.setTimeout(() => seen.push({ name, at: clock.now(), due: t0 + delay }), delay);
      }
      await clock.sleep(3_500);
      expect(seen.map((s) => s.name)).toEqual(['a', 'b', 'c']);
      for (const s of seen) expect(s.at).toBeGreaterThanOrEqual(s.due);
    } finally {
      clock.stop();
    }
  });

  it('stands still while a watched process works (a busy child: the edge daemon in the crash tests)', async () => {
    const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    const clock = new PacedClock({ speed: 20, startMs: 0, watchPids: () => (child.pid ? [child.pid] : []) });
    try {
      await wallSleep(100);
      const w0 = performance.now();
      const s0 = clock.now();
      await wallSleep(1_000);
      // Stop the child: the kernel reports a thread's run-queue wait when it gets a CPU or leaves the run queue, so
      // on a loaded machine the last waits show up only now.
      child.kill('SIGSTOP');
      const busyMs = performance.now() - w0;
      await wallSleep(200);
      const s1 = clock.now();
      const wallMs = performance.now() - w0;
      // The child ran or waited for a CPU the whole second: its work is owed and paid before time moves.
      expect(clock.stats.debtWallMs).toBeGreaterThan(0.7 * busyMs);
      expect(s1 - s0).toBeLessThan(0.2 * 20 * wallMs);
    } finally {
      clock.stop();
      child.kill('SIGKILL');
    }
  });

  it('stands still while a thread of this process that started after it works, and keeps no file open once stopped', async () => {
    const openSchedstat = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).endsWith('/schedstat');
        } catch {
          return false;
        }
      }).length;
    const clock = new PacedClock({ speed: 20, startMs: 0 });
    // A worker thread (as the render pool's) that spins while the event loop here stays idle.
    const worker = new Worker('const end = Date.now() + 1000; while (Date.now() < end);', { eval: true });
    try {
      await wallSleep(50);
      const w0 = performance.now();
      const s0 = clock.now();
      await new Promise((r) => worker.once('exit', r));
      const busyMs = performance.now() - w0;
      await wallSleep(200);
      const wallMs = performance.now() - w0;
      // The loop here was idle the whole time; the worker's second was seen per thread and owed.
      expect(clock.stats.debtWallMs).toBeGreaterThan(0.7 * busyMs);
      expect(clock.now() - s0).toBeLessThan(0.5 * 20 * wallMs);
      expect(openSchedstat()).toBeGreaterThan(0);
    } finally {
      clock.stop();
      await worker.terminate();
    }
    expect(openSchedstat()).toBe(0);
  });
});
