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
});
