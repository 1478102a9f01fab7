/**
 * Planning in batches (D60–D61): a chunk's contents are read with a few set-based statements, its renders go to the
 * renderer as one renderMany call, two chunks are under way at once and never share a product, and its pictures are
 * saved with one statement per 128. Each must give exactly what one product at a time gave: the batched pricing rows
 * are checked against the single-product queries of effectivePriceAt (the one-product definition), the batched contents
 * against one-product calls, and the planner's desired hashes against the contents it rendered. Time is a
 * ManualClock; "under way at once" is observed through a renderer that answers only when the test lets it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { EventIntake } from '../../src/domain/events/event-intake.js';
import { LabelPlanner, planChunks, type Renderer } from '../../src/domain/labels/label-planner.js';
import { ImageStore } from '../../src/domain/labels/image-store.js';
import { LabelStore } from '../../src/domain/labels/label-store.js';
import { buildLabelContents, contentKey } from '../../src/domain/labels/content-builder.js';
import { effectiveFromRows, effectivePriceAt, pricingRowsMany } from '../../src/domain/pricing/effective-price.js';
import { gtin13, type LabelContent } from '#contracts';
import { BLANK_HASH, type LabelType, WakeReason } from '#protocol';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/temp-dir.js';

const NOW = Date.parse('2026-11-20T10:00:00+01:00');
const DAY = 86_400_000;
const PRODUCTS = 300;
const gtinOf = (i: number) => gtin13(`40000${String(i).padStart(7, '0')}`);
/** Products 0..PRODUCTS-1 have 1 to 3 labels each (i % 3 + 1): 600 labels, so chunks of 256 must not split a product. */
const labelsOf = (i: number) => Array.from({ length: (i % 3) + 1 }, (_, k) => `0000A1${String(i).padStart(6, '0')}${String(k).padStart(4, '0')}`);

/** A renderer that records each renderMany call and answers it only when the test releases it. */
class GatedRenderer implements Renderer {
  readonly calls: { gtins: string[]; release: () => void }[] = [];
  gated = true;
  templateNames(): string[] {
    return ['price-standard'];
  }
  render(content: LabelContent, labelType: LabelType): Promise<{ planes: Uint8Array; hash: string }> {
    return Promise.resolve(picture(content, labelType));
  }
  renderMany(jobs: readonly { content: LabelContent; labelType: LabelType }[]): Promise<PromiseSettledResult<{ planes: Uint8Array; hash: string }>[]> {
    return new Promise((resolve) => {
      const release = () => resolve(jobs.map((j) => ({ status: 'fulfilled', value: picture(j.content, j.labelType) })));
      this.calls.push({ gtins: jobs.map((j) => j.content.gtin), release });
      if (!this.gated) release();
    });
  }
}
function picture(content: LabelContent, labelType: LabelType): { planes: Uint8Array; hash: string } {
  const json = JSON.stringify(content);
  return { planes: new Uint8Array(Buffer.from(`${labelType.id}:${json}`)), hash: createHash('sha256').update(`${labelType.id}:${json}`).digest('hex').slice(0, 32) };
}

describe('planning in batches', () => {
  const tmp = tempDir();
  const clock = new ManualClock(NOW);
  const log = createLogger({ level: 'silent' });
  let db: Database;
  let labels: LabelStore;
  let images: ImageStore;
  let intake: EventIntake;

  beforeAll(async () => {
    db = await Database.open(join(tmp.dir, 'store.db'));
    labels = await LabelStore.load({ db, clock, log });
    images = new ImageStore({ db });
    intake = new EventIntake({ db, labels, clock, log, maxEventBytes: 1 << 24, onApplied: () => undefined });
    const events: unknown[] = [];
    const iso = (t: number) => new Date(t).toISOString().replace('Z', '+00:00');
    for (let i = 0; i < PRODUCTS; i++) {
      const g = gtinOf(i);
      events.push({ id: `p${i}`, source: 'hq', version: 1, type: 'product', data: { gtin: g, name: `Produkt ${i}`, ...(i % 2 ? { brand: 'Marke' } : {}), packSize: { quantity: 250 + i, unit: 'g' } } });
      // Every 10th product has no price at all (no content); the others a price since last week, some a newer one
      // from yesterday and one from tomorrow (not yet in force).
      if (i % 10 !== 9) events.push({ id: `r${i}`, source: 'hq', version: 1, type: 'price', data: { gtin: g, priceCents: 100 + i, validFrom: iso(NOW - 7 * DAY) } });
      if (i % 4 === 0) events.push({ id: `r${i}b`, source: 'hq', version: 2, type: 'price', data: { gtin: g, priceCents: 90 + i, validFrom: iso(NOW - DAY) } });
      if (i % 6 === 0) events.push({ id: `r${i}c`, source: 'hq', version: 3, type: 'price', data: { gtin: g, priceCents: 80 + i, validFrom: iso(NOW + DAY) } });
      if (i % 5 === 0) events.push({ id: `s${i}`, source: 'hq', version: 1, type: 'stock', data: { gtin: g, quantity: i } });
      for (const [k, id] of labelsOf(i).entries()) events.push({ id: `b${id}`, source: 'hq', version: 1, type: 'binding', data: { labelId: id, gtin: g, ...(k === 2 ? { template: 'price-standard' } : {}) } });
    }
    const some = (m: number) => Array.from({ length: PRODUCTS }, (_, i) => i).filter((i) => i % m === 1).map(gtinOf);
    // Running promotions (two overlapping on some products: the lower price wins), one that ended three days ago.
    events.push({ id: 'pr1', source: 'hq', version: 1, type: 'promotion', data: { promotionId: 'wk1', gtins: some(3), percentOff: 20, start: iso(NOW - 2 * DAY), end: iso(NOW + 5 * DAY), badge: 'Aktion' } });
    events.push({ id: 'pr2', source: 'hq', version: 1, type: 'promotion', data: { promotionId: 'wk2', gtins: some(7), promoPriceCents: 99, start: iso(NOW - DAY), end: iso(NOW + 2 * DAY) } });
    events.push({ id: 'pr3', source: 'hq', version: 1, type: 'promotion', data: { promotionId: 'old', gtins: some(4), percentOff: 10, start: iso(NOW - 10 * DAY), end: iso(NOW - 3 * DAY) } });
    const r = await intake.ingest(JSON.stringify({ id: 'seed', source: 'hq', version: 1, type: 'batch', data: { events } }), { channel: 'local' });
    expect(r.reply.status).toBe('applied');
    // Rule effects as the rule engine leaves them (a short-dated price, an out-of-stock picture) and an ended rule price.
    await db.transaction(async (tx) => {
      for (let i = 2; i < PRODUCTS; i += 11) {
        await tx.run(`INSERT INTO rule_effects (gtin, rule_id, kind, status, cents, start_at, end_at, reason, badge, detail, updated_at) VALUES (?, 'md', 'short-dated', 'active', ?, ?, NULL, 'MHD', 'Kurz', NULL, ?)`, [gtinOf(i), 50 + i, NOW - DAY, NOW]);
      }
      for (let i = 3; i < PRODUCTS; i += 13) {
        await tx.run(`INSERT INTO rule_effects (gtin, rule_id, kind, status, cents, start_at, end_at, reason, badge, detail, updated_at) VALUES (?, 'oos', 'out-of-stock', 'active', NULL, ?, NULL, NULL, NULL, ?, ?)`, [gtinOf(i), NOW - DAY, JSON.stringify({ text: 'Bald wieder da', url: 'https://shop.example/{gtin}' }), NOW]);
        await tx.run(`INSERT INTO rule_history (at, gtin, rule_id, kind, action, cents, start_at, end_at, detail) VALUES (?, ?, 'low', 'low-stock', 'ended', 77, ?, ?, NULL)`, [NOW - DAY, gtinOf(i), NOW - 2 * DAY, NOW - DAY]);
      }
    });
    for (let i = 0; i < PRODUCTS; i++) {
      for (const id of labelsOf(i)) {
        labels.checkin('AP-1', { type: 'LABEL_CHECKIN', labelId: id, labelType: 3, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: WakeReason.TIMER, pendingTransferId: 0 }, NOW);
      }
    }
  });
  afterAll(async () => {
    await labels.stop();
    await db.close();
    tmp.remove();
  });

  it('reads the same pricing rows for a whole set as effectivePriceAt reads for one product', async () => {
    const gtins = Array.from({ length: PRODUCTS }, (_, i) => gtinOf(i));
    for (const at of [NOW, NOW - 5 * DAY, NOW + 2 * DAY, NOW + 6 * DAY]) {
      const many = await db.transaction((tx) => pricingRowsMany(tx, [...gtins, '4000000999996'], at));
      let priced = 0;
      for (const g of gtins) {
        const one = await db.transaction((tx) => effectivePriceAt(tx, g, at));
        const batched = effectiveFromRows(many.get(g)!);
        expect(batched, `${g} at ${at}`).toEqual(one);
        if (one) priced++;
      }
      expect(priced).toBe(PRODUCTS - PRODUCTS / 10);
      expect(effectiveFromRows(many.get('4000000999996')!)).toBeUndefined();
    }
  });

  it('builds for many products what it builds for each alone', async () => {
    const wanted = Array.from({ length: PRODUCTS }, (_, i) => ({ gtin: gtinOf(i), template: i % 3 === 2 ? 'price-standard' : null }));
    const all = await db.transaction((tx) => buildLabelContents(tx, [...wanted, ...wanted.slice(0, 5)], NOW));
    expect(all.size).toBe(PRODUCTS);
    let promoted = 0;
    for (const w of wanted) {
      const alone = await db.transaction((tx) => buildLabelContents(tx, [w], NOW));
      expect(all.get(contentKey(w.gtin, w.template)), w.gtin).toEqual(alone.get(contentKey(w.gtin, w.template)));
      if (alone.get(contentKey(w.gtin, w.template))?.content.promotion) promoted++;
    }
    // The fixture covers what the batch must keep apart: promotions, short-dated prices, out-of-stock pictures.
    expect(promoted).toBeGreaterThan(50);
    expect([...all.values()].filter((b) => b?.content.outOfStock).length).toBeGreaterThan(10);
    expect([...all.values()].filter((b) => b === undefined).length).toBe(PRODUCTS / 10);
  });

  it('cuts dirty labels into chunks of whole products, by product then label id', () => {
    const ls = [
      { id: 'c', gtin: 'g2' },
      { id: 'a', gtin: 'g1' },
      { id: 'b', gtin: 'g1' },
      { id: 'z', gtin: null },
      { id: 'd', gtin: 'g2' },
      { id: 'e', gtin: 'g3' },
      { id: 'y', gtin: null },
    ];
    expect(planChunks(ls, 1)).toEqual([['a', 'b'], ['c', 'd'], ['e'], ['y'], ['z']]);
    expect(planChunks(ls, 3)).toEqual([['a', 'b', 'c', 'd'], ['e', 'y', 'z']]);
    expect(planChunks([], 256)).toEqual([]);
  });

  it('plans two chunks at once, each rendered in one call, whole products per chunk', async () => {
    const renderer = new GatedRenderer();
    const planned: string[] = [];
    const planner = new LabelPlanner({ db, labels, images, renderer, clock, log, concurrency: 4, onPlanned: (ids) => planned.push(...ids) });
    planner.kick();
    // The first chunk is built and sent; the second is built and sent while the first is still being rendered.
    for (let i = 0; i < 200 && renderer.calls.length < 2; i++) {
      await db.get('SELECT 1');
      await new Promise((r) => setImmediate(r));
    }
    expect(renderer.calls.length).toBe(2);
    // Not a third: at most two chunks are under way.
    for (let i = 0; i < 20; i++) {
      await db.get('SELECT 1');
      await new Promise((r) => setImmediate(r));
    }
    expect(renderer.calls.length).toBe(2);
    renderer.gated = false;
    for (const c of renderer.calls.slice(0, 2)) c.release();
    await planner.idle();
    planner.stop();

    const total = Array.from({ length: PRODUCTS }, (_, i) => labelsOf(i).length).reduce((a, b) => a + b, 0);
    const seen = new Map<string, number>();
    renderer.calls.forEach((c, k) => {
      for (const g of c.gtins) {
        expect(seen.get(g) ?? k, `product ${g} split over two chunks`).toBe(k);
        seen.set(g, k);
      }
    });
    // Labels without content (no price) are not rendered; every other label is, once.
    const rendered = renderer.calls.reduce((n, c) => n + c.gtins.length, 0);
    const unpriced = Array.from({ length: PRODUCTS }, (_, i) => i).filter((i) => i % 10 === 9).reduce((n, i) => n + labelsOf(i).length, 0);
    expect(rendered).toBe(total - unpriced);
    expect(labels.dirty().length).toBe(0);
    expect(new Set(planned).size).toBe(total - unpriced);
    // Each label's desired picture is the one rendered from its own product's content, and stored.
    for (const i of [0, 1, 2, 3, 13, 77, 299]) {
      for (const id of labelsOf(i)) {
        const h = labels.get(id)!.desiredHash;
        if (i % 10 === 9) {
          expect(h).toBeNull();
          continue;
        }
        const img = await images.load(h!);
        expect(img?.content.gtin).toBe(gtinOf(i));
        expect(picture(img!.content, { id: 3 } as LabelType).hash).toBe(h);
      }
    }
    // The §11 history got the effective price of every priced product once, as the one-chunk-at-a-time planner wrote it.
    const hist = await db.all<{ n: number }>('SELECT count(DISTINCT gtin) AS n FROM price_history');
    expect(hist[0]!.n).toBe(PRODUCTS - PRODUCTS / 10);
  });

  it('plans a repricing in the order the labels will wake (D120)', async () => {
    // Wake reports say: the labels of product i wake next 2 s + (300 − i) × 90 ms from now (a 30-s sleep), so the
    // catalogue's last products wake first. Each label shows the picture planned above, so a repricing sends it a
    // delta (D129: only deltas ride the wave).
    const SLEEP = 30_000;
    for (let i = 0; i < PRODUCTS; i++) {
      for (const id of labelsOf(i)) {
        const shown = labels.get(id)!.desiredHash ?? BLANK_HASH;
        labels.checkin('AP-1', { type: 'LABEL_CHECKIN', labelId: id, labelType: 3, displayedHash: shown, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: WakeReason.TIMER, pendingTransferId: 0 }, clock.now());
      }
      for (const id of labelsOf(i))
        labels.observeWake(id, (s) => {
          s.wakeAt = clock.now() - SLEEP + 2_000 + (PRODUCTS - i) * 90;
          s.wakeToldMs = SLEEP;
        });
    }
    const priced = Array.from({ length: PRODUCTS }, (_, i) => i).filter((i) => i % 10 !== 9);
    const reprice = async (version: number) => {
      const events = priced.map((i) => ({ id: `v${version}-${i}`, source: 'hq', version, type: 'price', data: { gtin: gtinOf(i), priceCents: version * 100 + i } }));
      const r = await intake.ingest(JSON.stringify({ id: `v${version}`, source: 'hq', version, type: 'batch', data: { events } }), { channel: 'local' });
      expect(r.reply.status).toBe('applied');
    };
    const plan = async (planByWake: boolean) => {
      const renderer = new GatedRenderer();
      renderer.gated = false;
      const planner = new LabelPlanner({ db, labels, images, renderer, clock, log, concurrency: 4, planByWake, onPlanned: () => undefined });
      planner.kick();
      await planner.idle();
      planner.stop();
      return renderer.calls.map((c) => c.gtins);
    };
    const index = new Map(Array.from({ length: PRODUCTS }, (_, i) => [gtinOf(i), i]));

    await reprice(10);
    const wave = await plan(true);
    // Chunks in wake order: the first holds the products that wake soonest (the catalogue's last), and each chunk's
    // products wake after the previous chunk's.
    const newest = wave.map((c) => Math.max(...c.map((g) => index.get(g)!)));
    expect(wave.length).toBeGreaterThan(1);
    expect(newest[0]).toBe(298);
    expect([...newest].sort((a, b) => b - a)).toEqual(newest);
    expect(wave.flat().length).toBe(priced.reduce((n, i) => n + labelsOf(i).length, 0));

    // Off (dispatch.planByWake false): catalogue order, the chunks of D61.
    await reprice(11);
    const expected = planChunks(labels.dirty(), 256).map((ch) => ch.map((id) => labels.get(id)!.gtin));
    expect(await plan(false)).toEqual(expected);
  });

  it('saves many pictures at once: stored, in memory after the commit, not after a rollback', async () => {
    const imgs = [1, 2, 3].map((k) => ({ hash: `h${k}`.padEnd(32, '0'), labelType: 3, planes: new Uint8Array(9000).fill(k), content: { gtin: gtinOf(k), name: `P${k}`, priceCents: k, currency: 'EUR' } as LabelContent }));
    const store = new ImageStore({ db });
    await expect(
      db.transaction(async (tx) => {
        await store.saveMany(tx, imgs, NOW);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(store.cachedImages).toBe(0);
    expect(await db.get('SELECT hash FROM images WHERE hash = ?', [imgs[0]!.hash])).toBeUndefined();
    await db.transaction((tx) => store.saveMany(tx, [...imgs, imgs[0]!], NOW));
    expect(store.cachedImages).toBe(3);
    for (const img of imgs) {
      const back = await new ImageStore({ db }).load(img.hash);
      expect(back?.planes).toEqual(img.planes);
      expect(back?.content).toEqual(img.content);
    }
  });
});
