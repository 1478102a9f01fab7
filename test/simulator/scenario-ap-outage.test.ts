/**
 * simulator/scenarios/ap-outage.json against a real edge on the simulator's accelerated clock: AP-2 loses power
 * for 90 s during a full repricing. The edge must finish the update on every AP, and the audit must match every
 * panel.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changedPrice } from '../../simulator/src/scenario-events.js';
import { loadScenarioFile, type ResolvedScenario } from '../../simulator/src/scenario-load.js';
import type { ScenarioReport } from '../../simulator/src/scenario-report.js';
import { runScenario } from '../../simulator/src/scenario-runner.js';
import { describeRun, expectGroundTruthMatchesAudit, startScenarioEdge, type ScenarioEdgeFixture } from './scenario-fixture.js';

describe('scenario ap-outage against a real edge', () => {
  let fx: ScenarioEdgeFixture;
  let resolved: ResolvedScenario;
  let report: ScenarioReport;

  beforeAll(async () => {
    resolved = await loadScenarioFile(join(import.meta.dirname, '..', '..', 'simulator', 'scenarios', 'ap-outage.json'));
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

  it('AP-2 went down while the repricing was under way, and every label ended at the new price', () => {
    const [repricing, outage] = report.steps;
    expect(repricing).toMatchObject({ type: 'full-repricing', ok: true });
    expect(outage).toMatchObject({ type: 'ap-offline', ok: true, targets: ['AP-2'] });
    // The update needed longer than the outage: AP-2's labels waited for it.
    expect(report.checkpoints[0]!.convergedAfterS!).toBeGreaterThan(90);
    const catalogue = new Map(resolved.store.products.map((p) => [p.gtin, p.regularPriceCents]));
    for (const l of report.labels) expect(l.tillPriceCents).toBe(changedPrice(catalogue.get(l.gtin)!, 5));
    expect(report.aps.every((a) => a.powerOn && a.online)).toBe(true);
  });

  it('labels AP-3 also hears checked in there while AP-2 was down', async () => {
    const roamers = resolved.store.labels.filter((l) => l.apId === 'AP-2' && l.neighbourApId === 'AP-3').map((l) => l.labelId);
    expect(roamers.length).toBeGreaterThan(10);
    const seenAtNeighbour = await fx.daemon.db.all<{ label_id: string }>(
      `SELECT DISTINCT label_id FROM label_telemetry WHERE ap_id = 'AP-3' AND label_id IN (${roamers.map(() => '?').join(',')})`,
      roamers,
    );
    expect(seenAtNeighbour.length).toBeGreaterThan(roamers.length / 2);
  });
});
