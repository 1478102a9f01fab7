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
import { HqErrorCode } from './hq-error-codes.js';
import { EslError } from '#contracts';
import { recordsForStore, storesNamed, type HqRecord } from './hq-records.js';
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
  /** The batch event's JSON, written on demand so that a push to many stores holds only what is in flight. */
  payload: () => string;
  events: number;
  /** Exact UTF-8 size of the payload. */
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
  const bad = (message: string) => new EslError(HqErrorCode.HQ_BAD_OPTION, message);
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

/**
 * One event of a plan, without its store: the id is `{pushId}-{store}-r{row}`, so everything but the store part is
 * known before the store is — and stores that get the same rows (all but those named in a store column) share one
 * list. `bytes` is the event's JSON size plus its separating comma, without the `{pushId}-{store}` part of the id.
 */
interface EventTemplate {
  record: HqRecord;
  version: number;
  bytes: number;
}

/** A store's events in send order; `groups` are [start, end, bytes] of the runs of one entity that travel together. */
interface EventList {
  events: EventTemplate[];
  groups: [number, number, number][];
}

/**
 * Event JSON is assembled from the data's JSON, which is serialised once per record and shared by every store (a
 * 50,000-row list to 100 stores would otherwise serialise 5 million events).
 */
class EventWriter {
  private readonly dataJson = new WeakMap<object, { json: string; bytes: number }>();
  private readonly sourceJson: string;
  /** Bytes of the event JSON with empty id, version, type and data, plus the comma that separates events. */
  private readonly fixedBytes: number;

  constructor(source: string) {
    this.sourceJson = JSON.stringify(source);
    this.fixedBytes = Buffer.byteLength(this.frame('', '', '', '')) + 1;
  }

  private data(r: HqRecord): { json: string; bytes: number } {
    let d = this.dataJson.get(r.data);
    if (!d) {
      const json = JSON.stringify(r.data);
      d = { json, bytes: Buffer.byteLength(json) };
      this.dataJson.set(r.data, d);
    }
    return d;
  }

  /** Ids, versions and types are ASCII without characters JSON escapes (PUSH_ID_PATTERN, STORE_ID_PATTERN). */
  private frame(id: string, version: string, type: string, data: string): string {
    return `{"id":"${id}","source":${this.sourceJson},"version":${version},"type":"${type}","data":${data}}`;
  }

  /** Size without the `{pushId}-{store}` part of the id: "-r" + row, the version, the type and the data. */
  template(record: HqRecord, version: number): EventTemplate {
    const bytes = this.fixedBytes + 2 + String(record.rows[0]).length + String(version).length + record.type.length + this.data(record).bytes;
    return { record, version, bytes };
  }

  json(base: string, e: EventTemplate): string {
    return this.frame(`${base}-r${e.record.rows[0]}`, String(e.version), e.record.type, this.data(e.record).json);
  }
}

/** The events for one store (null: a store no row names), grouped per entity, versions rising within a group. */
function eventList(records: readonly HqRecord[], store: string | null, opts: PlanOptions, writer: EventWriter): EventList {
  const groups = new Map<string, HqRecord[]>();
  // "\0" is no store id, so recordsForStore keeps only the chain-wide rows.
  for (const r of recordsForStore(records, store ?? '\0')) {
    const key = entityKey(r);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  // No valid-from (= at once) sorts first; ISO instants with offsets compare by their instant.
  const when = (r: HqRecord) => (r.type === 'price' && r.data.validFrom ? Date.parse(r.data.validFrom) : -Infinity);
  const list: EventList = { events: [], groups: [] };
  for (const group of groups.values()) {
    const start = list.events.length;
    let bytes = 0;
    (group.length > 1 ? [...group].sort((a, b) => when(a) - when(b)) : group).forEach((record, k) => {
      const t = writer.template(record, opts.version + k);
      list.events.push(t);
      bytes += t.bytes;
    });
    list.groups.push([start, list.events.length, bytes]);
  }
  return list;
}

export function planPush(records: readonly HqRecord[], stores: readonly string[], opts: PlanOptions): StorePlan[] {
  checkOptions(stores, opts);
  const maxEvents = opts.maxEventsPerBatch ?? DEFAULT_MAX_EVENTS_PER_BATCH;
  const maxBytes = opts.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
  const writer = new EventWriter(opts.source);
  const named = new Set(storesNamed(records));
  let shared: EventList | undefined;

  return stores.map((store) => {
    const list = named.has(store) ? eventList(records, store, opts, writer) : (shared ??= eventList(records, null, opts, writer));
    const root = storeRootTopic(opts.chain, store);
    const base = `${opts.pushId}-${store}`;
    const envelope = (id: string) => ({ id, source: opts.source, version: opts.version, type: 'batch' as const, replyTo: `${root}/reply/${opts.username}/push-${id}` });
    // The envelope's size with the longest batch id it can get bounds what the events may use.
    const reserve = Buffer.byteLength(JSON.stringify({ ...envelope(`${base}-999999of999999`), data: { events: [] } }));
    const size = (t: EventTemplate) => t.bytes + base.length;

    const chunks: { start: number; end: number; bytes: number }[] = [];
    let current = { start: 0, end: 0, bytes: 0 };
    const close = () => {
      if (current.end > current.start) chunks.push(current);
      current = { start: current.end, end: current.end, bytes: 0 };
    };
    const fits = (n: number, bytes: number) => current.end - current.start + n <= maxEvents && reserve + current.bytes + bytes <= maxBytes;
    for (const [start, end, templateBytes] of list.groups) {
      const groupBytes = templateBytes + (end - start) * base.length;
      if (!fits(end - start, groupBytes)) close();
      if (fits(end - start, groupBytes)) {
        current.end = end;
        current.bytes += groupBytes;
        continue;
      }
      // A group larger than a whole batch (hundreds of dated prices for one GTIN): split it, in version order.
      for (let i = start; i < end; i++) {
        const t = list.events[i]!;
        if (reserve + size(t) > maxBytes) {
          const r = t.record;
          const what = r.type === 'promotion' ? `promotion ${r.data.promotionId} (${r.data.gtins.length} GTINs)` : `the event of row ${r.rows[0]}`;
          throw new EslError(HqErrorCode.HQ_EVENT_TOO_LARGE, `${what} is ${size(t)} bytes, more than one batch may carry (${maxBytes} bytes); split it into smaller promotions`);
        }
        if (!fits(1, size(t))) close();
        current.end = i + 1;
        current.bytes += size(t);
      }
    }
    close();

    const batches = chunks.map((c, i): PlannedBatch => {
      const id = `${base}-${i + 1}of${chunks.length}`;
      const env = envelope(id);
      const head = JSON.stringify({ ...env, data: { events: [] } }).slice(0, -3);
      const payload = () => {
        const parts: string[] = [];
        for (let j = c.start; j < c.end; j++) parts.push(writer.json(base, list.events[j]!));
        return `${head}${parts.join(',')}]}}`;
      };
      // Exact: the head, the events with their separating commas (one comma too many counted), "]}}".
      const bytes = Buffer.byteLength(head) + c.bytes - 1 + 3;
      return { id, topic: `${root}/in/batch`, replyTo: env.replyTo, payload, events: c.end - c.start, bytes };
    });
    return { store, events: chunks.reduce((a, c) => a + c.end - c.start, 0), bytes: batches.reduce((a, b) => a + b.bytes, 0), batches };
  });
}
