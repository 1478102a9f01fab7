/**
 * simulator/scenarios/flaky-radio.json against a real edge on the simulator's accelerated clock: 10 % frame loss
 * and 1 corrupted frame in 1,000 while half the catalogue changes price. Downloads resume at later wake-ups; no
 * corrupted picture may reach a panel, and the audit must match every panel at the end.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, type ResolvedScenario } from '../../simulator/src/scenario-load.js';
import type { ScenarioReport } from '../../simulator/src/scenario-report.js';
import { runScenario } from '../../simulator/src/scenario-runner.js';
import { describeRun, expectGroundTruthMatchesAudit, startScenarioEdge, type ScenarioEdgeFixture } from './scenario-fixture.js';

describe('scenario flaky-radio against a real edge', () => {
  let fx: ScenarioEdgeFixture;
  let resolved: ResolvedScenario;
  let report: ScenarioReport;

  beforeAll(async () => {
    resolved = await loadScenarioFile(join(import.meta.dirname, '..', '..', 'simulator', 'scenarios', 'flaky-radio.json'));
    fx = await startScenarioEdge(resolved);
    ({ report } = await runScenario({ scenario: resolved, edge: fx.edge, clock: fx.clock }));
    console.info(describeRun(report));
  }, 150_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('ends with the ground truth equal to the audit', () => {
    expectGroundTruthMatchesAudit(report);
    expect(report.checkpoints).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('the radio really was bad: frames were lost and corrupted on air', () => {
    expect(report.radio.framesLost / report.radio.framesSent).toBeGreaterThan(0.03);
    expect(report.radio.framesCorrupted).toBeGreaterThan(0);
  });

  it('half the catalogue changed price and every label shows its product\'s current price', () => {
    expect(report.events.priceChanges).toBe(resolved.store.products.length / 2);
    const changed = new Set(report.steps.find((s) => s.type === 'price-change')!.targets);
    const catalogue = new Map(resolved.store.products.map((p) => [p.gtin, p.regularPriceCents]));
    for (const l of report.labels) {
      if (changed.has(l.gtin)) expect(l.shownPriceCents).toBeLessThan(catalogue.get(l.gtin)!);
      else expect(l.shownPriceCents).toBe(catalogue.get(l.gtin)!);
    }
  });
});
