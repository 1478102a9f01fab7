/**
 * Runs a scenario against a real edge: seeds the edge's catalogue and label bindings from the store (as events,
 * over MQTT), starts the simulated store, lets it fill (warm-up), plays the timeline on the simulator's clock,
 * waits until every reachable label converged (or a timeout), and compares what every panel shows with what the
 * edge's audit believes (scenario-compare.ts). Returns a JSON report and, on request, a PNG of the store wall.
 *
 * Time: steps run at simulated times on the simulator's clock. An in-process edge shares that clock through
 * edge-clock.ts (pass the same `clock` here); a remote edge runs on its own clock.
 */
import { errorMessage, EslError } from '#contracts';
import { RealClock } from './real-clock.js';
import { seededRandom } from './rng.js';
import { compare } from './scenario-compare.js';
import type { ScenarioEdge } from './scenario-edge.js';
import { VersionSource, seedEvents, storeFingerprint, toBatches } from './scenario-events.js';
import { loadScenarioFile, type ResolvedScenario, type TimedStep } from './scenario-load.js';
import { StoreObserver, type ConvergenceResult } from './scenario-observer.js';
import { EventPublisher } from './scenario-publisher.js';
import {
  apReports,
  labelReports,
  radioSince,
  reportProblems,
  totalsOf,
  type CheckpointReport,
  type ConvergenceReport,
  type ScenarioPhase,
  type ScenarioProgress,
  type ScenarioReport,
  type StepReport,
} from './scenario-report.js';
import { PriceBook, runStep, type StepContext } from './scenario-steps.js';
import type { SimClock } from './sim-clock.js';
import { silentLogger, type SimLogger } from './sim-logger.js';
import { StoreSimulator } from './store-simulator.js';

export interface RunScenarioOptions {
  /** A scenario file (validated and resolved here), or */
  file?: string;
  /** a scenario already resolved (loadScenarioFile / resolveScenario). */
  scenario?: ResolvedScenario;
  edge: ScenarioEdge;
  /** The simulator's clock; share it with an in-process edge (edge-clock.ts). Default: RealClock at the scenario's speed. */
  clock?: SimClock;
  logger?: SimLogger;
  /** Called about once per `progressEveryMs` of wall time, and once at the end. */
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

const SOURCE = 'esl-sim-scenario';
const SEED_SOURCE = 'esl-sim-seed';
const round1 = (ms: number) => Math.round(ms / 100) / 10;
const convergence = ({ last: _last, ...r }: ConvergenceResult): ConvergenceReport => r;

/** A wrapper for every wait of the run: it rejects at once with SCENARIO_ABORTED when `signal` fires. */
function abortGuard(signal: AbortSignal | undefined, name: string): <T>(p: Promise<T>) => Promise<T> {
  if (signal === undefined) return (p) => p;
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new EslError('SCENARIO_ABORTED', `scenario ${name} aborted`));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  aborted.catch(() => undefined);
  return (p) => Promise.race([p, aborted]);
}

export async function runScenario(opts: RunScenarioOptions): Promise<ScenarioResult> {
  if (opts.scenario === undefined && opts.file === undefined) throw new EslError('SCENARIO_INVALID', 'runScenario needs a scenario or a file');
  const resolved = opts.scenario ?? (await loadScenarioFile(opts.file!));
  const { scenario, store, steps } = resolved;
  const { edge } = opts;
  const wallNow = opts.wallNow ?? Date.now;
  const logger = opts.logger ?? silentLogger;
  const guard = abortGuard(opts.signal, scenario.name);
  const startedWall = wallNow();
  const ownClock = opts.clock === undefined ? new RealClock({ speed: scenario.speed, eventTime: true }) : undefined;
  const clock = opts.clock ?? ownClock!;
  const prices = new PriceBook(store);

  let phase: ScenarioPhase = 'seeding';
  let stepsRun = 0;
  let sim: StoreSimulator | undefined;
  let observer: StoreObserver | undefined;
  let publisher: EventPublisher | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const simStart = clock.now();
  const progress = (): void => {
    if (sim === undefined) return;
    opts.onProgress?.({ scenario: scenario.name, phase, simulatedMs: clock.now() - simStart, stepsRun, steps: steps.length, assessment: observer?.latest, stats: sim.stats() });
  };

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
    const obs = new StoreObserver({ sim: s, edge, store, clock, sentPrices: prices.sent, pollMs: opts.pollMs ?? 250, guard });
    observer = obs;
    ticker = setInterval(progress, opts.progressEveryMs ?? 1_000);
    ticker.unref();

    // ---- warm-up: every label gets its first picture ----------------------------------------------------------
    phase = 'warm-up';
    const warm = await obs.waitConverged(scenario.warmup.timeoutS * 1000);
    // A second run against the same edge starts from the prices the edge has.
    for (const e of warm.last.snapshot.labels) if (e.gtin !== null && e.tillPriceCents !== null) prices.learn(e.gtin, e.tillPriceCents);
    const warmupMs = clock.now() - simStart;
    logger.info({ evt: 'scenario.warm', scenario: scenario.name, converged: warm.converged, afterS: warm.afterS }, 'store filled');

    // ---- timeline -----------------------------------------------------------------------------------------------
    phase = 'timeline';
    const t0 = clock.now();
    const radioAtT0 = { ...s.radioStats() };
    const stepReports: StepReport[] = [];
    const checkpoints: CheckpointReport[] = [];
    const background: Promise<void>[] = [];
    const backgroundProblems: string[] = [];
    let current: TimedStep | undefined;
    const ctx: StepContext = {
      sim: s,
      clock,
      store,
      random: seededRandom(scenario.seed ^ 0x5ce7a410),
      prices,
      publisher: pub,
      versions: new VersionSource(wallNow),
      runId: `esl-sim-${scenario.name}-${startedWall.toString(36)}`,
      source: SOURCE,
      radio: { frameLoss: s.model.frameLoss, corruption: s.model.corruption, duplication: s.model.duplication },
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
        const r = await obs.waitConverged(withinMs);
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
      const base = { index: ts.index, at: ts.step.at, type: ts.step.type, ranAtS };
      try {
        const out = await guard(runStep(ctx, ts.step, `s${ts.index}`));
        stepReports.push({ ...base, ok: true, summary: out.summary, ...(out.targets ? { targets: out.targets } : {}) });
        logger.info({ evt: 'scenario.step', scenario: scenario.name, index: ts.index, type: ts.step.type, summary: out.summary }, out.summary);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        stepReports.push({ ...base, ok: false, summary: ts.step.type, error: errorMessage(err) });
        logger.warn({ evt: 'scenario.step_failed', scenario: scenario.name, index: ts.index, type: ts.step.type, err: errorMessage(err) }, 'step failed');
      }
      stepsRun++;
    }
    await guard(Promise.all(background));
    const timelineMs = clock.now() - t0;

    // ---- settle: every reachable label converged, or the end timeout ------------------------------------------
    phase = 'settling';
    const settleFrom = clock.now();
    const end = await obs.waitConverged(scenario.end.timeoutS * 1000);
    const settleMs = clock.now() - settleFrom;

    // ---- compare ground truth with the audit --------------------------------------------------------------------
    phase = 'comparing';
    const final = await obs.observeNow();
    const labels = labelReports(s, store, final);
    const stats = s.stats();
    const wallPng = opts.wall
      ? await s.storeWallPng({ labelIds: store.labels.map((l) => l.labelId), ...(typeof opts.wall === 'object' && opts.wall.columns !== undefined ? { columns: opts.wall.columns } : {}) })
      : undefined;
    phase = 'done';
    progress();

    const finishedWall = wallNow();
    const parts = { warmup: convergence(warm), steps: stepReports, checkpoints, end: convergence(end), comparison: compare(final.observations) };
    const problems = reportProblems(parts, backgroundProblems);
    const report: ScenarioReport = {
      scenario: scenario.name,
      ...(scenario.description !== undefined ? { description: scenario.description } : {}),
      ...(resolved.file !== undefined ? { file: resolved.file } : {}),
      edge: edge.describe,
      chain: edge.chain,
      store: edge.store,
      speed: clock instanceof RealClock ? clock.speed : scenario.speed,
      seed: scenario.seed,
      startedAt: new Date(startedWall).toISOString(),
      finishedAt: new Date(finishedWall).toISOString(),
      wallMs: finishedWall - startedWall,
      simulated: { warmupS: round1(warmupMs), timelineS: round1(timelineMs), settleS: round1(settleMs), totalS: round1(clock.now() - simStart) },
      ...parts,
      events: { ...pub.stats, priceChanges: prices.changes, seedApplied, seedDuplicate },
      radio: stats,
      radioTimeline: radioSince(radioAtT0, s.radioStats()),
      totals: totalsOf(labels, stats, final.assessment.reachable),
      aps: apReports(s, store, labels),
      ok: problems.length === 0,
      problems,
      labels,
    };
    logger.info({ evt: 'scenario.done', scenario: scenario.name, ok: report.ok, problems }, report.ok ? 'scenario passed' : 'scenario failed');
    return { report, ...(wallPng !== undefined ? { wallPng } : {}) };
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    await sim?.stop().catch(() => undefined);
    await publisher?.close();
    ownClock?.stop();
  }
}
