/**
 * Watches a scenario's store from both sides at once: the edge's audit (polled over its HTTP route) and the
 * simulator's ground truth, read right after the audit arrives. Callers waiting for convergence at the same time
 * (a checkpoint and the progress line) share one audit request.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { assess, auditByLabel, type Assessment, type LabelObservation } from './scenario-compare.js';
import type { AuditSnapshot, ScenarioEdge } from './scenario-edge.js';
import type { SimClock } from './sim-clock.js';
import type { StoreFile } from './store-file.js';
import type { StoreSimulator } from './store-simulator.js';

export interface Observation {
  /** Simulated time when the ground truth was read. */
  simAt: number;
  snapshot: AuditSnapshot;
  observations: LabelObservation[];
  assessment: Assessment;
}

export interface ConvergenceResult {
  converged: boolean;
  /** Simulated seconds from the start of the wait to convergence; null when it did not converge in time. */
  afterS: number | null;
  waiting: Assessment['waiting'];
  waitingTotal: number;
  last: Observation;
}

/** Whether some AP that hears the label is powered with its uplink meant to be up (the label can be reached at all). */
export function labelReachable(sim: StoreSimulator, labelId: string): boolean {
  const label = sim.label(labelId);
  const home = sim.ap(label.homeApId);
  if (home.powerOn) return home.reachable;
  if (label.neighbourApId === undefined) return false;
  return sim.ap(label.neighbourApId).reachable;
}

const round1 = (ms: number) => Math.round(ms / 100) / 10;

export class StoreObserver {
  /** The most recent assessment (for the progress line). */
  latest: Assessment | undefined;
  private inflight: Promise<Observation> | undefined;
  private fresh: { at: number; obs: Observation } | undefined;

  constructor(
    private readonly deps: {
      sim: StoreSimulator;
      edge: ScenarioEdge;
      store: StoreFile;
      clock: SimClock;
      /** The price this run last sent per GTIN. */
      sentPrices: ReadonlyMap<string, number>;
      /** Wall-clock ms between audit polls. */
      pollMs: number;
      /** Wraps every wait so that an aborted run stops waiting. */
      guard: <T>(p: Promise<T>) => Promise<T>;
    },
  ) {}

  /** Reads the audit, then the ground truth of every label. */
  async observeNow(): Promise<Observation> {
    const { sim, edge, store, clock, sentPrices, guard } = this.deps;
    const snapshot = await guard(edge.audit());
    const entries = auditByLabel(snapshot);
    const observations: LabelObservation[] = store.labels.map((l) => ({
      labelId: l.labelId,
      gtin: l.gtin,
      reachable: labelReachable(sim, l.labelId),
      displayedHash: sim.groundTruth(l.labelId)!.hash,
      expectedPriceCents: sentPrices.get(l.gtin),
      audit: entries.get(l.labelId),
    }));
    const assessment = assess(observations);
    this.latest = assessment;
    return { simAt: clock.now(), snapshot, observations, assessment };
  }

  /** An observation at most half a poll interval old; concurrent callers share one audit request. */
  observe(): Promise<Observation> {
    if (this.fresh !== undefined && performance.now() - this.fresh.at < this.deps.pollMs / 2) return Promise.resolve(this.fresh.obs);
    this.inflight ??= this.observeNow()
      .then((obs) => {
        this.fresh = { at: performance.now(), obs };
        return obs;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** Polls until every reachable label converged, or `withinMs` of simulated time passed. */
  async waitConverged(withinMs: number): Promise<ConvergenceResult> {
    const { clock, pollMs, guard } = this.deps;
    const from = clock.now();
    for (;;) {
      const obs = await this.observe();
      const a = obs.assessment;
      if (a.converged) return { converged: true, afterS: round1(Math.max(0, obs.simAt - from)), waiting: [], waitingTotal: 0, last: obs };
      if (clock.now() - from >= withinMs) return { converged: false, afterS: null, waiting: a.waiting, waitingTotal: a.waitingTotal, last: obs };
      await guard(delay(pollMs));
    }
  }
}
