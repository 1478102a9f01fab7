/** Runs a store file as a simulated store (what `esl-sim run` does), until stopped; or a scenario (`esl-sim scenario`). */
import { writeFile } from 'node:fs/promises';
import type { Credential } from './ap-credentials.js';
import { RealClock } from './real-clock.js';
import type { RadioModel } from './radio-model.js';
import { runScenario, type RunScenarioOptions, type ScenarioResult } from './scenario-runner.js';
import { buildReport, type SimReport } from './sim-report.js';
import type { SimClock } from './sim-clock.js';
import type { SimLogger } from './sim-logger.js';
import type { StoreFile } from './store-file.js';
import { StoreSimulator } from './store-simulator.js';

export interface SimRunOptions {
  brokerUrl: string;
  store: StoreFile;
  credentials: Map<string, Credential>;
  /** APs on a serial line instead of MQTT: apId → device path. */
  serial?: Map<string, string>;
  speed?: number;
  radio?: Partial<RadioModel>;
  seed?: number;
  logger?: SimLogger;
  /** The store's time (default: a RealClock at `speed`); tests pass a paced clock (D22), which they stop themselves. */
  clock?: SimClock;
}

export interface SimRun {
  sim: StoreSimulator;
  /** Stops the store and writes the report (and the wall picture when asked). */
  stop(out: { reportPath?: string; wallPath?: string }): Promise<SimReport>;
}

export async function startSimRun(opts: SimRunOptions): Promise<SimRun> {
  const startedAt = new Date();
  const ownClock = opts.clock === undefined ? new RealClock({ speed: opts.speed ?? 1, eventTime: true }) : undefined;
  const clock = opts.clock ?? ownClock!;
  const { store } = opts;
  const sim = await StoreSimulator.start({
    brokerUrl: opts.brokerUrl,
    chain: store.chain,
    store: store.store,
    aps: store.aps.map((a) => {
      const c = opts.credentials.get(a.apId)!;
      const serialPath = opts.serial?.get(a.apId);
      return { apId: a.apId, username: c.username, password: c.password, channel: a.channel, ...(serialPath ? { transport: { serialPath } } : {}) };
    }),
    labels: store.labels.map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId, ...(l.neighbourApId ? { neighbourApId: l.neighbourApId } : {}) })),
    clock,
    ...(opts.radio ? { radio: opts.radio } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return {
    sim,
    async stop(out) {
      await sim.stop();
      ownClock?.stop();
      const report = buildReport(sim, { chain: store.chain, store: store.store, startedAt, stoppedAt: new Date() });
      if (out.reportPath !== undefined) await writeFile(out.reportPath, JSON.stringify(report, null, 2) + '\n');
      if (out.wallPath !== undefined) await writeFile(out.wallPath, await sim.storeWallPng());
      return report;
    },
  };
}

/** Runs a scenario (what `esl-sim scenario` does) and writes its report and, when asked, the store wall. */
export async function runScenarioToFiles(opts: RunScenarioOptions & { reportPath?: string; wallPath?: string }): Promise<ScenarioResult> {
  const { reportPath, wallPath, ...run } = opts;
  const result = await runScenario({ ...run, wall: wallPath !== undefined ? (run.wall ?? true) : (run.wall ?? false) });
  if (reportPath !== undefined) await writeFile(reportPath, JSON.stringify(result.report, null, 2) + '\n');
  if (wallPath !== undefined && result.wallPng !== undefined) await writeFile(wallPath, result.wallPng);
  return result;
}
