import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicateWindow, SeqCounter, seqDistance } from '../src/index.js';

describe('seqDistance (RFC 1982, 16 bits)', () => {
  it.each([
    [1, 0, 1],
    [0, 65535, 1],
    [65535, 0, -1],
    [100, 65500, 136],
    [32767, 0, 32767],
    [32768, 0, -32768],
  ])('distance(%i, %i) = %i', (a, b, d) => {
    expect(seqDistance(a, b)).toBe(d);
  });
});

describe('SeqCounter (§7.2)', () => {
  it('counts from the injected start and wraps 65535 → 0', () => {
    const c = new SeqCounter(65534);
    expect([c.next(), c.next(), c.next(), c.peek()]).toEqual([65534, 65535, 0, 1]);
  });
  it('starts at 0 by default and refuses a start outside u16', () => {
    expect(new SeqCounter().next()).toBe(0);
    expect(() => new SeqCounter(65536)).toThrow(RangeError);
  });
});

describe('DuplicateWindow (§7.2)', () => {
  it('accepts a fresh sequence and flags an immediate repeat', () => {
    const w = new DuplicateWindow();
    expect(w.seen(10)).toBe(false);
    expect(w.seen(10)).toBe(true);
    expect(w.seen(11)).toBe(false);
  });

  it('does not take the wrap 65535 → 0 for a duplicate or a restart', () => {
    const w = new DuplicateWindow();
    for (const s of [65533, 65534, 65535, 0, 1]) expect(w.seen(s)).toBe(false);
    // 65535 is now 2 behind the newest (1): still remembered across the wrap.
    expect(w.seen(65535)).toBe(true);
    expect(w.seen(0)).toBe(true);
  });

  it('flags a replay within the last 64 and accepts a reordered frame once', () => {
    const w = new DuplicateWindow(64);
    for (let s = 0; s < 100; s++) if (s !== 50) expect(w.seen(s)).toBe(false);
    expect(w.seen(99 - 63)).toBe(true); // 63 behind the newest: inside the window
    expect(w.seen(50)).toBe(false); // late but new
    expect(w.seen(50)).toBe(true);
  });

  it('treats a jump back beyond the window as a peer restart: accepted, window reset', () => {
    const w = new DuplicateWindow(64);
    for (let s = 1000; s < 1010; s++) w.seen(s);
    expect(w.seen(0)).toBe(false); // restarted peer, 1009 behind → new window at 0
    expect(w.seen(1)).toBe(false);
    expect(w.seen(0)).toBe(true); // duplicates are caught again in the new window
    expect(w.seen(2)).toBe(false);
  });

  it('treats a forward jump past the window as new and forgets what it passed', () => {
    const w = new DuplicateWindow(64);
    w.seen(0);
    expect(w.seen(30000)).toBe(false);
    expect(w.seen(30000 - 64)).toBe(false); // outside the window → restart, accepted
  });

  it('reset() forgets everything', () => {
    const w = new DuplicateWindow();
    w.seen(5);
    w.reset();
    expect(w.seen(5)).toBe(false);
  });

  it('never flags the first delivery of an in-order stream, across any number of wraps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 70000 }), (start, n) => {
        const c = new SeqCounter(start);
        const w = new DuplicateWindow();
        for (let i = 0; i < n; i++) if (w.seen(c.next())) return false;
        return true;
      }),
      { numRuns: 20 },
    );
  });

  it('agrees with a model: a redelivery is flagged exactly when its seq was accepted within the last `size`', () => {
    const sizes = [1, 16, 31, 32, 33, 64, 65, 100];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(...sizes), fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 300 }), (start, size, picks) => {
        // Sender numbers frames start, start+1, …; the network delivers a random recent one each step
        // (redelivery or reordering within the last 120 sent: inside and beyond every window size here).
        const w = new DuplicateWindow(size);
        const accepted = new Set<number>();
        let newest = -1;
        picks.forEach((back, i) => {
          const idx = Math.max(0, i - back); // index of the frame in send order
          const seq = (start + idx) % 65536;
          const inWindow = newest < 0 || newest - idx < size;
          const expected = inWindow && accepted.has(idx);
          expect(w.seen(seq)).toBe(expected);
          if (!inWindow) accepted.clear(); // restart semantics: history before the reset is forgotten
          accepted.add(idx);
          if (inWindow) newest = Math.max(newest, idx);
          else newest = idx;
        });
      }),
      { numRuns: 600 },
    );
  });
});
