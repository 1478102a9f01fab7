/**
 * The HQ push: publishes a validated list to stores over MQTT and collects each store's answer.
 *
 * Order of work: plan every batch (push-plan.ts; a list that cannot be sent fails here, before connecting) →
 * connect → subscribe every reply topic and check the broker granted them (a refused subscription would turn
 * every confirmation into "no answer", so nothing is sent then) → publish each store's batches in order, QoS 1,
 * stores in parallel → wait until every store answered or the time is up.
 *
 * A store is "confirmed" when every batch was answered applied, duplicate (already applied: a re-push) or
 * stale; "rejected" when the edge refused a batch; "no answer" when a reply is missing at the deadline. With an
 * HQ broker, a store whose edge is offline gets the events when it reconnects (its persistent session keeps
 * them) — "no answer" then means "not confirmed yet", and pushing the same list again is always safe.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { EslError, type EventReply, EventReplySchema, PriceDataSchema, PromotionDataSchema } from '#contracts';
import { HqErrorCode } from './hq-error-codes.js';
import type { HqRecord } from './hq-records.js';
import { defaultPushId, planPush, type StorePlan } from './push-plan.js';

export type StoreStatus = 'confirmed' | 'rejected' | 'no-answer' | 'failed' | 'nothing-to-send' | 'dry-run';

export interface BatchOutcome {
  id: string;
  topic: string;
  replyTo: string;
  events: number;
  bytes: number;
  reply?: EventReply;
  /** Set when the batch could not be published. */
  error?: string;
}

export interface StoreResult {
  store: string;
  status: StoreStatus;
  events: number;
  bytes: number;
  batches: BatchOutcome[];
  /** Sums over the replies (batches answered "duplicate" count in duplicates, their events in neither). */
  applied: number;
  stale: number;
  duplicates: number;
  answered: number;
  code?: string;
  reason?: string;
  /** From the start of publishing to this store to its last reply (or its deadline). */
  elapsedMs?: number;
}

export interface PushReport {
  pushId: string;
  version: number;
  stores: StoreResult[];
  /** Every store confirmed (or had nothing to receive). */
  ok: boolean;
  elapsedMs: number;
}

export interface PushOptions {
  brokerUrl: string;
  username: string;
  password: string;
  chain: string;
  stores: readonly string[];
  /** The validated list (parseHqCsv → list.records). */
  events: readonly HqRecord[];
  source?: string;
  dryRun?: boolean;
  /** Called once per store when its outcome is known. */
  onProgress?: (result: StoreResult) => void;
  /** How long to wait for a store's replies after its last batch reached the broker. */
  timeoutMs?: number;
  /** Stores being published to at the same time (each store's batches go one after the other). */
  publishConcurrency?: number;
  /** Default: now(), so a later list outranks an earlier one for the same GTIN. */
  version?: number;
  /** Default: derived from the list's content (push-plan.ts). */
  pushId?: string;
  maxEventsPerBatch?: number;
  maxBatchBytes?: number;
  now?: () => number;
  clientId?: string;
  connectTimeoutMs?: number;
}

export const DEFAULT_PUSH_TIMEOUT_MS = 60_000;
export const DEFAULT_PUBLISH_CONCURRENCY = 16;
export const DEFAULT_SOURCE = 'hq-push';

/** Records handed in as a library call are checked against the contract once, not trusted. */
function checkRecords(records: readonly HqRecord[]): void {
  for (const r of records) {
    const parsed = r.type === 'price' ? PriceDataSchema.safeParse(r.data) : PromotionDataSchema.safeParse(r.data);
    if (!parsed.success || r.rows.length === 0) {
      const why = parsed.success ? 'no rows' : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new EslError(HqErrorCode.HQ_INVALID_RECORD, `the ${r.type} of row ${r.rows[0] ?? '?'} is not valid: ${why}`);
    }
  }
}

function emptyResult(plan: StorePlan, status: StoreStatus): StoreResult {
  return {
    store: plan.store,
    status,
    events: plan.events,
    bytes: plan.bytes,
    batches: plan.batches.map((b) => ({ id: b.id, topic: b.topic, replyTo: b.replyTo, events: b.events, bytes: b.bytes })),
    applied: 0,
    stale: 0,
    duplicates: 0,
    answered: 0,
  };
}

/** Fills the counts and the status from the replies so far; `final` turns missing replies into "no answer". */
function settle(result: StoreResult, final: boolean, timeoutMs: number): boolean {
  const replies = result.batches.flatMap((b) => (b.reply ? [b.reply] : []));
  result.answered = replies.length;
  result.applied = replies.reduce((a, r) => a + (r.status === 'applied' ? (r.applied ?? 0) : 0), 0);
  result.stale = replies.reduce((a, r) => a + (r.status === 'applied' ? (r.stale ?? 0) : 0), 0);
  result.duplicates = replies.filter((r) => r.status === 'duplicate').length;
  const rejected = replies.find((r) => r.status === 'rejected');
  const failed = result.batches.find((b) => b.error !== undefined);
  const complete = replies.length === result.batches.length;
  if (!complete && !final) return false;
  if (rejected) {
    result.status = 'rejected';
    result.code = rejected.code;
    result.reason = rejected.reason ?? 'rejected';
  } else if (failed) {
    result.status = 'failed';
    result.reason = failed.error;
  } else if (complete) {
    result.status = 'confirmed';
  } else {
    result.status = 'no-answer';
    result.reason = `${replies.length} of ${result.batches.length} batches answered within ${+(timeoutMs / 1000).toFixed(1)} s`;
  }
  return true;
}

export async function pushToStores(opts: PushOptions): Promise<PushReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS;
  checkRecords(opts.events);
  const pushId = opts.pushId ?? defaultPushId(opts.events);
  const version = opts.version ?? started;
  const plans = planPush(opts.events, opts.stores, {
    chain: opts.chain,
    username: opts.username,
    source: opts.source ?? DEFAULT_SOURCE,
    version,
    pushId,
    ...(opts.maxEventsPerBatch !== undefined ? { maxEventsPerBatch: opts.maxEventsPerBatch } : {}),
    ...(opts.maxBatchBytes !== undefined ? { maxBatchBytes: opts.maxBatchBytes } : {}),
  });
  const report = (stores: StoreResult[]): PushReport => ({
    pushId,
    version,
    stores,
    ok: stores.every((s) => s.status === 'confirmed' || s.status === 'nothing-to-send'),
    elapsedMs: now() - started,
  });
  if (opts.dryRun) return report(plans.map((p) => emptyResult(p, p.events === 0 ? 'nothing-to-send' : 'dry-run')));

  const results = plans.map((p) => emptyResult(p, 'no-answer'));
  const pending = new Set(results.filter((r) => r.batches.length > 0));
  for (const r of results) {
    if (r.batches.length > 0) continue;
    r.status = 'nothing-to-send';
    opts.onProgress?.(r);
  }
  if (pending.size === 0) return report(results);

  let client: MqttClient;
  try {
    client = await mqtt.connectAsync(opts.brokerUrl, {
      username: opts.username,
      password: opts.password,
      clientId: opts.clientId ?? `esl-hq-push-${randomBytes(6).toString('hex')}`,
      // No session to keep: replies are only wanted while this run waits; a re-run re-subscribes.
      clean: true,
      // MQTT 3.1.1: the store's embedded broker (aedes) speaks no MQTT 5.
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: opts.connectTimeoutMs ?? 10_000,
    });
  } catch (err) {
    throw new EslError(HqErrorCode.HQ_CONNECT_FAILED, `cannot connect to ${opts.brokerUrl}: ${err instanceof Error ? err.message : String(err)}`);
  }

  try {
    const startedAt = new Map<StoreResult, number>();
    const timers = new Map<StoreResult, NodeJS.Timeout>();
    let wake: () => void = () => undefined;
    const allDecided = new Promise<void>((resolve) => (wake = resolve));
    const decide = (r: StoreResult, final: boolean) => {
      if (!pending.has(r) || !settle(r, final, timeoutMs)) return;
      r.elapsedMs = now() - (startedAt.get(r) ?? started);
      clearTimeout(timers.get(r));
      pending.delete(r);
      opts.onProgress?.(r);
      if (pending.size === 0) wake();
    };
    /** The store's deadline: timeoutMs after its last batch was handed to the broker (restarted per batch). */
    const arm = (r: StoreResult) => {
      clearTimeout(timers.get(r));
      timers.set(r, setTimeout(() => decide(r, true), timeoutMs));
    };

    const byReplyTopic = new Map<string, { result: StoreResult; batch: BatchOutcome }>();
    for (const r of results) for (const b of r.batches) byReplyTopic.set(b.replyTo, { result: r, batch: b });
    client.on('message', (topic, payload) => {
      const hit = byReplyTopic.get(topic);
      if (!hit || hit.batch.reply) return; // QoS 1 may deliver a reply twice
      let reply: EventReply;
      try {
        const parsed = EventReplySchema.safeParse(JSON.parse(payload.toString('utf8')));
        reply = parsed.success ? parsed.data : { eventId: hit.batch.id, status: 'rejected', code: 'HQ_UNREADABLE_REPLY', reason: 'the store answered something that is not an EventReply' };
      } catch {
        reply = { eventId: hit.batch.id, status: 'rejected', code: 'HQ_UNREADABLE_REPLY', reason: 'the store answered something that is not JSON' };
      }
      hit.batch.reply = reply;
      decide(hit.result, false);
    });
    let publishing = false;
    client.on('close', () => {
      // Replies cannot arrive any more (clean session): whatever is open has failed. Before publishing began, a
      // close is this function giving up (it throws), not a store's outcome.
      if (!publishing) return;
      for (const r of [...pending]) {
        for (const b of r.batches) if (!b.reply && !b.error) b.error = 'connection to the broker lost before the store answered';
        decide(r, true);
      }
    });

    const topics = [...byReplyTopic.keys()];
    if (topics.length > 0) {
      let granted: { topic: string; qos: number }[];
      try {
        granted = await client.subscribeAsync(topics, { qos: 1 });
      } catch (err) {
        // MQTT.js rejects the whole SUBSCRIBE when the SUBACK refuses any filter (0x80); its codes are in order.
        const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
        if (!codes) throw err;
        granted = topics.map((topic, i) => ({ topic, qos: codes[i] ?? 128 }));
      }
      const refused = granted.filter((g) => g.qos === 128);
      if (refused.length > 0) {
        throw new EslError(
          HqErrorCode.HQ_REPLY_SUBSCRIBE_REFUSED,
          `the broker refused the reply subscription ${refused[0]!.topic}${refused.length > 1 ? ` and ${refused.length - 1} more` : ''}; ` +
            `user ${opts.username} needs read access to esl/${opts.chain}/{store}/reply/${opts.username}/#. Nothing was sent.`,
        );
      }
    }

    // Each store's batches in order (the edge applies them as they come, one transaction each); a bounded number
    // of stores side by side, so a long list to many stores holds only the payloads in flight.
    const payloads = new Map(plans.flatMap((p) => p.batches.map((b) => [b.id, b.payload] as const)));
    const publishStore = async (r: StoreResult) => {
      startedAt.set(r, now());
      arm(r);
      for (const b of r.batches) {
        try {
          await client.publishAsync(b.topic, payloads.get(b.id)!(), { qos: 1 });
          arm(r);
        } catch (err) {
          b.error = `publish failed: ${err instanceof Error ? err.message : String(err)}`;
          decide(r, true);
          return;
        }
      }
    };
    publishing = true;
    const queue = [...pending];
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) if (pending.has(r)) await publishStore(r);
    };
    void Promise.all(Array.from({ length: Math.min(opts.publishConcurrency ?? DEFAULT_PUBLISH_CONCURRENCY, queue.length) }, worker));
    if (pending.size > 0) await allDecided;
    return report(results);
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
