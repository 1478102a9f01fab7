/**
 * Runs a scenario against a real edge: seeds the edge's catalogue and label bindings from the store (as events,
 * over MQTT), starts the simulated store, lets it fill (warm-up), plays the timeline on the simulator's clock,
 * waits until every reachable label converged (or a timeout), and compares what every panel shows with what the
 * edge's audit believes (scenario-compare.ts). Returns a JSON report and, on request, a PNG of the store wall.
 *
 * Time: steps run at simulated times on the simulator's clock. An in-process edge shares that clock through
 * edge-clock.ts (pass the same `clock` here); a remote edge runs on its own clock.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../../src/core/errors.js';
import { RealClock } from './real-clock.js';
import { seededRandom } from './rng.js';
import { assess, auditByLabel, compare, type Assessment, type LabelObservation } from './scenario-compare.js';
import type { AuditSnapshot, ScenarioEdge } from './scenario-edge.js';
import { VersionSource, seedEvents, storeFingerprint, toBatches } from './scenario-events.js';
import { ScenarioError, loadScenarioFile, resolveScenario, type ResolvedScenario, type TimedStep } from './scenario-load.js';
import { EventPublisher } from './scenario-publisher.js';
import { reportProblems, type ApReport, type CheckpointReport, type ConvergenceReport, type ScenarioLabelReport, type ScenarioPhase, type ScenarioProgress, type ScenarioReport, type StepReport } from './scenario-report.js';
import { PriceBook, runStep, type StepContext } from './scenario-steps.js';
import type { SimClock } from './sim-clock.js';
import { silentLogger, type SimLogger } from './sim-logger.js';
import { StoreSimulator } from './store-simulator.js';

export interface RunScenarioOptions {
  /** A scenario file, or a scenario already resolved / given as an object (validated here). */
  file?: string;
  scenario?: ResolvedScenario | unknown;
  edge: ScenarioEdge;
  /** The simulator's clock; share it with an in-process edge (edge-clock.ts). Default: RealClock at the scenario's speed. */
  clock?: SimClock;
  logger?: SimLogger;
  /** Called about once per `progressEveryMs` of wall time. */
  onProgress?: (p: ScenarioProgress) => void;
  progressEveryMs?: number;
  /** Wall-clock ms between audit polls while waiting for convergence (default 250). */
  pollMs?: number;
  /** Also render the store wall (every panel, in store order). */
  wall?: boolean | { columns?: number };
  /** Wall clock for event versions and report times (default Date.now). */
  wallNow?: () => number;
  /** Aborts the run (SIGINT in the CLI): it stops the store cleanly and rejects with SCENARIO_ABORTED. */
  signal?: AbortSignal;
}

export interface ScenarioResult {
  report: ScenarioReport;
  wallPng?: Buffer;
}

interface Observation {
  simAt: number;
  snapshot: AuditSnapshot;
  observations: LabelObservation[];
  assessment: Assessment;
}

const SOURCE = 'esl-sim-scenario';
const SEED_SOURCE = 'esl-sim-seed';
const round1 = (ms: number) => Math.round(ms / 100) / 10;

function isResolved(s: unknown): s is ResolvedScenario {
  return typeof s === 'object' && s !== null && 'steps' in s && 'store' in s && 'scenario' in s;
}

/** Whether some AP that hears the label is powered and talks to the edge (the label can be reached at all). */
export function labelReachable(sim: StoreSimulator, labelId: string): boolean {
  const label = sim.label(labelId);
  const home = sim.ap(label.homeApId);
  if (home.powerOn) return home.online;
  if (label.neighbourApId === undefined) return false;
  const neighbour = sim.ap(label.neighbourApId);
  return neighbour.powerOn && neighbour.online;
}

export async function runScenario(opts: RunScenarioOptions): Promise<ScenarioResult> {
  const resolved: ResolvedScenario =
    opts.scenario !== undefined ? (isResolved(opts.scenario) ? opts.scenario : await resolveScenario(opts.scenario)) : await loadScenarioFile(opts.file!);
  const { scenario, store, steps } = resolved;
  const { edge } = opts;
  const wallNow = opts.wallNow ?? Date.now;
  const logger = opts.logger ?? silentLogger;
  const pollMs = opts.pollMs ?? 250;
  const startedWall = wallNow();
  const ownClock = opts.clock === undefined ? new RealClock({ speed: scenario.speed }) : undefined;
  const clock = opts.clock ?? ownClock!;
  const speed = clock instanceof RealClock ? clock.speed : scenario.speed;
  const runId = `esl-sim-${scenario.name}-${startedWall.toString(36)}`;
  const prices = new PriceBook(store);

  let phase: ScenarioPhase = 'seeding';
  let stepsRun = 0;
  let lastAssessment: Assessment | undefined;
  let sim: StoreSimulator | undefined;
  let publisher: EventPublisher | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const simStart = clock.now();
  const progress = (): ScenarioProgress | undefined =>
    sim === undefined
      ? undefined
      : { scenario: scenario.name, phase, simulatedMs: clock.now() - simStart, stepsRun, steps: steps.length, assessment: lastAssessment, stats: sim.stats() };
  const report = (p: ScenarioProgress | undefined) => {
    if (p !== undefined) opts.onProgress?.(p);
  };
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new ScenarioError('SCENARIO_ABORTED', `scenario ${scenario.name} aborted`));
    if (opts.signal?.aborted) fail();
    else opts.signal?.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  /** Waits for `p`, or rejects at once when the run is aborted. */
  const guard = <T>(p: Promise<T>): Promise<T> => (opts.signal === undefined ? p : Promise.race([p, aborted]));

  try {
    // ---- seed: the store's catalogue and bindings, as HQ would send them --------------------------------------
    publisher = await EventPublisher.connect({ brokerUrl: edge.brokerUrl, ...edge.publisher, chain: edge.chain, store: edge.store });
    const pub = publisher;
    let seedApplied = 0;
    let seedDuplicate = 0;
    for (const batch of toBatches(seedEvents(store, SEED_SOURCE), { idPrefix: `${SEED_SOURCE}-${storeFingerprint(store)}`, source: SEED_SOURCE, version: 1 })) {
      const r = await guard(pub.send(batch));
      if (r.status === 'duplicate') seedDuplicate += batch.data.events.length;
      else seedApplied += r.applied ?? 0;
    }
    logger.info({ evt: 'scenario.seeded', scenario: scenario.name, applied: seedApplied, duplicate: seedDuplicate }, 'edge seeded with the store');

    // ---- the store ----------------------------------------------------------------------------------------------
    const credentials = edge.apCredentials(store.aps.map((a) => a.apId));
    sim = await StoreSimulator.start({
      brokerUrl: edge.brokerUrl,
      chain: edge.chain,
      store: edge.store,
      aps: store.aps.map((a) => ({ apId: a.apId, channel: a.channel, ...credentials.get(a.apId)! })),
      labels: store.labels.map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId, ...(l.neighbourApId !== undefined ? { neighbourApId: l.neighbourApId } : {}) })),
      ...(scenario.radio !== undefined ? { radio: scenario.radio } : {}),
      clock,
      seed: scenario.seed,
      logger,
    });
    const s = sim;
    ticker = setInterval(() => report(progress()), opts.progressEveryMs ?? 1_000);
    ticker.unref();

    // ---- observing the store: the audit and the ground truth, read together -----------------------------------
    let inflight: Promise<Observation> | undefined;
    let latest: { wallAt: number; obs: Observation } | undefined;
    const observeNow = async (): Promise<Observation> => {
      const snapshot = await guard(edge.audit());
      const entries = auditByLabel(snapshot);
      const observations: LabelObservation[] = store.labels.map((l) => ({
        labelId: l.labelId,
        gtin: l.gtin,
        reachable: labelReachable(s, l.labelId),
        displayedHash: s.groundTruth(l.labelId)!.hash,
        expectedPriceCents: prices.sent.get(l.gtin),
        audit: entries.get(l.labelId),
      }));
      const assessment = assess(observations);
      lastAssessment = assessment;
      return { simAt: clock.now(), snapshot, observations, assessment };
    };
    /** A fresh observation; callers waiting at the same time share one audit request. */
    const observe = (): Promise<Observation> => {
      if (latest !== undefined && performance.now() - latest.wallAt < pollMs / 2) return Promise.resolve(latest.obs);
      inflight ??= observeNow()
        .then((obs) => {
          latest = { wallAt: performance.now(), obs };
          return obs;
        })
        .finally(() => {
          inflight = undefined;
        });
      return inflight;
    };
    const waitConverged = async (withinMs: number): Promise<ConvergenceReport & { last: Observation }> => {
      const from = clock.now();
      for (;;) {
        const obs = await observe();
        if (obs.assessment.converged) return { converged: true, afterS: round1(Math.max(0, obs.simAt - from)), waiting: [], waitingTotal: 0, last: obs };
        if (clock.now() - from >= withinMs) return { converged: false, afterS: null, waiting: obs.assessment.waiting, waitingTotal: obs.assessment.waitingTotal, last: obs };
        await guard(delay(pollMs));
      }
    };
    const strip = ({ last: _last, ...r }: ConvergenceReport & { last: Observation }): ConvergenceReport => r;

    // ---- warm-up: every label gets its first picture ----------------------------------------------------------
    phase = 'warm-up';
    const warm = await waitConverged(scenario.warmup.timeoutS * 1000);
    for (const e of warm.last.snapshot.labels) if (e.gtin !== null && e.tillPriceCents !== null) prices.learn(e.gtin, e.tillPriceCents);
    const warmupMs = clock.now() - simStart;
    logger.info({ evt: 'scenario.warm', scenario: scenario.name, converged: warm.converged, afterS: warm.afterS }, 'store filled');

    // ---- timeline -----------------------------------------------------------------------------------------------
    phase = 'timeline';
    const t0 = clock.now();
    const stepReports: StepReport[] = [];
    const checkpoints: CheckpointReport[] = [];
    const background: Promise<void>[] = [];
    const backgroundProblems: string[] = [];
    const radio = { frameLoss: s.model.frameLoss, corruption: s.model.corruption, duplication: s.model.duplication };
    let current: TimedStep | undefined;
    const ctx: StepContext = {
      sim: s,
      clock,
      store,
      random: seededRandom(scenario.seed ^ 0x5ce7a410),
      prices,
      publisher: pub,
      versions: new VersionSource(wallNow),
      runId,
      source: SOURCE,
      radio,
      background(what, work) {
        background.push(
          work.then(
            () => logger.info({ evt: 'scenario.background_done', what }, what),
            (err: unknown) => {
              backgroundProblems.push(`${what}: ${errorMessage(err)}`);
            },
          ),
        );
      },
      async checkpoint(withinMs) {
        const step = current!;
        const r = await waitConverged(withinMs);
        checkpoints.push({
          index: step.index,
          at: step.step.at,
          withinS: withinMs / 1000,
          ok: r.converged,
          convergedAfterS: r.afterS,
          ...(r.converged ? {} : { waiting: r.waiting, waitingTotal: r.waitingTotal }),
        });
        return { converged: r.converged, afterS: r.afterS };
      },
    };
    for (const ts of steps) {
      const wait = t0 + ts.atMs - clock.now();
      if (wait > 0) await guard(clock.sleep(wait));
      current = ts;
      const ranAtS = round1(clock.now() - t0);
      try {
        const out = await guard(runStep(ctx, ts.step, `s${ts.index}`));
        stepReports.push({ index: ts.index, at: ts.step.at, type: ts.step.type, ranAtS, ok: true, summary: out.summary, ...(out.targets ? { targets: out.targets } : {}) });
        logger.info({ evt: 'scenario.step', scenario: scenario.name, index: ts.index, type: ts.step.type, summary: out.summary }, out.summary);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        stepReports.push({ index: ts.index, at: ts.step.at, type: ts.step.type, ranAtS, ok: false, summary: ts.step.type, error: errorMessage(err) });
        logger.warn({ evt: 'scenario.step_failed', scenario: scenario.name, index: ts.index, type: ts.step.type, err: errorMessage(err) }, 'step failed');
      }
      stepsRun++;
    }
    await guard(Promise.all(background));
    const timelineMs = clock.now() - t0;

    // ---- settle: every reachable label converged, or the end timeout ------------------------------------------
    phase = 'settling';
    const settleFrom = clock.now();
    const end = await waitConverged(scenario.end.timeoutS * 1000);
    const settleMs = clock.now() - settleFrom;

    // ---- compare ground truth with the audit --------------------------------------------------------------------
    phase = 'comparing';
    const final = await observeNow();
    const comparison = compare(final.observations);
    const entries = auditByLabel(final.snapshot);
    const labels: ScenarioLabelReport[] = store.labels.map((l, i) => {
      const gt = s.groundTruth(l.labelId)!;
      const a = entries.get(l.labelId);
      return {
        labelId: l.labelId,
        labelType: l.labelType,
        apId: s.label(l.labelId).homeApId,
        gtin: l.gtin,
        reachable: final.observations[i]!.reachable,
        displayedHash: gt.hash,
        desiredHash: a?.desiredHash ?? null,
        auditStatus: a?.status ?? null,
        tillPriceCents: a?.tillPriceCents ?? null,
        shownPriceCents: a?.shownPriceCents ?? null,
        updates: gt.updates,
        bytesOnAir: gt.bytesOnAir,
        batteryMv: gt.batteryMv,
        refreshes: gt.refreshes,
        transferRetries: gt.transferRetries,
      };
    });
    const aps: ApReport[] = store.aps.map((a) => {
      const st = s.apStats(a.apId);
      return {
        apId: a.apId,
        labels: labels.filter((l) => l.apId === a.apId).length,
        powerOn: s.ap(a.apId).powerOn,
        online: st.online,
        checkinsForwarded: st.radio.checkinsForwarded,
        transfersFinished: st.radio.transfersFinished,
        deferrals: st.radio.deferrals,
      };
    });
    const stats = s.stats();
    const wallPng = opts.wall ? await s.storeWallPng({ labelIds: store.labels.map((l) => l.labelId), ...(typeof opts.wall === 'object' && opts.wall.columns !== undefined ? { columns: opts.wall.columns } : {}) }) : undefined;
    phase = 'done';
    report(progress());

    const finishedWall = wallNow();
    const parts = { warmup: strip(warm), steps: stepReports, checkpoints, end: strip(end), comparison };
    const problems = reportProblems(parts, backgroundProblems);
    const out: ScenarioReport = {
      scenario: scenario.name,
      ...(scenario.description !== undefined ? { description: scenario.description } : {}),
      ...(resolved.file !== undefined ? { file: resolved.file } : {}),
      edge: edge.describe,
      chain: edge.chain,
      store: edge.store,
      speed,
      seed: scenario.seed,
      startedAt: new Date(startedWall).toISOString(),
      finishedAt: new Date(finishedWall).toISOString(),
      wallMs: finishedWall - startedWall,
      simulated: { warmupS: round1(warmupMs), timelineS: round1(timelineMs), settleS: round1(settleMs), totalS: round1(clock.now() - simStart) },
      ...parts,
      events: { ...pub.stats, priceChanges: prices.changes, seedApplied, seedDuplicate },
      radio: stats,
      totals: {
        labels: labels.length,
        reachable: final.assessment.reachable,
        updates: labels.reduce((n, l) => n + l.updates, 0),
        bytesOnAir: stats.bytesOnAir,
        bytesOnAirPerLabel: labels.length === 0 ? 0 : Math.round(stats.bytesOnAir / labels.length),
        refreshes: labels.reduce((n, l) => n + l.refreshes, 0),
        minBatteryMv: Math.min(...labels.map((l) => l.batteryMv)),
      },
      aps,
      ok: problems.length === 0,
      problems,
      labels,
    };
    logger.info({ evt: 'scenario.done', scenario: scenario.name, ok: out.ok, problems }, out.ok ? 'scenario passed' : 'scenario failed');
    return { report: out, ...(wallPng !== undefined ? { wallPng } : {}) };
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await sim?.stop().catch(() => undefined);
    await publisher?.close();
    ownClock?.stop();
  }
}
