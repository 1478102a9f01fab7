/**
 * simulator/scenarios/evening-stock-out.json against a real edge on the simulator's accelerated clock (issue 14):
 * label rules from HQ, the bakery running low (low-stock promotion) and then out (out-of-stock picture with the web
 * shop's link), dairy lots on their best-before day (short-dated markdown with its reason instead of §11). Both
 * checkpoints must pass and the audit must match every panel at the end.
 */
import { describe, expect, it } from 'vitest';
import { loadContent } from '../../src/domain/labels/image-store.js';
import { expectGroundTruthMatchesAudit, useScenarioRun } from './scenario-fixture.js';

describe('scenario evening-stock-out against a real edge', () => {
  const run = useScenarioRun('evening-stock-out');

  it('ends with the ground truth equal to the audit, after both checkpoints passed', () => {
    expectGroundTruthMatchesAudit(run.report);
    expect(run.report.checkpoints.map((c) => c.ok)).toEqual([true, true]);
    expect(run.report.steps.every((s) => s.ok)).toBe(true);
    expect(run.report.steps[0]!.summary).toContain('applied');
  });

  it('shows the rules on the panels: bakery out of stock with the shop link, dairy marked down with its reason', async () => {
    const { store } = run.resolved;
    const category = new Map(store.products.map((p) => [p.gtin, p.category]));
    const regular = new Map(store.products.map((p) => [p.gtin, p.regularPriceCents]));
    let bakery = 0;
    let dairy = 0;
    for (const l of run.report.labels) {
      const gtin = store.labels.find((x) => x.labelId === l.labelId)!.gtin;
      const shown = run.fx.daemon.labels.get(l.labelId)!.confirmedHash;
      const c = shown ? await loadContent(run.fx.daemon.db, shown) : undefined;
      expect(c, `label ${l.labelId} confirmed content`).toBeDefined();
      if (category.get(gtin) === 'Backwaren') {
        bakery++;
        expect(c!.outOfStock?.url).toBe(`https://shop.example.de/p/${gtin}?store=${run.fx.daemon.config.store.id}`);
        expect(c!.template).toBe('out-of-stock');
      } else if (category.get(gtin) === 'Molkereiprodukte') {
        dairy++;
        expect(c!.promotion?.exemptReason).toBe('wegen kurzer Haltbarkeit');
        expect(c!.priceCents).toBeLessThan(regular.get(gtin)!);
        expect(c!.pricing?.ruleId).toBe('short-dated-dairy');
      } else {
        expect(c!.promotion).toBeUndefined();
      }
    }
    expect(bakery).toBeGreaterThan(0);
    expect(dairy).toBeGreaterThan(0);
    // The low-stock promotion ran in between: it is in the till's feed and in the rule history.
    const fed = await run.fx.daemon.db.all<{ n: number }>("SELECT count(*) AS n FROM price_feed WHERE rule_id = 'low-stock-evening'");
    expect(fed[0]!.n).toBeGreaterThan(0);
    const ended = await run.fx.daemon.db.all<{ n: number }>("SELECT count(*) AS n FROM rule_history WHERE rule_id = 'low-stock-evening' AND action IN ('scheduled', 'applied')");
    expect(ended[0]!.n).toBeGreaterThan(0);
  });
});
