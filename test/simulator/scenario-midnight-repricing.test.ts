/**
 * simulator/scenarios/midnight-repricing.json against a real edge on the simulator's accelerated clock: the
 * regular price of every product changes at once (batch events). Every label needs a new picture; the audit must
 * match every panel at the end.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedPrice } from '../../simulator/src/scenario-events.js';
import { loadScenarioFile, type ResolvedScenario } from '../../simulator/src/scenario-load.js';
import type { ScenarioReport } from '../../simulator/src/scenario-report.js';
import { runScenario } from '../../simulator/src/scenario-runner.js';
import { describeRun, expectGroundTruthMatchesAudit, startScenarioEdge, type ScenarioEdgeFixture } from './scenario-fixture.js';

describe('scenario midnight-repricing against a real edge', () => {
  let fx: ScenarioEdgeFixture;
  let resolved: ResolvedScenario;
  let report: ScenarioReport;

  beforeAll(async () => {
    resolved = await loadScenarioFile(join(import.meta.dirname, '..', '..', 'simulator', 'scenarios', 'midnight-repricing.json'));
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

  it('every label got the new price: a picture at warm-up and one after the repricing', () => {
    const catalogue = new Map(resolved.store.products.map((p) => [p.gtin, p.regularPriceCents]));
    expect(report.events.priceChanges).toBe(resolved.store.products.length);
    for (const l of report.labels) {
      expect(l.shownPriceCents).toBe(changedPrice(catalogue.get(l.gtin)!, 4));
      expect(l.updates).toBeGreaterThanOrEqual(2);
    }
    // The 4.2" BWRY labels of the mix (type 4) took part.
    expect(report.labels.filter((l) => l.labelType === 4).length).toBeGreaterThan(0);
  });

  it('the edge sent the repricing as deltas or compressed images, not raw planes', () => {
    const stats = fx.daemon.dispatcher.stats;
    expect(stats.transfersDelivered).toBeGreaterThanOrEqual(2 * report.totals.labels);
    // A raw 2.9" BWR image alone is 9,472 bytes; the whole store's air time per label stays far below that.
    expect(report.totals.bytesOnAirPerLabel).toBeLessThan(9_472);
  });
});
