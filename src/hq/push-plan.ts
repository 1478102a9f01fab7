/**
 * Turns a validated list into the batch events each store gets (pure: no clock, no broker). One list is one batch
 * = one transaction at the store, unless it does not fit one MQTT packet: the embedded broker refuses a payload
 * above `mqtt.embedded.maxPacketBytes` (256 KiB by default) and most HQ brokers have a limit too, so a long list is
 * cut into several batches of at most `maxEventsPerBatch` events and `maxBatchBytes` bytes, each its own
 * transaction (docs/hq-push.md says so to the pricing teams).
 *
 * Ids are deterministic: `{pushId}-{store}-r{row}` per event and `{pushId}-{store}-{i}of{n}` per batch, with
 * pushId derived from the list's content, so pushing the same list again is answered "duplicate" and changes
 * nothing — the safe way to retry after "no answer". Versions: one per push (a timestamp by default); the rows
 * of one GTIN with different valid-from dates get version, version+1, … in date order, since the edge orders
 * events per entity (price:{gtin}) by version and would call a second row of the same version stale. Rows of one
 * entity always travel in the same batch so that they commit together.
 */
import { createHash } from 'node:crypto';
import type { SingleEvent } from '../domain/events/event-schemas.js';
import { HqError, HqErrorCode } from './hq-error-codes.js';
import { recordsForStore, type HqRecord } from './hq-records.js';
import { STORE_ID_PATTERN } from './stores-list.js';

export const DEFAULT_MAX_EVENTS_PER_BATCH = 2_000;
/** 16 KiB under the embedded broker's 256 KiB default, for the MQTT header and topic. */
export const DEFAULT_MAX_BATCH_BYTES = 240 * 1024;
export const PUSH_ID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

export interface PlanOptions {
  chain: string;
  /** The pushing user: replies come back under esl/{chain}/{store}/reply/{username}/. */
  username: string;
  source: string;
  version: number;
  pushId: string;
  maxEventsPerBatch?: number;
  maxBatchBytes?: number;
}

export interface PlannedBatch {
  id: string;
  topic: string;
  replyTo: string;
  payload: string;
  events: number;
  bytes: number;
}

export interface StorePlan {
  store: string;
  events: number;
  bytes: number;
  batches: PlannedBatch[];
}

/** "hq-" + 16 hex digits of the SHA-256 of the list's content (its records, rows included). */
export function defaultPushId(records: readonly HqRecord[]): string {
  return `hq-${createHash('sha256').update(JSON.stringify(records)).digest('hex').slice(0, 16)}`;
}

export function storeRootTopic(chain: string, store: string): string {
  return `esl/${chain}/${store}`;
}

function checkOptions(stores: readonly string[], opts: PlanOptions): void {
  const bad = (message: string) => new HqError(HqErrorCode.HQ_BAD_OPTION, message);
  if (!STORE_ID_PATTERN.test(opts.chain)) throw bad(`chain "${opts.chain}" is not an id (letters, digits, "_" or "-", at most 32)`);
  for (const s of stores) if (!STORE_ID_PATTERN.test(s)) throw bad(`store "${s}" is not an id (letters, digits, "_" or "-", at most 32)`);
  if (new Set(stores).size !== stores.length) throw bad('a store is named twice');
  // The username is a topic level of the reply path: no separators or wildcards.
  if (!/^[^/+#\s]{1,64}$/.test(opts.username)) throw bad(`username "${opts.username}" cannot be a topic level`);
  if (!PUSH_ID_PATTERN.test(opts.pushId)) throw bad(`push id "${opts.pushId}" must be 1–40 of letters, digits, "_" or "-"`);
  if (opts.source.length < 1 || opts.source.length > 64) throw bad('source must be 1–64 characters');
  if (!Number.isSafeInteger(opts.version) || opts.version < 0) throw bad(`version ${opts.version} is not a non-negative integer`);
  if (!Number.isInteger(opts.maxEventsPerBatch ?? 1) || (opts.maxEventsPerBatch ?? 1) < 1) throw bad('maxEventsPerBatch must be a positive integer');
}

function entityKey(r: HqRecord): string {
  return r.type === 'price' ? `price:${r.data.gtin}` : `promotion:${r.data.promotionId}`;
}

/** The store's single events, grouped per entity (first appearance order), versions rising within a group. */
function storeEventGroups(records: readonly HqRecord[], store: string, opts: PlanOptions): SingleEvent[][] {
  const groups = new Map<string, HqRecord[]>();
  for (const r of recordsForStore(records, store)) {
    const key = entityKey(r);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const base = `${opts.pushId}-${store}`;
  return [...groups.values()].map((group) => {
    // No valid-from (= at once) sorts first; ISO instants with offsets compare by their instant.
    const when = (r: HqRecord) => (r.type === 'price' && r.data.validFrom ? Date.parse(r.data.validFrom) : -Infinity);
    return [...group]
      .sort((a, b) => when(a) - when(b))
      .map((r, k): SingleEvent => {
        const envelope = { id: `${base}-r${r.rows[0]}`, source: opts.source, version: opts.version + k };
        return r.type === 'price' ? { ...envelope, type: 'price', data: r.data } : { ...envelope, type: 'promotion', data: r.data };
      });
  });
}

export function planPush(records: readonly HqRecord[], stores: readonly string[], opts: PlanOptions): StorePlan[] {
  checkOptions(stores, opts);
  const maxEvents = opts.maxEventsPerBatch ?? DEFAULT_MAX_EVENTS_PER_BATCH;
  const maxBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  return stores.map((store) => {
    const root = storeRootTopic(opts.chain, store);
    const base = `${opts.pushId}-${store}`;
    const envelope = (id: string) => ({ id, source: opts.source, version: opts.version, type: 'batch' as const, replyTo: `${root}/reply/${opts.username}/push-${id}` });
    // The envelope's size with the longest batch id it can get bounds what the events may use.
    const reserve = Buffer.byteLength(JSON.stringify({ ...envelope(`${base}-999999of999999`), data: { events: [] } }));

    const chunks: { events: SingleEvent[]; bytes: number }[] = [];
    let current: { events: SingleEvent[]; bytes: number } = { events: [], bytes: 0 };
    const close = () => {
      if (current.events.length > 0) chunks.push(current);
      current = { events: [], bytes: 0 };
    };
    for (const group of storeEventGroups(records, store, opts)) {
      const sizes = group.map((e) => Buffer.byteLength(JSON.stringify(e)) + 1);
      sizes.forEach((size, i) => {
        if (reserve + size > maxBytes) {
          const e = group[i]!;
          const what = e.type === 'promotion' ? `promotion ${e.data.promotionId} (${e.data.gtins.length} GTINs)` : `the event of ${e.id}`;
          throw new HqError(HqErrorCode.HQ_EVENT_TOO_LARGE, `${what} is ${size} bytes, more than one batch may carry (${maxBytes} bytes); split it into smaller promotions`);
        }
      });
      const groupBytes = sizes.reduce((a, b) => a + b, 0);
      const fits = (n: number, bytes: number) => current.events.length + n <= maxEvents && reserve + current.bytes + bytes <= maxBytes;
      if (!fits(group.length, groupBytes)) close();
      if (fits(group.length, groupBytes)) {
        current.events.push(...group);
        current.bytes += groupBytes;
        continue;
      }
      // A group larger than a whole batch (hundreds of dated prices for one GTIN): split it, in version order.
      group.forEach((e, i) => {
        if (!fits(1, sizes[i]!)) close();
        current.events.push(e);
        current.bytes += sizes[i]!;
      });
    }
    close();

    const batches = chunks.map((c, i): PlannedBatch => {
      const id = `${base}-${i + 1}of${chunks.length}`;
      const env = envelope(id);
      const payload = JSON.stringify({ ...env, data: { events: c.events } });
      return { id, topic: `${root}/in/batch`, replyTo: env.replyTo, payload, events: c.events.length, bytes: Buffer.byteLength(payload) };
    });
    return { store, events: chunks.reduce((a, c) => a + c.events.length, 0), bytes: batches.reduce((a, b) => a + b.bytes, 0), batches };
  });
}
