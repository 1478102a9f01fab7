/**
 * D102 A transfer staged again is not encoded again: the cache answers by what is encoded (target, base, panel type,
 * AP capabilities, label decoders), encodes each key once, and keeps at most its byte budget, least recently used out.
 */
import { describe, expect, it } from 'vitest';
import { BLANK_HASH, ImageEncoding, ImageKind, type EncodedImage } from '#protocol';
import { EncodingCache, type EncodingKey } from '../../src/domain/dispatch/encoding-cache.js';

const image = (bytes: number, tag: number): EncodedImage => ({
  kind: ImageKind.FULL,
  encoding: ImageEncoding.CTX,
  region: { x: 0, y: 0, width: 0, height: 0 },
  payload: new Uint8Array(bytes).fill(tag),
  targetHash: 'aaaaaaaaaaaaaaaa',
  baseHash: BLANK_HASH,
});
const key = (over: Partial<EncodingKey> = {}): EncodingKey => ({ targetHash: 'aaaaaaaaaaaaaaaa', baseHash: 'bbbbbbbbbbbbbbbb', labelType: 3, apCapabilities: 7, decoders: 1, ...over });

describe('encoding cache (D102)', () => {
  it('encodes a key once; any other target, base, type, AP or decoders is encoded anew', async () => {
    const cache = new EncodingCache(1_000_000);
    let encoded = 0;
    const encode = (tag: number) => () => {
      encoded++;
      return Promise.resolve(image(150, tag));
    };
    const first = await cache.obtain(key(), encode(1));
    expect(await cache.obtain(key(), encode(2))).toBe(first);
    expect(encoded).toBe(1);
    for (const over of [{ targetHash: 'cccccccccccccccc' }, { baseHash: null }, { labelType: 4 }, { apCapabilities: 3 }, { decoders: null }]) {
      const other = await cache.obtain(key(over), encode(9));
      expect(other).not.toBe(first);
      expect(other.payload[0]).toBe(9);
    }
    expect(encoded).toBe(6);
    expect([cache.hits, cache.misses]).toEqual([1, 6]);
  });

  it('keeps at most its byte budget, the least recently used out; a failed encoding is not kept', async () => {
    const cache = new EncodingCache(16 * 100);
    for (let i = 0; i < 16; i++) await cache.obtain(key({ targetHash: `t${i}` }), () => Promise.resolve(image(100, i)));
    // t0 used again: t1 is now the oldest.
    await cache.obtain(key({ targetHash: 't0' }), () => Promise.reject(new Error('not called')));
    await cache.obtain(key({ targetHash: 't16' }), () => Promise.resolve(image(100, 16)));
    expect(cache.size).toBe(16);
    let again = 0;
    await cache.obtain(key({ targetHash: 't0' }), () => Promise.resolve(image(100, (again++, 0))));
    await cache.obtain(key({ targetHash: 't1' }), () => Promise.resolve(image(100, (again++, 1))));
    expect(again).toBe(1);
    await expect(cache.obtain(key({ targetHash: 'bad' }), () => Promise.reject(new Error('no image')))).rejects.toThrow('no image');
    let after = 0;
    await cache.obtain(key({ targetHash: 'bad' }), () => Promise.resolve(image(100, (after++, 2))));
    expect(after).toBe(1);
  });

  it('D126 keeps the prepared payload of a label until released, used only for its own key', async () => {
    const cache = new EncodingCache(1_000_000, 10_000);
    const mine = image(150, 5);
    expect(cache.prepare('L1', key(), mine)).toBe(true);
    expect(cache.hasPrepared('L1', key())).toBe(true);
    expect(cache.hasPrepared('L1', key({ decoders: 3 }))).toBe(false);
    expect(cache.hasPrepared('L2', key())).toBe(false);
    const fail = () => Promise.reject(new Error('not called'));
    expect(await cache.obtain(key(), fail, 'L1')).toBe(mine);
    // Retries of the same transfer take it again; it is not the LRU's, so another label does not.
    expect(await cache.obtain(key(), fail, 'L1')).toBe(mine);
    expect(cache.preparedHits).toBe(2);
    const other = await cache.obtain(key(), () => Promise.resolve(image(150, 6)), 'L2');
    expect(other.payload[0]).toBe(6);
    // The label's AP changed since: the payload is encoded for the new key.
    const moved = await cache.obtain(key({ apCapabilities: 3 }), () => Promise.resolve(image(150, 7)), 'L1');
    expect(moved.payload[0]).toBe(7);
    cache.release('L1');
    expect(cache.hasPrepared('L1', key())).toBe(false);
    expect(cache.preparedCount).toBe(0);
  });

  it('D126 prepares within its budget, a newer plan replacing the older, and prunes what is stale', () => {
    // 150 B payload + 160 B entry each: three fit in 1,000 B.
    const cache = new EncodingCache(1_000_000, 1_000);
    expect(['A', 'B', 'C'].map((id) => cache.prepare(id, key({ targetHash: id }), image(150, 1)))).toEqual([true, true, true]);
    expect(cache.prepare('D', key({ targetHash: 'D' }), image(150, 1))).toBe(false);
    // A re-plan of A replaces its entry (same cost), so it fits.
    expect(cache.prepare('A', key({ targetHash: 'A2' }), image(150, 2))).toBe(true);
    expect(cache.hasPrepared('A', key({ targetHash: 'A' }))).toBe(false);
    expect(cache.preparedCount).toBe(3);
    expect(cache.prune((id) => id === 'B')).toBe(1);
    expect(cache.prepare('D', key({ targetHash: 'D' }), image(150, 1))).toBe(true);
    expect(cache.preparedCount).toBe(3);
  });
});
