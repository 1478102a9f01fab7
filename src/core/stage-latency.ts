/**
 * Latency per stage of a pipeline, as fixed-bucket histograms (docs/decisions.md D80): the intake records where an
 * event's time goes between the broker reading its PUBLISH and the PUBACK going out, and /metrics exports the counts
 * as a Prometheus histogram, so a bench diffs two scrapes and reads percentiles of just its own phase.
 *
 * Hand-made rather than prom-client's Histogram: at 20,000 events/s the intake records ~6 values per event, and
 * prom-client hashes the label set on every `observe`; here a value costs a short scan of a fixed array and one
 * increment, and a whole tick's events are added with one call (`n`).
 */

/** Upper bounds of the buckets, in ms (a last, unbounded bucket follows). Fine below 30 ms, where the targets are. */
export const STAGE_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 250, 500, 1000, 2500, 5000];

export interface StageHistogram {
  stage: string;
  /** Counts per bucket (not cumulative), one per bound plus the unbounded last one. */
  counts: number[];
  count: number;
  sumMs: number;
}

export class StageLatency<S extends string> {
  private readonly hist = new Map<S, StageHistogram>();

  constructor(readonly stages: readonly S[]) {
    for (const stage of stages) this.hist.set(stage, { stage, counts: new Array<number>(STAGE_BUCKETS_MS.length + 1).fill(0), count: 0, sumMs: 0 });
  }

  /** Records `n` values of `ms` (n > 1: every event of one tick spent the same time in that stage). */
  add(stage: S, ms: number, n = 1): void {
    const h = this.hist.get(stage);
    if (!h || n <= 0) return;
    let i = 0;
    while (i < STAGE_BUCKETS_MS.length && ms > STAGE_BUCKETS_MS[i]!) i++;
    h.counts[i]! += n;
    h.count += n;
    h.sumMs += ms * n;
  }

  snapshot(): StageHistogram[] {
    return this.stages.map((s) => {
      const h = this.hist.get(s)!;
      return { ...h, counts: [...h.counts] };
    });
  }
}

/**
 * The stages of an event's acknowledgement on the embedded broker, in order (D80). `db_queue_wait` is the part of
 * `queued_to_tick` a tick spent waiting for the database connection (behind a job of the normal lane, D66).
 */
export const INTAKE_ACK_STAGES = ['received_to_queued', 'queued_to_tick', 'db_queue_wait', 'tick_to_commit', 'commit_to_reply', 'reply_to_puback', 'received_to_puback'] as const;
export type IntakeAckStage = (typeof INTAKE_ACK_STAGES)[number];
export type IntakeAckLatency = StageLatency<IntakeAckStage>;
export const createIntakeAckLatency = (): IntakeAckLatency => new StageLatency(INTAKE_ACK_STAGES);
