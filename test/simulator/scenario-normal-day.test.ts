/**
 * simulator/scenarios/normal-day.json against a real edge on the simulator's accelerated clock: a compressed store
 * day of POS price changes one by one, an HQ batch, label reboots and batteries dropping below the alert
 * threshold. Both checkpoints must pass and the audit must match every panel at the end.
 */
import { describe, expect, it } from 'vitest';
import { seedEvents, toBatches } from '../../simulator/src/scenario-events.js';
import { expectGroundTruthMatchesAudit, useScenarioRun } from './scenario-fixture.js';

describe('scenario normal-day against a real edge', () => {
  const run = useScenarioRun('normal-day');

  it('ends with the ground truth equal to the audit, after both checkpoints passed', () => {
    expectGroundTruthMatchesAudit(run.report);
    expect(run.report.checkpoints.map((c) => c.ok)).toEqual([true, true]);
    expect(run.report.steps.every((s) => s.ok)).toBe(true);
  });

  it('sent the POS changes one event each and the lunchtime batch as one', () => {
    // 12 + 12 single price events, 24 prices (10 % of 240 products) in one batch, after the seed batches.
    const seedBatches = toBatches(seedEvents(run.resolved.store, 'esl-sim-seed'), { idPrefix: 'x', source: 'esl-sim-seed', version: 1 }).length;
    expect(run.report.events.priceChanges).toBe(12 + 24 + 12);
    expect(run.report.events.messages).toBe(seedBatches + 12 + 1 + 12);
  });

  it('rebooted labels got their picture again; low batteries reached the edge as alerts', async () => {
    const rebooted = run.report.steps.filter((s) => s.type === 'reboot-labels').flatMap((s) => s.targets!);
    expect(rebooted).toHaveLength(12 + 6);
    const byId = new Map(run.report.labels.map((l) => [l.labelId, l]));
    for (const id of rebooted) expect(byId.get(id)!.updates).toBeGreaterThanOrEqual(2);

    const low = run.report.steps.find((s) => s.type === 'battery')!.targets!;
    expect(low).toHaveLength(5);
    // Written behind by the label store: what it has committed (D17).
    await run.fx.daemon.labels.flush();
    const rows = await run.fx.daemon.db.all<{ label_id: string; battery_mv: number; alert_flags: number }>(
      `SELECT label_id, battery_mv, alert_flags FROM labels WHERE label_id IN (${low.map(() => '?').join(',')})`,
      low,
    );
    expect(rows).toHaveLength(5);
    for (const r of rows) {
      expect(r.battery_mv).toBeLessThan(2_400);
      expect(r.alert_flags & 1).toBe(1);
      expect(byId.get(r.label_id)!.batteryMv).toBeLessThan(2_400);
    }
    expect(run.report.totals.minBatteryMv).toBeLessThan(2_400);
  });
});
