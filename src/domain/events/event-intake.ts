/**
 * Event intake, shared by every channel (MQTT, HTTP, the demo loader): bytes in, a durable effect and a reply out.
 *
 * Order of work (docs/architecture.md): size limit → JSON → schema → the next group-commit tick (group-commit.ts,
 * docs/decisions.md D20: one sqlite transaction for every event that arrived meanwhile: de-dup, staleness, apply,
 * mark labels dirty) → commit → only then does `ingest` resolve and the caller acknowledge the delivery (MQTT
 * PUBACK / HTTP 200 / reply topic). Bad input never throws out of `ingest`: it becomes a `rejected` reply, a log
 * line and a dead-letter row (committed in the same ticks). `ingest` rejects only when its event could not be
 * committed (then nothing is acknowledged and the sender retries).
 */
import type { Database, Tx } from '../../persistence/database.js';
import { recordDeadLetter, type DeadLetter } from '../../persistence/dead-letters.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { IntakeAckLatency } from '../../core/stage-latency.js';
import { BatchShellSchema, EdgeErrorCode, type EdgeEvent, errorMessage, type EventReply, EventSchema, type EventType, SingleEventSchema, type SingleEvent } from '#contracts';
import { LoopSlices, type LoopTaskTiming } from '../../core/loop-tasks.js';
import { EventApplier, type EventOutcome } from './event-applier.js';
import { GroupCommitter, type GroupCommitStats } from './group-commit.js';
import { checkEventContent, type ContentRefusal } from './content-plausibility.js';
import { enqueue } from '../outbox/outbox.js';
import { loadPrintableSet, type PrintableSet } from '../rendering/printable-set.js';
import type { LabelStore } from '../labels/label-store.js';

export interface IngestContext {
  channel: 'mqtt' | 'http' | 'local';
  topic?: string;
  /** The event type the topic or route implies; a mismatch is refused. */
  expectedType?: EventType;
  /** performance.now() when the channel received the bytes (the broker's authorizePublish), for the stage latencies. */
  receivedAt?: number;
}

export interface IntakeResult {
  reply: EventReply;
  /** Where the sender asked for the reply (envelope `replyTo`), when it could be read. */
  replyTo?: string;
}

/** A dead-letter job keeps at most maxPayloadBytes of the payload; the tick fills in the bytes it is counted at. */
type IntakeJob =
  | { kind: 'event'; event: EdgeEvent; now: number }
  | { kind: 'dead-letter'; letter: DeadLetter; maxPayloadBytes?: number; storedBytes?: number; alert?: { id: string; payload: Record<string, unknown> } };

/**
 * D148 A batch of more events than this has its events checked a slice of the event loop at a time (LoopSlices), not
 * in one stretch: the schema check of a 25,000-event price list held the loop ~0.25 s in one piece.
 */
export const SLICED_BATCH_EVENTS = 1_000;
/** Schema issues named in a refusal's reason at most. */
const REASON_ISSUES = 10;

interface Issue {
  path: PropertyKey[];
  message: string;
}

function schemaReason(issues: readonly Issue[]): string {
  return issues
    .slice(0, REASON_ISSUES)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** EventSchema's answer: the event, or the reason it is refused. */
function parseEvent(json: unknown): { event: EdgeEvent } | { reason: string } {
  const parsed = EventSchema.safeParse(json);
  return parsed.success ? { event: parsed.data } : { reason: schemaReason(parsed.error.issues) };
}

/** A batch's events when they are more than SLICED_BATCH_EVENTS, else null. */
function largeBatchEvents(json: unknown): unknown[] | null {
  if (typeof json !== 'object' || json === null || (json as { type?: unknown }).type !== 'batch') return null;
  const events = (json as { data?: { events?: unknown } }).data?.events;
  return Array.isArray(events) && events.length > SLICED_BATCH_EVENTS ? events : null;
}

/** What intake needs of the label-state owner (D17): set-wise dirty marks and bindings in the tick's transaction. */
type IntakeLabels = Pick<LabelStore, 'markDirtyManyTx' | 'bindManyTx' | 'byGtin'>;

/** One tick: the events through one EventApplier (set-wise), the dead letters row by row (rare). */
async function applyIntakeTick(tx: Tx, jobs: IntakeJob[], labels: IntakeLabels): Promise<(EventOutcome | null)[]> {
  const events: { event: EdgeEvent; now: number }[] = [];
  for (const j of jobs) if (j.kind === 'event') events.push(j);
  const outcomes = events.length > 0 ? await new EventApplier(tx, labels).applyTick(events) : [];
  let next = 0;
  const results: (EventOutcome | null)[] = [];
  for (const j of jobs) {
    if (j.kind === 'event') results.push(outcomes[next++]!);
    else {
      j.storedBytes = await recordDeadLetter(tx, j.letter, j.maxPayloadBytes !== undefined ? { maxPayloadBytes: j.maxPayloadBytes } : {});
      // A refusal a person must look at (a price of 0) raises its alert in the same transaction (D48).
      if (j.alert) await enqueue(tx, { id: j.alert.id, topic: 'out/alerts', payload: j.alert.payload }, j.letter.at);
      results.push(null);
    }
  }
  return results;
}

export class EventIntake {
  private readonly committer: GroupCommitter<IntakeJob, EventOutcome | null>;
  /**
   * What the bundled fonts can print (D48), taken once (D110: looking the fonts up per event was a quarter of the
   * main thread's CPU per price event at bench/intake's rates): their cmaps as ranges, not the parsed fonts (D136).
   */
  private printable: PrintableSet | undefined;

  constructor(
    private readonly deps: {
      db: Database;
      /** The label-state owner: the applier marks labels dirty through it, in the event's transaction. */
      labels: IntakeLabels;
      clock: Clock;
      log: Logger;
      maxEventBytes: number;
      /**
       * Called after a commit that changed something, with nothing to await (rules and planner kick off). `replan`:
       * whether the planner has work from it (EventOutcome.replan, D81); the rule engine has work either way.
       */
      onApplied: (effect: { replan: boolean }) => void;
      /** Called after a commit that put messages into the outbox. */
      onOutbox?: () => void;
      /** Bytes of a refused payload kept in its dead letter (storage.deadLetters.maxPayloadBytes). */
      deadLetterPayloadBytes?: number;
      /** Called after each dead letter with the bytes it is counted at (the storage pruner's budget). */
      onDeadLetter?: (bytes: number) => void;
      /** A tick takes events until this many (a batch counts its events; one batch always goes whole). */
      maxEventsPerTick?: number;
      /** Where an acknowledgement's time goes (D80; /metrics esl_edge_intake_ack_stage_ms). */
      timing?: IntakeAckLatency;
      /** D148 How long each slice of a large batch's check held the event loop (task `intake_batch`). */
      loopTasks?: LoopTaskTiming;
    },
  ) {
    this.committer = new GroupCommitter<IntakeJob, EventOutcome | null>({
      db: deps.db,
      apply: (tx, jobs) => applyIntakeTick(tx, jobs, deps.labels),
      // Every submitter acknowledges on commit (PUBACK, HTTP answer): its tick goes ahead of background work (D66).
      lane: 'urgent',
      ...(deps.maxEventsPerTick ? { maxWeight: deps.maxEventsPerTick } : {}),
      weight: (j) => (j.kind === 'event' && j.event.type === 'batch' ? j.event.data.events.length : 1),
      onCommit: (jobs, results, ms) => this.logCommit(jobs, results, ms),
      ...(deps.timing ? { timing: deps.timing } : {}),
    });
  }

  /** Ticks and events committed so far (metrics, tests). */
  get groupCommitStats(): Readonly<GroupCommitStats> {
    return this.committer.stats;
  }

  /** Resolves when no event is waiting for or under commit. */
  idle(): Promise<void> {
    return this.committer.idle();
  }

  /**
   * One info line per commit, not per event: at 20,000 events/s a line per event cost a sixth of the edge's CPU
   * (bench/intake, D20). Every event stays on record durably in the events table; each event's own line is debug.
   */
  private logCommit(jobs: readonly IntakeJob[], results: readonly (EventOutcome | null)[], ms: number): void {
    const c = { events: 0, applied: 0, stale: 0, duplicate: 0, deadLetters: 0 };
    jobs.forEach((j, i) => {
      const r = results[i];
      if (j.kind === 'dead-letter' || !r) {
        c.deadLetters++;
        return;
      }
      c.events++;
      c.applied += r.applied;
      c.stale += r.stale;
      c.duplicate += r.duplicate + (r.batchDuplicate ? 1 : 0);
    });
    this.deps.log.info({ evt: 'intake.committed', ...c, ms: Math.round(ms * 10) / 10 }, 'events committed');
  }

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
    // A large batch is checked in slices (D148); everything else at once, without an await on the hot path.
    const events = largeBatchEvents(json);
    const parsed = events ? await this.parseBatchSliced(json, events) : parseEvent(json);
    if ('reason' in parsed) return this.reject(bytes, ctx, EdgeErrorCode.EVENT_SCHEMA, parsed.reason, json);
    const event = parsed.event;
    if (ctx.expectedType && event.type !== ctx.expectedType) {
      return this.reject(bytes, ctx, EdgeErrorCode.EVENT_TOPIC_MISMATCH, `event type "${event.type}" sent to the "${ctx.expectedType}" topic`, json);
    }

    const refusal = checkEventContent(event, (this.printable ??= loadPrintableSet()));
    if (refusal) return this.reject(bytes, ctx, refusal.code, refusal.reason, json, refusal.alert);

    const timing = this.deps.timing;
    if (timing && ctx.receivedAt !== undefined) timing.add('received_to_queued', performance.now() - ctx.receivedAt);
    const outcome = (await this.committer.submit({ kind: 'event', event, now: this.deps.clock.now() }))!;
    const counts = { applied: outcome.applied, stale: outcome.stale, duplicate: outcome.duplicate };
    if (outcome.alerts > 0) this.deps.onOutbox?.();

    let reply: EventReply;
    if (outcome.batchDuplicate || (event.type !== 'batch' && counts.duplicate === 1)) reply = { eventId: event.id, status: 'duplicate' };
    else if (event.type !== 'batch' && counts.stale === 1) reply = { eventId: event.id, status: 'stale', reason: 'a newer version of this entity was already applied' };
    else reply = { eventId: event.id, status: 'applied', ...(event.type === 'batch' ? { applied: counts.applied, stale: counts.stale } : {}) };

    // Guarded: building the line's object for a disabled level is a measurable share of intake at 20,000 events/s.
    if (this.deps.log.isLevelEnabled('debug')) {
      this.deps.log.debug({ evt: 'event.ingested', eventId: event.id, type: event.type, source: event.source, channel: ctx.channel, status: reply.status, ...counts }, 'event ingested');
    }
    if (counts.applied > 0) this.deps.onApplied({ replan: outcome.replan !== false });
    timing?.add('commit_to_reply', performance.now() - this.committer.lastCommitAt);
    return { reply, replyTo: event.replyTo };
  }

  /**
   * D148 EventSchema's answer for a batch of more than SLICED_BATCH_EVENTS events: its shell, then event by event in
   * slices of the loop — the same events accepted, the same issues named (their paths under data.events.i), the
   * first REASON_ISSUES of them.
   */
  private async parseBatchSliced(json: unknown, events: readonly unknown[]): Promise<{ event: EdgeEvent } | { reason: string }> {
    const shell = BatchShellSchema.safeParse(json);
    const issues: Issue[] = shell.success ? [] : [...shell.error.issues];
    const checked: SingleEvent[] = [];
    const slices = new LoopSlices(this.deps.loopTasks, 'intake_batch');
    for (let i = 0; i < events.length && issues.length < REASON_ISSUES; i++) {
      if (slices.due()) await slices.next();
      const r = SingleEventSchema.safeParse(events[i]);
      if (r.success) checked.push(r.data);
      else for (const issue of r.error.issues) issues.push({ path: ['data', 'events', i, ...issue.path], message: issue.message });
    }
    slices.end();
    if (!shell.success || issues.length > 0) return { reason: schemaReason(issues) };
    return { event: { ...shell.data, data: { events: checked } } };
  }

  private async reject(bytes: Buffer, ctx: IngestContext, code: string, reason: string, json?: unknown, alert?: ContentRefusal['alert']): Promise<IntakeResult> {
    const obj = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
    const eventId = typeof obj.id === 'string' ? obj.id.slice(0, 128) : null;
    const source = typeof obj.source === 'string' ? obj.source.slice(0, 64) : null;
    this.deps.log.warn({ evt: 'event.rejected', code, reason, eventId, source, channel: ctx.channel, topic: ctx.topic }, 'event rejected');
    try {
      const at = this.deps.clock.now();
      const job: IntakeJob = {
        kind: 'dead-letter',
        letter: { at, channel: ctx.channel, topic: ctx.topic ?? null, source, id: eventId, code, reason, payload: bytes },
        ...(this.deps.deadLetterPayloadBytes !== undefined ? { maxPayloadBytes: this.deps.deadLetterPayloadBytes } : {}),
        ...(alert ? { alert: { id: `${alert.type}-${eventId ?? 'unknown'}-${at}`, payload: { id: `${alert.type}-${eventId ?? 'unknown'}-${at}`, type: alert.type, gtin: alert.gtin ?? null, eventId, detail: alert.detail, at: new Date(at).toISOString() } } } : {}),
      };
      await this.committer.submit(job);
      if (alert) this.deps.onOutbox?.();
      if (job.storedBytes !== undefined) this.deps.onDeadLetter?.(job.storedBytes);
    } catch (err) {
      this.deps.log.error({ evt: 'deadletter.failed', err: errorMessage(err) }, 'could not record dead letter');
    }
    const replyTo = typeof obj.replyTo === 'string' ? obj.replyTo : undefined;
    return { reply: { eventId, status: 'rejected', code, reason }, replyTo };
  }
}
