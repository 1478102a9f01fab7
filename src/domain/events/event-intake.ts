/**
 * Event intake, shared by every channel (MQTT, HTTP, the demo loader): bytes in, a durable effect and a reply out.
 *
 * Order of work (docs/architecture.md): size limit → JSON → schema → one sqlite transaction (de-dup, staleness,
 * apply, mark labels dirty) → commit → only then the caller acknowledges the delivery (MQTT PUBACK / HTTP 200).
 * Bad input never throws out of `ingest`: it becomes a `rejected` reply, a log line and a dead-letter row.
 */
import type { Database } from '../../persistence/database.js';
import { recordDeadLetter } from '../../persistence/dead-letters.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { EdgeErrorCode, errorMessage } from '../../core/errors.js';
import { EventSchema, type EventReply, type EventType } from './event-schemas.js';
import { EventApplier } from './event-applier.js';
import type { LabelStore } from '../labels/label-store.js';

export interface IngestContext {
  channel: 'mqtt' | 'http' | 'local';
  topic?: string;
  /** The event type the topic or route implies; a mismatch is refused. */
  expectedType?: EventType;
}

export interface IntakeResult {
  reply: EventReply;
  /** Where the sender asked for the reply (envelope `replyTo`), when it could be read. */
  replyTo?: string;
}

/** Dead-letter rows keep at most this much of the raw input. */

export class EventIntake {
  constructor(
    private readonly deps: {
      db: Database;
      /** The label-state owner: the applier marks labels dirty through it, in the event's transaction. */
      labels: Pick<LabelStore, 'markDirtyTx' | 'bindTx'>;
      clock: Clock;
      log: Logger;
      maxEventBytes: number;
      /** Called after a commit that changed something, with nothing to await (planner kicks off). */
      onApplied: () => void;
      /** Called after a commit that put messages into the outbox. */
      onOutbox?: () => void;
    },
  ) {}

  async ingest(raw: Uint8Array | string, ctx: IngestContext): Promise<IntakeResult> {
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    if (bytes.length > this.deps.maxEventBytes) {
      return this.reject(bytes, ctx, EdgeErrorCode.EVENT_TOO_LARGE, `event of ${bytes.length} bytes exceeds the limit of ${this.deps.maxEventBytes}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      return this.reject(bytes, ctx, EdgeErrorCode.EVENT_MALFORMED_JSON, `not valid JSON: ${errorMessage(err)}`);
    }
    const parsed = EventSchema.safeParse(json);
    if (!parsed.success) {
      const reason = parsed.error.issues
        .slice(0, 10)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      return this.reject(bytes, ctx, EdgeErrorCode.EVENT_SCHEMA, reason, json);
    }
    const event = parsed.data;
    if (ctx.expectedType && event.type !== ctx.expectedType) {
      return this.reject(bytes, ctx, EdgeErrorCode.EVENT_TOPIC_MISMATCH, `event type "${event.type}" sent to the "${ctx.expectedType}" topic`, json);
    }

    const now = this.deps.clock.now();
    const singles = event.type === 'batch' ? event.data.events : [event];
    const counts = { applied: 0, stale: 0, duplicate: 0 };
    let batchDuplicate = false;
    let outboxed = 0;
    await this.deps.db.transaction(async (tx) => {
      const applier = new EventApplier(tx, now, this.deps.labels);
      if (event.type === 'batch') {
        if (await applier.isDuplicate(event.id)) {
          batchDuplicate = true;
          return;
        }
        await tx.run('INSERT INTO events (id, source, type, version, received_at, status) VALUES (?, ?, ?, ?, ?, ?)', [
          event.id,
          event.source,
          'batch',
          event.version,
          now,
          'applied',
        ]);
      }
      for (const single of singles) counts[await applier.apply(single)]++;
      outboxed = applier.alerts;
    });
    if (outboxed > 0) this.deps.onOutbox?.();

    let reply: EventReply;
    if (batchDuplicate || (event.type !== 'batch' && counts.duplicate === 1)) reply = { eventId: event.id, status: 'duplicate' };
    else if (event.type !== 'batch' && counts.stale === 1) reply = { eventId: event.id, status: 'stale', reason: 'a newer version of this entity was already applied' };
    else reply = { eventId: event.id, status: 'applied', ...(event.type === 'batch' ? { applied: counts.applied, stale: counts.stale } : {}) };

    this.deps.log.info({ evt: 'event.ingested', eventId: event.id, type: event.type, source: event.source, channel: ctx.channel, status: reply.status, ...counts }, 'event ingested');
    if (counts.applied > 0) this.deps.onApplied();
    return { reply, replyTo: event.replyTo };
  }

  private async reject(bytes: Buffer, ctx: IngestContext, code: string, reason: string, json?: unknown): Promise<IntakeResult> {
    const obj = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
    const eventId = typeof obj.id === 'string' ? obj.id.slice(0, 128) : null;
    const source = typeof obj.source === 'string' ? obj.source.slice(0, 64) : null;
    this.deps.log.warn({ evt: 'event.rejected', code, reason, eventId, source, channel: ctx.channel, topic: ctx.topic }, 'event rejected');
    try {
      await recordDeadLetter(this.deps.db, { at: this.deps.clock.now(), channel: ctx.channel, topic: ctx.topic ?? null, source, id: eventId, code, reason, payload: bytes });
    } catch (err) {
      this.deps.log.error({ evt: 'deadletter.failed', err: errorMessage(err) }, 'could not record dead letter');
    }
    const replyTo = typeof obj.replyTo === 'string' ? obj.replyTo : undefined;
    return { reply: { eventId, status: 'rejected', code, reason }, replyTo };
  }
}
