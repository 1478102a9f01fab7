/**
 * The events a scenario sends to the edge, in the edge's own contract (contracts/src/event-schemas.ts): the
 * store's catalogue and label bindings as seed batches, and price changes as a POS (one event per price) or HQ
 * (one batch for many prices) would send them. Pure builders; scenario-publisher.ts puts them on MQTT.
 */
import { createHash } from 'node:crypto';
import type { EdgeEvent, SingleEvent } from '#contracts';
import type { Product, StoreFile } from './store-file.js';

export type BatchEvent = Extract<EdgeEvent, { type: 'batch' }>;
type EdgePackUnit = NonNullable<Extract<SingleEvent, { type: 'product' }>['data']['packSize']>['unit'];

/** Store-file units → the edge's pack units. */
const EDGE_UNIT: Record<Product['packSize']['unit'], EdgePackUnit> = { g: 'g', kg: 'kg', ml: 'ml', l: 'l', m: 'm', 'm²': 'm2', Stück: 'piece' };

/** Batches stay well below the embedded broker's packet limit (mqtt.embedded.maxPacketBytes, 256 kB by default). */
export const MAX_BATCH_BYTES = 128 * 1024;

/** Identifies a store's content: seed events carry it in their ids, so seeding the same store again is a no-op. */
export function storeFingerprint(store: StoreFile): string {
  return createHash('sha256').update(JSON.stringify(store)).digest('hex').slice(0, 12);
}

/** Product, price and binding events for every product and label of the store (stable ids, version 1). */
export function seedEvents(store: StoreFile, source: string): SingleEvent[] {
  const fp = storeFingerprint(store);
  const events: SingleEvent[] = [];
  for (const p of store.products) {
    events.push({
      id: `${source}-${fp}-product-${p.gtin}`,
      source,
      version: 1,
      type: 'product',
      data: {
        gtin: p.gtin,
        name: p.name,
        ...(p.brand !== undefined ? { brand: p.brand } : {}),
        packSize: { quantity: p.packSize.quantity, unit: EDGE_UNIT[p.packSize.unit] },
        loose: p.loose,
        category: p.category,
      },
    });
    events.push({ id: `${source}-${fp}-price-${p.gtin}`, source, version: 1, type: 'price', data: { gtin: p.gtin, priceCents: p.regularPriceCents, currency: 'EUR' } });
  }
  for (const l of store.labels) events.push({ id: `${source}-${fp}-binding-${l.labelId}`, source, version: 1, type: 'binding', data: { labelId: l.labelId, gtin: l.gtin } });
  return events;
}

/** A regular price change of one product, effective at once. */
export function priceEvent(gtin: string, priceCents: number, meta: { id: string; source: string; version: number }): SingleEvent {
  return { id: meta.id, source: meta.source, version: meta.version, type: 'price', data: { gtin, priceCents, currency: 'EUR' } };
}

/**
 * Events packed into batch events of at most `maxBytes` of JSON each, in order. Each batch is applied by the edge
 * in one transaction; a catalogue larger than one packet becomes several batches (ids `${idPrefix}-${n}`).
 */
export function toBatches(events: readonly SingleEvent[], meta: { idPrefix: string; source: string; version: number }, maxBytes = MAX_BATCH_BYTES): BatchEvent[] {
  const out: BatchEvent[] = [];
  let current: SingleEvent[] = [];
  let size = 0;
  const flush = () => {
    if (current.length === 0) return;
    out.push({ id: `${meta.idPrefix}-${out.length + 1}`, source: meta.source, version: meta.version, type: 'batch', data: { events: current } });
    current = [];
    size = 0;
  };
  for (const e of events) {
    const bytes = Buffer.byteLength(JSON.stringify(e)) + 1;
    // 200 bytes of slack for the batch envelope.
    if (size + bytes + 200 > maxBytes) flush();
    current.push(e);
    size += bytes;
  }
  flush();
  return out;
}

/** The new price after a change of `percent` (at least one cent, and different from the old one where possible). */
export function changedPrice(cents: number, percent: number): number {
  const next = Math.max(1, Math.round(cents * (1 + percent / 100)));
  if (next !== cents) return next;
  return Math.max(1, cents + (percent > 0 ? 1 : -1));
}

/**
 * Versions for the events a run sends (event-schemas.ts: a number that grows with every change of an entity).
 * Taken from the wall clock, so a later run against the same edge is newer than an earlier one, and strictly
 * increasing within a run.
 */
export class VersionSource {
  private last = 0;
  constructor(private readonly wallNow: () => number) {}
  next(): number {
    this.last = Math.max(this.last + 1, Math.floor(this.wallNow()));
    return this.last;
  }
}
