/**
 * The byte arena under the image cache (D86): records keep their bytes through adds, frees and compaction, freed
 * space is given back, and a view taken before a record was freed still reads that record's bytes.
 */
import { describe, expect, it } from 'vitest';
import { ByteArena } from '../../src/domain/labels/byte-arena.js';

function bytes(seed: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

describe('ByteArena (D86)', () => {
  it('stores the concatenation of the parts and reads it back', () => {
    const a = new ByteArena(4096);
    const id = a.add([bytes(1, 10), bytes(2, 20)]);
    expect(a.length(id)).toBe(30);
    expect([...a.view(id)]).toEqual([...bytes(1, 10), ...bytes(2, 20)]);
    expect(a.liveBytes).toBe(30);
    expect(a.allocatedBytes).toBe(4096);
  });

  it('keeps every live record intact through random frees and compaction, and gives freed slabs back', () => {
    const a = new ByteArena(4096);
    const live = new Map<number, Uint8Array>();
    let seed = 1;
    let rnd = 12345;
    const next = () => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 20_000; round++) {
      if (live.size > 0 && next() % 3 === 0) {
        const ids = [...live.keys()];
        const id = ids[next() % ids.length]!;
        a.free(id);
        live.delete(id);
      } else {
        const len = 20 + (next() % 700);
        const b = bytes(seed++, len);
        live.set(a.add([b]), b);
      }
    }
    expect(a.moved).toBeGreaterThan(0);
    for (const [id, b] of live) expect(Buffer.compare(a.view(id), Buffer.from(b))).toBe(0);
    expect(a.records).toBe(live.size);
    expect(a.liveBytes).toBe([...live.values()].reduce((n, b) => n + b.length, 0));
    // Dead space stays bounded: at most a quarter of the slabs, two slabs and the current slab's tail.
    expect(a.allocatedBytes).toBeLessThanOrEqual(a.liveBytes / 0.75 + 3 * 4096);
    for (const id of [...live.keys()]) a.free(id);
    expect(a.liveBytes).toBe(0);
    expect(a.allocatedBytes).toBeLessThanOrEqual(4096);
  });

  it('a view taken before its record is freed and its slab compacted away still holds that record', () => {
    const a = new ByteArena(1024);
    const first = a.add([bytes(7, 200)]);
    const view = a.view(first);
    a.free(first);
    // Fill and free enough to compact and reuse the freed record's number.
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) ids.push(a.add([bytes(100 + i, 200)]));
    for (const id of ids.filter((_, i) => i % 2 === 0)) a.free(id);
    expect(Buffer.compare(view, Buffer.from(bytes(7, 200)))).toBe(0);
    for (const [i, id] of ids.entries()) if (i % 2 === 1) expect(Buffer.compare(a.view(id), Buffer.from(bytes(100 + i, 200)))).toBe(0);
  });

  it('an outsized record gets a slab of its own, released when it is freed', () => {
    const a = new ByteArena(1024);
    const small = a.add([bytes(1, 100)]);
    const big = a.add([bytes(2, 5000)]);
    expect(a.allocatedBytes).toBe(1024 + 5000);
    expect(Buffer.compare(a.view(big), Buffer.from(bytes(2, 5000)))).toBe(0);
    a.free(big);
    expect(a.allocatedBytes).toBe(1024);
    expect(Buffer.compare(a.view(small), Buffer.from(bytes(1, 100)))).toBe(0);
  });
});
