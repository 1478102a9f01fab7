/**
 * Test support for scenario runs: a real edge in this process (embedded aedes, sqlite in a temp dir, the real
 * renderer) on the simulator's accelerated clock, with an MQTT user for every AP of the scenario's store.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { edgeClock } from '../../demo/src/edge-clock.js';
import { PacedClock } from '../../simulator/src/paced-clock.js';
import { inProcessEdge } from '../../demo/src/in-process-edge.js';
import type { ScenarioEdge } from '../../simulator/src/scenario-edge.js';
import { loadScenarioFile, type ResolvedScenario } from '../../simulator/src/scenario-load.js';
import { runScenario } from '../../simulator/src/scenario-runner.js';
import type { ScenarioReport } from '../../simulator/src/scenario-report.js';
import { USERS, tempDir, testConfig } from '../support/edge-fixture.js';

export interface ScenarioEdgeFixture {
  daemon: Daemon;
  clock: PacedClock;
  edge: ScenarioEdge;
  stop(): Promise<void>;
}

/** MQTT users of the store's APs: username = lower-case AP id. */
export function apUsers(resolved: ResolvedScenario) {
  return resolved.store.aps.map((a) => ({ username: a.apId.toLowerCase(), password: `${a.apId.toLowerCase()}-password`, role: 'ap' as const, apId: a.apId }));
}

/**
 * The edge for a scenario. `realTime: true` runs the edge on the system clock, as a separately started edge (the
 * demo) does while `esl-sim scenario` drives the store at the scenario's speed.
 */
export async function startScenarioEdge(resolved: ResolvedScenario, opts: { listenHttp?: boolean; realTime?: boolean } = {}): Promise<ScenarioEdgeFixture> {
  const tmp = tempDir('esl-scenario-');
  // Paced (D22): simulated time passes only while this process is idle, so a loaded machine cannot change a verdict.
  const clock = new PacedClock({ speed: resolved.scenario.speed });
  const config = testConfig(tmp.dir, {
    store: { chain: 'testchain', id: 'store-1' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [...apUsers(resolved), USERS.pos] },
    // The edge's production timings, in simulated time (the clock below runs them at the scenario's speed).
    dispatch: { ackTimeoutMs: 5_000, transferTimeoutMs: 300_000, retryBaseMs: 5_000, retryMaxMs: 60_000, heartbeatIntervalS: 30, checkinReportIntervalS: 300 },
  });
  const daemon = await startDaemon(config, {
    ...(opts.realTime ? {} : { clock: edgeClock(clock) }),
    log: createLogger({ level: config.log.level }),
    listenHttp: opts.listenHttp ?? false,
  });
  return {
    daemon,
    clock,
    edge: inProcessEdge(daemon),
    async stop() {
      await daemon.stop();
      clock.stop();
      tmp.remove();
    },
  };
}

/**
 * The acceptance check of every scenario: it passed, every label (all APs are back at the end) is consistent in
 * the audit and shows the edge's desired picture, and the two counts are equal.
 */
export function expectGroundTruthMatchesAudit(report: ScenarioReport): void {
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  const c = report.comparison;
  expect(c.mismatches).toEqual([]);
  expect(c.priceMismatches).toEqual([]);
  expect(report.totals.reachable).toBe(report.totals.labels);
  expect(c.auditConsistent).toBe(report.totals.labels);
  expect(c.panelsShowDesired).toBe(c.auditConsistent);
  for (const l of report.labels) {
    expect(l.auditStatus).toBe('consistent');
    expect(l.displayedHash).toBe(l.desiredHash);
    expect(l.shownPriceCents).toBe(l.tillPriceCents);
  }
}

/** One line of figures for the test log. */
export function describeRun(report: ScenarioReport): string {
  return (
    `scenario ${report.scenario}: ${report.totals.labels} labels on ${report.aps.length} APs, wall ${(report.wallMs / 1000).toFixed(1)} s, ` +
    `simulated ${report.simulated.totalS} s at ${report.speed}× (warm-up ${report.simulated.warmupS} s, timeline ${report.simulated.timelineS} s, ` +
    `settle ${report.simulated.settleS} s), ${(report.totals.bytesOnAir / 1024).toFixed(1)} kB on air (${report.totals.bytesOnAirPerLabel} B/label), ` +
    `${report.totals.updates} updates, checkpoints ${report.checkpoints.map((c) => c.convergedAfterS).join(', ')} s`
  );
}

export interface ScenarioRun {
  fx: ScenarioEdgeFixture;
  resolved: ResolvedScenario;
  report: ScenarioReport;
}

/**
 * Runs simulator/scenarios/{name}.json once against a real in-process edge for the calling describe block (in its
 * beforeAll; stopped in its afterAll) and prints the one-line summary. Read the fields in the tests, after beforeAll.
 */
export function useScenarioRun(name: string): ScenarioRun {
  const run = {} as ScenarioRun;
  beforeAll(async () => {
    run.resolved = await loadScenarioFile(join(import.meta.dirname, '..', '..', 'simulator', 'scenarios', `${name}.json`));
    run.fx = await startScenarioEdge(run.resolved);
    ({ report: run.report } = await runScenario({ scenario: run.resolved, edge: run.fx.edge, clock: run.fx.clock }));
    console.info(describeRun(run.report));
    // A safety net only: the scenario's verdicts are in simulated time, which a loaded machine stretches (D22).
  }, 900_000);
  afterAll(async () => {
    await run.fx?.stop();
  });
  return run;
}
