/**
 * D101 A pass orders only the free slots' worth of candidates (a top-k heap), not all of them. This checks that the
 * heap equals a stable sort's first k, and that the selection by cost picks exactly what sorting every candidate
 * did before D101 (the reference below is that code), on seeded random stores (the simulator's mulberry32, so a failure can be replayed) with ties, urgent (−1) and
 * woken-unseen (Infinity) costs, idle and busy APs.
 */
import { describe, expect, it } from 'vitest';
import { selectByCost, type TransferMode } from '../../src/domain/dispatch/dispatcher.js';
import { TopK } from '../../src/domain/dispatch/top-k.js';
import type { LabelRecord } from '../../src/domain/labels/label-store.js';
import { seededRandom } from '../../simulator/src/rng.js';
import { selectionLabel } from './selection-label.js';
import { selectByCostBeforeD101 } from '../../bench/selection-before-d101.js';

const T0 = Date.UTC(2026, 10, 30, 17, 0);


describe('top k without sorting everything (D101)', () => {
  it('equals the first k of a stable sort', () => {
    const rnd = seededRandom(1);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(rnd() * 300);
      const k = Math.floor(rnd() * 80);
      const v = Array.from({ length: n }, () => Math.floor(rnd() * 20));
      const cmp = (a: number, b: number) => v[a]! - v[b]! || a - b;
      const top = new TopK(k, cmp);
      for (let i = 0; i < n; i++) top.offer(i);
      const all = Array.from({ length: n }, (_, i) => i).sort(cmp);
      expect(top.sorted()).toEqual(all.slice(0, k));
    }
  });

  it('the selection by cost picks what sorting every candidate picked', () => {
    const rnd = seededRandom(16);
    let picked = 0;
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rnd() * 400);
      const costs = new Map<string, number>();
      const modes: TransferMode[] = ['now', 'drop', 'timed'];
      const cands = Array.from({ length: n }, (_, i) => {
        const r = rnd();
        // Coarse costs so that ties (broken by priority, then the oldest change, then the order) are common.
        costs.set(`L${i}`, r < 0.05 ? -1 : r < 0.15 ? Infinity : Math.floor(rnd() * 40) * 500);
        return { l: selectionLabel(i, T0 - Math.floor(rnd() * 4) * 1_000, { priority: Math.floor(rnd() * 3) }), mode: modes[Math.floor(rnd() * 3)]! };
      });
      const cost = { of: (l: Readonly<LabelRecord>) => costs.get(l.id)!, horizonMs: Math.floor(rnd() * 12) * 1_000, busy: rnd() < 0.3 ? 0 : 5 };
      const free = Math.floor(rnd() * 70);
      const want = selectByCostBeforeD101(cands, free, T0, cost);
      const got = selectByCost(cands, free, T0, cost);
      expect(got.picks.map((p) => [p.label.id, p.mode])).toEqual(want.picks.map((p) => [p.label.id, p.mode]));
      expect(got.nextAt).toBe(want.nextAt);
      expect(got.held).toBe(want.held);
      picked += got.picks.length;
    }
    // The rounds did pick (the comparison is not between two empty lists).
    expect(picked).toBeGreaterThan(1_000);
  });
});
