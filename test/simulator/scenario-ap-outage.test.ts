/**
 * simulator/scenarios/ap-outage.json against a real edge on the simulator's accelerated clock: AP-2 loses power
 * for 90 s during a full repricing. The edge must finish the update on every AP, and the audit must match every
 * panel.
 */
import { describe, expect, it } from 'vitest';
import { changedPrice } from '../../simulator/src/scenario-events.js';
import { expectGroundTruthMatchesAudit, useScenarioRun } from './scenario-fixture.js';

describe('scenario ap-outage against a real edge', () => {
  const run = useScenarioRun('ap-outage');

  it('ends with the ground truth equal to the audit', () => {
    expectGroundTruthMatchesAudit(run.report);
    expect(run.report.checkpoints).toEqual([expect.objectContaining({ ok: true })]);
  });

  it('AP-2 went down while the repricing was under way, and every label ended at the new price', () => {
    const [repricing, outage] = run.report.steps;
    expect(repricing).toMatchObject({ type: 'full-repricing', ok: true });
    expect(outage).toMatchObject({ type: 'ap-offline', ok: true, targets: ['AP-2'] });
    // AP-2's own labels waited for it: the last of them became consistent only after its 90 s outage, counted from
    // the repricing (the checkpoint itself counts reachable labels only, so it may close while AP-2 is still down).
    const records = run.resolved.store.labels.map((l) => ({ l, r: run.fx.daemon.labels.get(l.labelId)! }));
    const repricedAt = Math.min(...records.map(({ r }) => r.desiredSince!));
    const onlyAp2 = records.filter(({ l }) => l.apId === 'AP-2' && l.neighbourApId === undefined);
    expect(onlyAp2.length).toBeGreaterThan(10);
    expect(Math.max(...onlyAp2.map(({ r }) => r.consistentSince!)) - repricedAt).toBeGreaterThan(90_000);
    expect(run.report.checkpoints[0]!.convergedAfterS).not.toBeNull();
    const catalogue = new Map(run.resolved.store.products.map((p) => [p.gtin, p.regularPriceCents]));
    for (const l of run.report.labels) expect(l.tillPriceCents).toBe(changedPrice(catalogue.get(l.gtin)!, 5));
    expect(run.report.aps.every((a) => a.powerOn && a.online)).toBe(true);
  });

  it('labels AP-3 also hears checked in there while AP-2 was down', async () => {
    const roamers = run.resolved.store.labels.filter((l) => l.apId === 'AP-2' && l.neighbourApId === 'AP-3').map((l) => l.labelId);
    expect(roamers.length).toBeGreaterThan(10);
    // Telemetry is written in batches (D18): flush the last one.
    await run.fx.daemon.labels.flush();
    const seenAtNeighbour = await run.fx.daemon.db.all<{ label_id: string }>(
      `SELECT DISTINCT label_id FROM label_telemetry WHERE ap_id = 'AP-3' AND label_id IN (${roamers.map(() => '?').join(',')})`,
      roamers,
    );
    expect(seenAtNeighbour.length).toBeGreaterThan(roamers.length / 2);
  });
});
