/**
 * D120 The planner's wave order (src/domain/labels/wave-order.ts): chunks follow the labels' wake phases, jump to the
 * wave when planning falls behind it, never split a product (D61) and take every label exactly once.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WaveOrder, sleepMs, type WaveLabel } from '../../src/domain/labels/wave-order.js';
import { expectsDelta } from '../../src/domain/labels/label-record.js';
import { BLANK_HASH } from '#protocol';

const START = 1_000_000;
const SLEEP = 30_000;

const SHOWN = 'a'.repeat(32);

/**
 * n labels, one product each, the i-th waking next at START + offsets[i] (a 30-s sleep reported by its AP), each
 * showing a picture (its next transfer is a delta, D129).
 */
function labels(offsets: readonly number[]): WaveLabel[] {
  return offsets.map((o, i) => ({
    id: `L${String(i).padStart(5, '0')}`,
    gtin: `G${String(i).padStart(5, '0')}`,
    wakeAt: START + o - SLEEP,
    wakeToldMs: SLEEP,
    wakeIntervalMs: 0,
    confirmedHash: SHOWN,
    forceFull: false,
  }));
}

/** Next wake at or after `at`. */
function nextWake(l: WaveLabel, at: number): number {
  const p = sleepMs(l)!;
  let w = l.wakeAt + p;
  while (w < at) w += p;
  return w;
}

function drain(w: WaveOrder, now: () => number, lead: number): string[][] {
  const out: string[][] = [];
  for (let c = w.next(now(), lead); c !== null; c = w.next(now(), lead)) out.push(c);
  return out;
}

describe('wave order', () => {
  // 1,000 labels whose next wakes are spread evenly over one sleep (every 30 ms), shuffled against their ids.
  const offsets = Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 1000) * 30);
  const ls = labels(offsets);
  const byId = new Map(ls.map((l) => [l.id, l]));

  it('takes first the labels that wake soonest after the lead, then the next ones in wake order', () => {
    const w = new WaveOrder(ls, START, 100);
    const first = w.next(START, 2_000)!;
    expect(first).toHaveLength(100);
    const wakes = first.map((id) => nextWake(byId.get(id)!, START) - START).sort((a, b) => a - b);
    // The 100 next wakes at or after 2 s (they come every 30 ms): 2.01 s … 4.98 s.
    expect(wakes[0]).toBe(2_010);
    expect(wakes.at(-1)).toBe(4_980);
    const second = w.next(START, 2_000)!;
    const wakes2 = second.map((id) => nextWake(byId.get(id)!, START) - START).sort((a, b) => a - b);
    expect(wakes2[0]).toBe(5_010);
  });

  it('jumps to the wave when planning falls behind, and takes the skipped labels on the next lap', () => {
    const w = new WaveOrder(ls, START, 100);
    w.next(START, 1_000); // wakes at 1.02–3.99 s
    // Planning took 10 s: the next chunk starts where the wave is then (11 s), not at 4 s.
    const late = w.next(START + 10_000, 1_000)!;
    const wakes = late.map((id) => nextWake(byId.get(id)!, START + 10_000) - START).sort((a, b) => a - b);
    expect(wakes[0]).toBe(11_010);
    const rest = drain(w, () => START + 10_000, 1_000).flat();
    // The labels waking between 4 s and 11 s were skipped, not lost: they come once the cursor has gone round.
    const skipped = ls.filter((l) => nextWake(l, START) - START >= 4_000 && nextWake(l, START) - START < 11_000).map((l) => l.id);
    expect(skipped.length).toBeGreaterThan(200);
    for (const id of skipped) expect(rest).toContain(id);
    expect(rest.indexOf(skipped[0]!)).toBeGreaterThan(rest.length - skipped.length - 1);
  });

  it('keeps catalogue order when no wake is known', () => {
    const unknown = ls.map((l) => ({ ...l, wakeAt: -1, wakeToldMs: null }));
    const w = new WaveOrder(unknown, START, 64);
    const all = drain(w, () => START, 2_000).flat();
    expect(all).toEqual([...unknown].sort((a, b) => (a.gtin! < b.gtin! ? -1 : 1)).map((l) => l.id));
  });

  it('D129 keeps catalogue order for labels whose next transfer is a full image, alongside the deltas\' wave', () => {
    // Every label's wake is known; even-numbered ones show nothing (a fill) or must get a full image.
    const mixed = ls.map((l, i) => (i % 2 === 0 ? { ...l, confirmedHash: i % 4 === 0 ? BLANK_HASH : null, forceFull: i % 6 === 0 } : l));
    expect(mixed.filter(expectsDelta).length).toBe(500);
    expect(expectsDelta({ ...ls[1]!, forceFull: true })).toBe(false);
    const chunks = drain(new WaveOrder(mixed, START, 100), () => START, 2_000);
    const full = chunks.flat().filter((id) => Number(id.slice(1)) % 2 === 0);
    const delta = chunks.flat().filter((id) => Number(id.slice(1)) % 2 === 1);
    // Full images in catalogue order, a half of each chunk (their share); deltas by wake, the soonest after 2 s first.
    expect(full).toEqual(mixed.filter((_, i) => i % 2 === 0).map((l) => l.id));
    expect(chunks[0]!.filter((id) => Number(id.slice(1)) % 2 === 0)).toHaveLength(50);
    const wakes = delta.slice(0, 50).map((id) => nextWake(byId.get(id)!, START) - START);
    expect(Math.min(...wakes)).toBeGreaterThanOrEqual(2_000);
    expect(Math.max(...wakes)).toBeLessThan(2_000 + 110 * 30);
    // A fill (nothing shown anywhere): exactly D61's catalogue order, though every wake is known.
    const fill = ls.map((l) => ({ ...l, confirmedHash: BLANK_HASH }));
    expect(drain(new WaveOrder(fill, START, 64), () => START, 2_000).flat()).toEqual(ls.map((l) => l.id));
  });

  it('takes every label exactly once and never splits a product, whatever the wakes and the clock (property)', () => {
    const label = fc.record({
      product: fc.integer({ min: 0, max: 40 }),
      known: fc.boolean(),
      reported: fc.boolean(),
      shows: fc.boolean(),
      phase: fc.integer({ min: 0, max: 59_999 }),
      sleep: fc.constantFrom(1_000, 15_000, 30_000, 31_000),
    });
    fc.assert(
      fc.property(fc.array(label, { maxLength: 120 }), fc.integer({ min: 1, max: 30 }), fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 50 }), (spec, size, steps) => {
        const input: WaveLabel[] = spec.map((s, i) => ({
          id: `L${i}`,
          gtin: s.product === 0 ? null : `G${s.product}`,
          wakeAt: s.known ? START - s.phase : -1,
          wakeToldMs: s.known && s.reported ? s.sleep : null,
          wakeIntervalMs: s.known && !s.reported ? s.sleep : 0,
          confirmedHash: s.shows ? SHOWN : BLANK_HASH,
          forceFull: false,
        }));
        const w = new WaveOrder(input, START, size);
        let now = START;
        let k = 0;
        const chunks = drain(w, () => (now += steps[k++ % Math.max(1, steps.length)] ?? 0), 1_000);
        const flat = chunks.flat();
        expect(flat.slice().sort()).toEqual(input.map((l) => l.id).sort());
        const chunkOf = new Map<string, number>();
        chunks.forEach((c, ci) =>
          c.forEach((id) => {
            const g = input[Number(id.slice(1))]!.gtin;
            if (g === null) return;
            if (chunkOf.has(g)) expect(chunkOf.get(g)).toBe(ci);
            chunkOf.set(g, ci);
          }),
        );
        expect(w.done).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
