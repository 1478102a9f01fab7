/**
 * simulator/scenarios/flaky-radio.json against a real edge on the simulator's accelerated clock: 10 % frame loss
 * and 1 corrupted frame in 100 (enough that a run of ~1,500 frames always has some: at 1 in 1,000 one CI run in five had none) while half the catalogue changes price. Downloads resume at later wake-ups; no
 * corrupted picture may reach a panel, and the audit must match every panel at the end.
 */
import { describe, expect, it } from 'vitest';
import { expectGroundTruthMatchesAudit, useScenarioRun } from './scenario-fixture.js';

describe('scenario flaky-radio against a real edge', () => {
  const run = useScenarioRun('flaky-radio');

  it('ends with the ground truth equal to the audit', () => {
    expectGroundTruthMatchesAudit(run.report);
    expect(run.report.checkpoints).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('the radio really was bad: frames were lost and corrupted on air', () => {
    // The timeline's own frames: the warm-up before the faults were switched on sent clean ones.
    const air = run.report.radioTimeline;
    expect(air.framesSent).toBeGreaterThan(1000);
    expect(air.framesLost / air.framesSent).toBeGreaterThan(0.07);
    expect(air.framesCorrupted).toBeGreaterThan(0);
    expect(run.report.radio.framesRejectedByLabels).toBeGreaterThan(0);
  });

  it('half the catalogue changed price and every label shows its product\'s current price', () => {
    expect(run.report.events.priceChanges).toBe(run.resolved.store.products.length / 2);
    const changed = new Set(run.report.steps.find((s) => s.type === 'price-change')!.targets);
    const catalogue = new Map(run.resolved.store.products.map((p) => [p.gtin, p.regularPriceCents]));
    for (const l of run.report.labels) {
      if (changed.has(l.gtin)) expect(l.shownPriceCents).toBeLessThan(catalogue.get(l.gtin)!);
      else expect(l.shownPriceCents).toBe(catalogue.get(l.gtin)!);
    }
  });
});
