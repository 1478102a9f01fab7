/**
 * The reference store of the full-store benchmark (/work/shared/reference-store.md) and the events of its three
 * standard updates, in the edge's event contract (contracts/src/event-schemas.ts).
 *
 * The catalogue comes from the simulator's store generator (simulator/src/scenario-store.ts: German supermarket
 * names, fictional brands, pack sizes for the Grundpreis, GTIN-13s with valid check digits), so the benchmark and
 * the scenarios render the same kind of labels. Two things are set here exactly rather than by chance: every AP
 * has the same number of labels, assigned at random (label ids of a real store are MACs, unrelated to where the
 * label hangs, so the edge's label-id order must not coincide with AP order), and exactly 10 % of the labels are
 * heard by a neighbour AP.
 */
import { randomInt, seededRandom, type Random } from '../simulator/src/rng.js';
import { GeneratedStoreSchema } from '../simulator/src/scenario-schema.js';
import { generateStore } from '../simulator/src/scenario-store.js';
import { changedPrice, seedEvents, toBatches, type BatchEvent } from '../simulator/src/scenario-events.js';
import type { StoreFile } from '../simulator/src/store-file.js';
import type { SingleEvent } from '#contracts';

/** Reference label mix: 60 % 2.9" BWR, 20 % 2.13" BWR, 10 % 1.54" BW, 8 % 4.2" BWRY, 2 % 7.5" BWR. */
export const REFERENCE_MIX = { 'epd-29-bwr': 60, 'epd-213-bwr': 20, 'epd-154-bw': 10, 'epd-42-bwry': 8, 'epd-75-bwr': 2 };
const SOURCE = 'hq';
const DAY_MS = 86_400_000;
/** The edge applies a batch in one transaction; its default intake limit is 8 MB per event. */
const BATCH_BYTES = 4 * 1024 * 1024;

export interface ApUser {
  username: string;
  password: string;
  role: 'ap';
  apId: string;
}

export interface BenchStore {
  file: StoreFile;
  users: ApUser[];
  /** Current regular price per product (index = product index = label index). */
  prices: number[];
  /** Products in a promotion from the start (10 %). */
  ongoingPromo: number[];
  /** Products that enter a promotion in the promotion-start update (10 %, none of them in ongoingPromo). */
  startPromo: number[];
  labelsWithNeighbour: number;
  random: Random;
}

function shuffle<T>(a: T[], random: Random): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function buildStore(spec: { labels: number; aps: number; seed: number }): BenchStore {
  const file = generateStore(
    GeneratedStoreSchema.parse({ chain: 'bench', store: 'ref-1', aps: spec.aps, labels: spec.labels, labelTypes: REFERENCE_MIX, neighbourFraction: 0, seed: spec.seed }),
  );
  const random = seededRandom(spec.seed ^ 0x5eed);
  // Equal shares per AP, at random; exactly 10 % of labels also heard by the next AP.
  const homes = shuffle(
    Array.from({ length: spec.labels }, (_, i) => i % spec.aps),
    random,
  );
  const withNeighbour = new Set(spec.aps > 1 ? shuffle(Array.from({ length: spec.labels }, (_, i) => i), random).slice(0, Math.round(spec.labels / 10)) : []);
  file.labels.forEach((l, i) => {
    const home = homes[i]!;
    l.apId = file.aps[home]!.apId;
    if (withNeighbour.has(i)) l.neighbourApId = file.aps[(home + 1) % spec.aps]!.apId;
    else delete l.neighbourApId;
  });
  const order = shuffle(
    Array.from({ length: file.products.length }, (_, i) => i),
    random,
  );
  const tenth = Math.round(file.products.length / 10);
  return {
    file,
    users: file.aps.map((a) => ({ username: a.apId.toLowerCase(), password: `${a.apId}-bench-secret`, role: 'ap' as const, apId: a.apId })),
    prices: file.products.map((p) => p.regularPriceCents),
    ongoingPromo: order.slice(0, tenth),
    startPromo: order.slice(tenth, 2 * tenth),
    labelsWithNeighbour: withNeighbour.size,
    random,
  };
}

/** Splits product indices into `n` promotions with different discounts (as a weekly flyer would). */
function promotions(store: BenchStore, items: number[], prefix: string, startMs: number, endMs: number, badge: string): SingleEvent[] {
  const discounts = [10, 15, 20, 25, 30];
  const out: SingleEvent[] = [];
  discounts.forEach((percentOff, k) => {
    const gtins = items.filter((_, i) => i % discounts.length === k).map((i) => store.file.products[i]!.gtin);
    if (gtins.length === 0) return;
    out.push({
      // Event ids must differ from the ids of the batches that carry them (the edge de-duplicates by id).
      id: `${prefix}-${k + 1}-announced`,
      source: SOURCE,
      version: 1,
      type: 'promotion',
      data: { promotionId: `${prefix}-${k + 1}`, name: `${badge} ${percentOff} %`, gtins, percentOff, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(), badge },
    });
  });
  return out;
}

/** Catalogue, prices, label bindings and the promotions running already (10 % of products). */
export function seedBatches(store: BenchStore, nowMs: number): BatchEvent[] {
  const events = [...seedEvents(store.file, SOURCE), ...promotions(store, store.ongoingPromo, 'promo-running', nowMs - 3 * DAY_MS, nowMs + 11 * DAY_MS, 'Aktion')];
  return toBatches(events, { idPrefix: 'seed', source: SOURCE, version: 1 }, BATCH_BYTES);
}

/** Update 1: every product's regular price changes (+3 %), as a nightly price list. */
export function repricingBatches(store: BenchStore, version: number): BatchEvent[] {
  const events: SingleEvent[] = store.file.products.map((p, i) => {
    store.prices[i] = changedPrice(store.prices[i]!, 3);
    return { id: `reprice-${version}-${p.gtin}`, source: SOURCE, version, type: 'price', data: { gtin: p.gtin, priceCents: store.prices[i]!, currency: 'EUR' } };
  });
  return toBatches(events, { idPrefix: `reprice-${version}`, source: SOURCE, version }, BATCH_BYTES);
}

/** Update 2: 10 % of products enter a promotion at `startMs` (for a week). */
export function promotionStartBatch(store: BenchStore, startMs: number): BatchEvent[] {
  return toBatches(promotions(store, store.startPromo, 'promo-week', startMs, startMs + 7 * DAY_MS, 'Angebot'), { idPrefix: 'promo-week-batch', source: SOURCE, version: 1 }, BATCH_BYTES);
}

/** Update 3: `n` price changes (−10 %) of distinct products, each its own event; returns product index and event. */
export function smallChangeEvents(store: BenchStore, n: number, version: number): { product: number; event: SingleEvent }[] {
  const picked = shuffle(
    Array.from({ length: store.file.products.length }, (_, i) => i),
    store.random,
  ).slice(0, Math.min(n, store.file.products.length));
  return picked.map((i) => {
    const p = store.file.products[i]!;
    store.prices[i] = changedPrice(store.prices[i]!, -10);
    return { product: i, event: { id: `small-${version}-${p.gtin}`, source: SOURCE, version, type: 'price', data: { gtin: p.gtin, priceCents: store.prices[i]!, currency: 'EUR' } } };
  });
}
