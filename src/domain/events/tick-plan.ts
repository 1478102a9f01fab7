/**
 * Resolves the events of one group-commit tick (docs/decisions.md D20) in memory, in arrival order, exactly as if
 * each had been applied in its own transaction: an id already recorded (in the database or earlier in the tick) is
 * a duplicate, a version not newer than the newest seen for its entity (in the database or earlier in the tick) is
 * stale. Only then are the surviving changes written set-wise (event-applier.ts), so a tick of 5,000 events or a
 * 50,000-row price list costs a handful of statements, not six round trips per event.
 *
 * Pure: no I/O. The caller looks up the ids and entity versions the tick mentions and passes them in.
 */
import type { EdgeEvent, SingleEvent } from '#contracts';

/** One accepted event of the tick, with the instant it was received (the events row's received_at). */
export interface TickEvent {
  event: EdgeEvent;
  now: number;
}

/** What happened to one event of the tick; for a batch, the counts of its contained events. */
export interface EventOutcome {
  batchDuplicate: boolean;
  applied: number;
  stale: number;
  duplicate: number;
  /** Messages this event put into the outbox (restock alerts). */
  alerts: number;
  /**
   * Whether the planner has work from this event's tick (D81): a label was marked dirty or (re)bound, or the tick
   * may have moved the next price boundary (a price announced ahead, a promotion, anything else but an immediate
   * price, a product or stock change). Set on every outcome of the tick after it was applied; absent: assume yes.
   */
  replan?: boolean;
}

export interface EventRow {
  id: string;
  source: string;
  type: string;
  version: number;
  receivedAt: number;
  status: 'applied' | 'stale';
  reason: string | null;
}

/** A single event whose change must be written; `job` is the index of the tick event it came from. */
export interface AppliedEvent {
  event: SingleEvent;
  now: number;
  job: number;
}

export interface TickPlan {
  outcomes: EventOutcome[];
  /** Rows for the events table (the de-duplication record), in arrival order. */
  eventRows: EventRow[];
  /** The newest version per entity after the tick, only for entities the tick advanced. */
  versions: Map<string, number>;
  /** Changes to write, in arrival order. */
  applied: AppliedEvent[];
}

/** The entity whose version orders events of this kind. */
export function entityKey(e: SingleEvent): string {
  switch (e.type) {
    case 'product':
      return `product:${e.data.gtin}`;
    case 'price':
      return `price:${e.data.gtin}`;
    case 'stock':
      return `stock:${e.data.gtin}`;
    case 'promotion':
      return `promotion:${e.data.promotionId}`;
    case 'binding':
      return `binding:${e.data.labelId}`;
    case 'rules':
      return `rules:${e.data.scope}`;
    case 'lot':
      return `lot:${e.data.gtin}:${e.data.lotId}`;
  }
}

function singlesOf(e: EdgeEvent): SingleEvent[] {
  return e.type === 'batch' ? e.data.events : [e];
}

/** Every event id the tick mentions (batches and the events inside them): looked up once in the events table. */
export function tickIds(events: readonly TickEvent[]): string[] {
  const ids = new Set<string>();
  for (const { event } of events) {
    ids.add(event.id);
    if (event.type === 'batch') for (const s of event.data.events) ids.add(s.id);
  }
  return [...ids];
}

/** Every entity the tick's events version: looked up once in entity_versions. */
export function tickEntities(events: readonly TickEvent[]): string[] {
  const keys = new Set<string>();
  for (const { event } of events) for (const s of singlesOf(event)) keys.add(entityKey(s));
  return [...keys];
}

/**
 * `known`: ids of the tick already in the events table; `seen`: their entities' stored versions. Neither is
 * modified.
 */
export function planTick(events: readonly TickEvent[], known: ReadonlySet<string>, seen: ReadonlyMap<string, number>): TickPlan {
  const ids = new Set(known);
  const current = new Map(seen);
  const plan: TickPlan = { outcomes: [], eventRows: [], versions: new Map(), applied: [] };
  events.forEach(({ event, now }, job) => {
    const outcome: EventOutcome = { batchDuplicate: false, applied: 0, stale: 0, duplicate: 0, alerts: 0 };
    plan.outcomes.push(outcome);
    if (event.type === 'batch') {
      // A batch seen before is skipped whole; otherwise its own id is recorded first, so an event inside it that
      // reuses the batch's id is a duplicate (the order of the per-event transaction this replaces).
      if (ids.has(event.id)) {
        outcome.batchDuplicate = true;
        return;
      }
      ids.add(event.id);
      plan.eventRows.push({ id: event.id, source: event.source, type: 'batch', version: event.version, receivedAt: now, status: 'applied', reason: null });
    }
    for (const single of singlesOf(event)) {
      if (ids.has(single.id)) {
        outcome.duplicate++;
        continue;
      }
      ids.add(single.id);
      const key = entityKey(single);
      const newest = current.get(key);
      if (newest !== undefined && single.version <= newest) {
        outcome.stale++;
        plan.eventRows.push(row(single, now, 'stale', `version ${single.version} is not newer than ${newest} for ${key}`));
        continue;
      }
      current.set(key, single.version);
      plan.versions.set(key, single.version);
      plan.eventRows.push(row(single, now, 'applied', null));
      plan.applied.push({ event: single, now, job });
      outcome.applied++;
    }
  });
  return plan;
}

function row(e: SingleEvent, now: number, status: EventRow['status'], reason: string | null): EventRow {
  return { id: e.id, source: e.source, type: e.type, version: e.version, receivedAt: now, status, reason };
}
