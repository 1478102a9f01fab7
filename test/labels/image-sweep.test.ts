/**
 * The periodic image sweep (issue 16 item 5; D147): pictures no label refers to leave the memory cache, the label
 * store's interned hashes follow, and the walk over the labels yields to the event loop in slices. Timers run on a
 * ManualClock; slice budgets are 0 (every label ends a slice) so nothing depends on this machine's speed.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { LoopSlices, createLoopTaskTiming } from '../../src/core/loop-tasks.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { ImageSweep, SWEEP_INTERVAL_MS } from '../../src/domain/labels/image-sweep.js';
import { tempDir } from '../support/temp-dir.js';
import { pictureContent, picturePlanes } from '../support/picture-fixture.js';

const log = createLogger({ level: 'silent' });
const content = pictureContent;
const planes = picturePlanes;
const hash = (i: number) => (i + 1).toString(16).padStart(16, '0');
const label = (i: number) => `00000000000000${(0xa0 + i).toString(16).toUpperCase()}`;

describe('image sweep (D147)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  let clock: ManualClock;
  let labels: LabelStore;
  let images: ImageStore;

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'edge.db'));
    clock = new ManualClock(Date.UTC(2026, 11, 3, 8, 0));
    labels = await LabelStore.load({ db, clock, log });
    images = new ImageStore({ db });
    // Six labels, each planned to its own picture; pictures 0–9 in the cache, so 6–9 are referenced by no label.
    await db.transaction(async (tx) => {
      for (let i = 0; i < 6; i++) await labels.bindTx(tx, label(i), content.gtin, null);
      for (let i = 0; i < 10; i++) await images.save(tx, { hash: hash(i), labelType: 3, planes: planes(i), content: { ...content, priceCents: 100 + i } }, 0);
    });
    for (let i = 0; i < 6; i++) labels.planned(label(i), { hash: hash(i), priority: 0, now: clock.now(), seenDirty: labels.get(label(i))!.dirty });
  });
  afterEach(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('gathers the referenced hashes in slices, yielding between labels, with the same answer as in one piece', async () => {
    const timing = createLoopTaskTiming();
    const slices = new LoopSlices(timing, 'image_sweep', 0);
    const sliced = await labels.referencedHashes(slices);
    expect([...sliced].sort()).toEqual([0, 1, 2, 3, 4, 5].map(hash));
    expect(slices.slices).toBe(6);
    expect(timing.snapshot().find((h) => h.stage === 'image_sweep')!.count).toBe(7);
    expect(await labels.referencedHashes()).toEqual(sliced);
  });

  it('runs every minute on the injected clock: unreferenced pictures leave memory, referenced ones stay', async () => {
    const timing = createLoopTaskTiming();
    const sweep = new ImageSweep({ clock, labels, images, loopTasks: timing });
    sweep.start();
    expect(images.cachedImages).toBe(10);
    clock.advance(SWEEP_INTERVAL_MS - 1);
    await new Promise((r) => setImmediate(r));
    expect(sweep.stats.sweeps).toBe(0);
    clock.advance(1);
    // The timer started a sweep; sweep() joins the one under way instead of starting another.
    await sweep.sweep();
    expect(sweep.stats).toEqual({ sweeps: 1, evicted: 4 });
    expect(images.cachedImages).toBe(6);
    expect(timing.snapshot().find((h) => h.stage === 'image_sweep')!.count).toBeGreaterThanOrEqual(1);
    // A dropped picture is still in sqlite: read back on its next use.
    expect((await images.load(hash(8)))?.content.priceCents).toBe(108);
    // Stopped: no timer is left to run.
    await sweep.stop();
    clock.advance(10 * SWEEP_INTERVAL_MS);
    await new Promise((r) => setImmediate(r));
    expect(sweep.stats.sweeps).toBe(1);
  });
});
