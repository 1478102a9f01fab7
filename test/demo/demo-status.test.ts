import { describe, expect, it } from 'vitest';
import { startStatusLine, statusPrinter, type StatusOut } from '../../demo/src/demo-status.js';
import { ManualClock } from '../../src/core/clock.js';
import { catalogueBatch, connectClient, ROOT, startTestDaemon, tempDir, USERS, waitFor } from '../support/edge-fixture.js';

/** A file or pipe (not a terminal) that keeps what was written. */
function pipe(tty = false): StatusOut & { chunks: string[] } {
  const chunks: string[] = [];
  return { isTTY: tty, columns: 80, chunks, write: (c: string) => chunks.push(c) };
}

describe('demo status line on a file or pipe (D104)', () => {
  it('prints the latest line once the 30-s quiet period ends, and an unchanged line only once', () => {
    const clock = new ManualClock(1_000_000);
    const out = pipe();
    const p = statusPrinter(out, clock);
    p.show('A');
    expect(out.chunks).toEqual(['A\n']);
    // Changes inside the quiet period are held, not printed …
    clock.advance(1_000);
    p.show('B');
    clock.advance(1_000);
    p.show('C');
    expect(out.chunks).toEqual(['A\n']);
    // … and the line stays C until the period ends: the first show after it prints C (the stale-line defect
    // recorded C as printed here and never printed it).
    clock.advance(27_999);
    p.show('C');
    expect(out.chunks).toEqual(['A\n']);
    clock.advance(1);
    p.show('C');
    expect(out.chunks).toEqual(['A\n', 'C\n']);
    // Unchanged: never repeated, however long it stays.
    clock.advance(120_000);
    p.show('C');
    expect(out.chunks).toEqual(['A\n', 'C\n']);
    // A change after a long quiet is printed at once.
    p.show('D');
    expect(out.chunks).toEqual(['A\n', 'C\n', 'D\n']);
    p.end();
    expect(out.chunks).toEqual(['A\n', 'C\n', 'D\n']);
  });

  it('a line that changes back to the printed one during the quiet period is not printed again', () => {
    const clock = new ManualClock(1_000_000);
    const out = pipe();
    const p = statusPrinter(out, clock);
    p.show('A');
    clock.advance(5_000);
    p.show('B');
    clock.advance(5_000);
    p.show('A');
    clock.advance(30_000);
    p.show('A');
    expect(out.chunks).toEqual(['A\n']);
  });

  it('on a terminal redraws every line in place, cut to the width, and ends with a newline', () => {
    const clock = new ManualClock(0);
    const out = pipe(true);
    const p = statusPrinter(out, clock);
    p.show('A');
    p.show('A');
    p.show('x'.repeat(100));
    p.end();
    expect(out.chunks).toEqual(['\r\x1b[KA', '\r\x1b[KA', `\r\x1b[K${'x'.repeat(79)}`, '\n']);
  });
});

describe('demo status line on a running edge', () => {
  it('ticks on the injected clock, prints a changed state after the quiet period, and stops', async () => {
    const tmp = tempDir();
    const daemon = await startTestDaemon(tmp.dir);
    const clock = new ManualClock(Date.now());
    const out = pipe();
    const stop = startStatusLine(daemon, out, clock);
    try {
      expect(out.chunks).toEqual([]);
      clock.advance(1_000);
      const first = await waitFor('the first status line', () => out.chunks[0]);
      expect(first).toMatch(/^labels: 0 consistent, 0 pending, 0 stale\/failed\/unreachable \| mismatches 0 \| APs 0\/0\n$/);
      // The catalogue binds four labels: pending, a changed line held for the quiet period.
      const pos = await connectClient(daemon, USERS.pos);
      await pos.publishAsync(`${ROOT}/in/batch`, catalogueBatch(), { qos: 1 });
      await pos.endAsync();
      await waitFor('the catalogue applied', async () => (await daemon.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM events'))!.n > 0);
      // Each tick is armed when the last one ends: step one tick at a time and wait for the tick's reads to finish.
      const step = async (ms: number) => {
        const before = out.chunks.length;
        clock.advance(ms);
        await new Promise((r) => setTimeout(r, 200));
        return out.chunks.length - before;
      };
      expect(await step(1_000)).toBe(0);
      for (let t = 2_000; t < 30_000; t += 1_000) await step(1_000);
      expect(out.chunks).toHaveLength(1);
      await waitFor('the held line printed after the quiet period', async () => (await step(1_000)) > 0 || out.chunks.length > 1);
      expect(out.chunks[1]).toMatch(/ \| last event \d\d:\d\d:\d\d .+\n$/);
      expect(out.chunks[1]).not.toBe(out.chunks[0]);
      stop();
      const n = out.chunks.length;
      clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(out.chunks).toHaveLength(n);
    } finally {
      stop();
      await daemon.stop();
      tmp.remove();
    }
  });
});
