/**
 * The image store's memory (D40): a kept picture holds its compressed bytes and nothing more. zlib's sync API returns
 * a slice of a 16 kB chunk; kept as such, a 1 kB picture pinned 16 kB that the cache's byte budget never saw, and the
 * reference store's 50,000 labels pinned ~660 MB (bench/results/edge-resources-*).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ImageStore, saveImage } from '../../src/domain/labels/image-store.js';
import type { LabelContent } from '#contracts';
import { tempDir } from '../support/temp-dir.js';
import { pictureContent, picturePlanes } from '../support/picture-fixture.js';
import { BLANK_HASH } from '#protocol';

const content: LabelContent = pictureContent;
/** A label-like picture: white, a few black bars (compresses to well under 1 kB). */
const planes = picturePlanes;

describe('image store memory (D40)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'edge.db'));
  });
  afterEach(async () => {
    await db.close();
    tmp.remove();
  });

  it('saveImage returns compressed bytes that own exactly their memory', async () => {
    const z = await db.transaction((tx) => saveImage(tx, { hash: 'aaaaaaaaaaaaaaaa', labelType: 3, planes: planes(1), content }, 0));
    expect(z.length).toBeLessThan(1024);
    expect(z.byteOffset).toBe(0);
    expect(z.buffer.byteLength).toBe(z.length);
  });

  it('pictures kept in memory, saved or read back from sqlite, hold no more than their bytes; the budget counts them', async () => {
    const images = new ImageStore({ db });
    // From 1: the all-zero hash is BLANK (protocol §3.4), never a picture's.
    const hashes = Array.from({ length: 50 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
    await db.transaction(async (tx) => {
      for (const [i, hash] of hashes.entries()) await images.save(tx, { hash, labelType: 3, planes: planes(i), content }, 0);
    });
    // Each picture's cached entry: its compressed planes (< 1 kB here) and the content estimate, nothing near 16 kB.
    expect(images.cachedImages).toBe(50);
    expect(images.cachedBytes).toBeLessThan(50 * 2048);
    for (const [i, hash] of hashes.entries()) expect((await images.load(hash))?.planes).toEqual(planes(i));
    // Read back through a fresh store (cache misses): the same bytes.
    const again = new ImageStore({ db });
    for (const [i, hash] of hashes.entries()) expect((await again.load(hash))?.planes).toEqual(planes(i));
    expect(again.cachedBytes).toBe(images.cachedBytes);
  });

  it('D86: pictures are packed in the arena, the budget evicts the least recently used, and an evicted picture reads back the same', async () => {
    const hashes = Array.from({ length: 40 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
    const full = new ImageStore({ db });
    await db.transaction(async (tx) => {
      for (const [i, hash] of hashes.entries()) await full.save(tx, { hash, labelType: 3, planes: planes(i), content: { ...content, priceCents: 100 + i } }, 0);
    });
    // What the last ten cost, measured by a store without a budget; a store with that budget keeps them and no more.
    const probe = new ImageStore({ db });
    for (const hash of hashes.slice(30)) await probe.load(hash);
    const images = new ImageStore({ db, budgetBytes: probe.cachedBytes });
    for (const hash of hashes) await images.load(hash);
    expect(images.cachedImages).toBe(10);
    expect(images.cachedBytes).toBe(probe.cachedBytes);
    // Slabs hold the records: far fewer bytes than a 16 kB chunk per picture (D40), and nothing lost to eviction.
    expect(images.arenaBytes).toBeLessThanOrEqual(1 << 20);
    const misses = images.stats.misses;
    for (const [i, hash] of hashes.slice(30).entries()) expect((await images.content(hash))?.priceCents).toBe(130 + i);
    expect(images.stats.misses).toBe(misses);
    for (const [i, hash] of hashes.slice(0, 5).entries()) {
      const img = await images.load(hash);
      expect(img?.planes).toEqual(planes(i));
      expect(img?.labelType).toBe(3);
      expect(img?.content).toEqual({ ...content, priceCents: 100 + i });
    }
    expect(images.stats.misses).toBe(misses + 5);
    // The sweep drops what no label refers to.
    const kept = images.cachedImages;
    expect(kept).toBeGreaterThanOrEqual(5);
    expect(images.sweep(new Set(hashes.slice(0, 2)))).toBe(kept - 2);
    expect(images.cachedImages).toBe(2);
  });

  it('D86: misses of one turn are read in one statement, each answered with its own picture', async () => {
    const hashes = Array.from({ length: 30 }, (_, i) => (i + 1).toString(16).padStart(16, '0'));
    await db.transaction(async (tx) => {
      for (const [i, hash] of hashes.entries()) await saveImage(tx, { hash, labelType: 3, planes: planes(i), content: { ...content, priceCents: 100 + i } }, 0);
    });
    const images = new ImageStore({ db });
    let statements = 0;
    const all = db.all.bind(db);
    db.all = ((sql: string, params?: unknown[], opts?: { lane?: 'urgent' | 'normal' }) => {
      statements++;
      return all(sql, params as never, opts);
    }) as typeof db.all;
    // As a dispatch pass does: many loads started before any is awaited, one hash twice, one never stored.
    const wanted = [...hashes, hashes[3]!, 'ffffffffffffffff'];
    const got = await Promise.all(wanted.map((h) => images.load(h)));
    expect(statements).toBe(1);
    for (const [i, hash] of hashes.entries()) {
      expect(got[i]?.hash).toBe(hash);
      expect(got[i]?.planes).toEqual(planes(i));
      expect(got[i]?.content.priceCents).toBe(100 + i);
    }
    expect(got[30]?.planes).toEqual(planes(3));
    expect(got[31]).toBeUndefined();
    expect(images.cachedImages).toBe(30);
    // Now cached: no further statement.
    expect((await images.content(hashes[7]!))?.priceCents).toBe(107);
    expect(statements).toBe(1);
  });

  it('D119: a miss is read in the urgent lane, ahead of the normal jobs queued before it (a transfer waits for it)', async () => {
    const hash = '00000000000000aa';
    await db.transaction((tx) => saveImage(tx, { hash, labelType: 3, planes: planes(1), content }, 0));
    const images = new ImageStore({ db });
    const order: string[] = [];
    // A long normal job holds the connection (a planner chunk, a rule pass); two more wait behind it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const n1 = db.transaction(async () => {
      order.push('n1');
      await held;
    });
    const n2 = db.all('SELECT 1').then(() => order.push('n2'));
    const n3 = db.all('SELECT 1').then(() => order.push('n3'));
    const load = images.load(hash).then((img) => {
      order.push('load');
      return img;
    });
    // The miss joins the queue on the next turn (misses of one turn are read together, D86).
    await new Promise((r) => setImmediate(r));
    expect(db.urgentWaiting).toBe(true);
    release();
    const [img] = await Promise.all([load, n1, n2, n3]);
    expect(img?.planes).toEqual(planes(1));
    expect(order).toEqual(['n1', 'load', 'n2', 'n3']);
  });

  it('D86: under churn (saves, loads, budget evictions, sweeps, compaction) every load returns the picture saved under its hash', async () => {
    const images = new ImageStore({ db, budgetBytes: 24 * 1024 });
    let rnd = 7;
    const next = () => (rnd = (rnd * 1103515245 + 12345) & 0x7fffffff);
    const saved: string[] = [];
    const seedOf = new Map<string, number>();
    for (let round = 0; round < 12; round++) {
      await db.transaction(async (tx) => {
        const batch = Array.from({ length: 20 }, (_, i) => {
          const seed = round * 20 + i;
          const hash = (seed + 1).toString(16).padStart(16, '0');
          seedOf.set(hash, seed);
          saved.push(hash);
          return { hash, labelType: 3, planes: planes(seed), content: { ...content, priceCents: seed } };
        });
        await images.saveMany(tx, batch, 0);
      });
      const picks = Array.from({ length: 30 }, () => saved[next() % saved.length]!);
      const got = await Promise.all(picks.map((h) => images.load(h)));
      for (const [i, h] of picks.entries()) {
        expect(got[i]?.hash).toBe(h);
        expect(got[i]?.planes).toEqual(planes(seedOf.get(h)!));
        expect(got[i]?.content.priceCents).toBe(seedOf.get(h));
      }
      if (round % 7 === 6) images.sweep(new Set(saved.filter(() => next() % 2 === 0)));
    }
    expect(images.stats.evicted).toBeGreaterThan(0);
    expect(images.cachedBytes).toBeLessThanOrEqual(24 * 1024);
  });

  it('BLANK, what a label shows before its first picture, is answered without a sqlite read (D63)', async () => {
    const images = new ImageStore({ db });
    let reads = 0;
    const get = db.get.bind(db);
    db.get = ((sql: string, params?: unknown[]) => {
      reads++;
      return get(sql, params as never);
    }) as typeof db.get;
    const all = db.all.bind(db);
    db.all = ((sql: string, params?: unknown[]) => {
      reads++;
      return all(sql, params as never);
    }) as typeof db.all;
    expect(await images.content(BLANK_HASH)).toBeUndefined();
    expect(await images.load(BLANK_HASH)).toBeUndefined();
    expect((await images.contents([BLANK_HASH])).size).toBe(0);
    expect(reads).toBe(0);
    expect(images.stats.misses).toBe(0);
    // Any other hash not in memory is still read from sqlite.
    expect(await images.content('00000000000000ff')).toBeUndefined();
    expect(reads).toBe(1);
    expect(images.stats.misses).toBe(1);
  });
});
