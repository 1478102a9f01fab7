/**
 * The store wall of a small scenario against a real edge: every tile of the PNG is what that label's panel must
 * show — the edge's desired image for it (loadImage(db, desiredHash)), compared plane bit by plane bit after
 * decoding the tile with sharp and rgbaToPlanes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelTypeById, rgbaToPlanes, type LabelType } from '#protocol';
import { loadImage } from '../../src/domain/labels/image-store.js';
import { sharp } from '../../src/domain/rendering/sharp.js';
import { WALL_GAP, wallLayout } from '../../simulator/src/panel-png.js';
import { resolveScenario, type ResolvedScenario } from '../../simulator/src/scenario-load.js';
import { runScenario, type ScenarioResult } from '../../simulator/src/scenario-runner.js';
import { describeRun, expectGroundTruthMatchesAudit, startScenarioEdge, type ScenarioEdgeFixture } from './scenario-fixture.js';

const COLUMNS = 4;

describe('the store wall of a scenario', () => {
  let fx: ScenarioEdgeFixture;
  let resolved: ResolvedScenario;
  let result: ScenarioResult;

  beforeAll(async () => {
    resolved = await resolveScenario({
      name: 'store-wall',
      store: { generate: { aps: 2, labels: 14, labelTypes: { 'epd-29-bwr': 3, 'epd-213-bwr': 2, 'epd-154-bw': 1, 'epd-42-bwry': 1 }, seed: 77 } },
      speed: 30,
      seed: 77,
      timeline: [
        { at: '00:05', type: 'price-change', fraction: 0.5, percent: -15 },
        { at: '00:05', type: 'expect-converged', withinS: 600 },
      ],
    });
    fx = await startScenarioEdge(resolved);
    result = await runScenario({ scenario: resolved, edge: fx.edge, clock: fx.clock, wall: { columns: COLUMNS } });
    console.info(describeRun(result.report));
  }, 120_000);
  afterAll(async () => {
    await fx?.stop();
  });

  it('the run passed: every panel shows what the edge wants', () => {
    expectGroundTruthMatchesAudit(result.report);
  });

  it('each tile is the image the edge wants its label to show', async () => {
    const png = result.wallPng!;
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    const types = resolved.store.labels.map((l) => labelTypeById(l.labelType)!);
    expect(new Set(types.map((t) => t.palette))).toEqual(new Set(['BW', 'BWR', 'BWRY']));
    const layout = wallLayout(types, COLUMNS);
    const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([layout.width, layout.height]);
    const tile = (i: number, t: LabelType): Uint8Array => {
      const { left, top } = layout.positions[i]!;
      const out = new Uint8Array(t.width * t.height * 4);
      for (let y = 0; y < t.height; y++) out.set(data.subarray(((top + y) * info.width + left) * 4, ((top + y) * info.width + left + t.width) * 4), y * t.width * 4);
      return out;
    };
    const byId = new Map(result.report.labels.map((l) => [l.labelId, l]));
    for (const [i, l] of resolved.store.labels.entries()) {
      const desiredHash = byId.get(l.labelId)!.desiredHash!;
      const desired = await loadImage(fx.daemon.db, desiredHash);
      expect(desired, `desired image of ${l.labelId}`).toBeDefined();
      expect(desired!.labelType).toBe(types[i]!.id);
      expect(rgbaToPlanes(tile(i, types[i]!), types[i]!), `tile ${i} (${l.labelId})`).toEqual(desired!.planes);
      expect(desired!.content.priceCents).toBe(byId.get(l.labelId)!.tillPriceCents);
    }
  });

  it('between the tiles is the grey wall', async () => {
    const { data, info } = await sharp(result.wallPng!).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => [...data.subarray((y * info.width + x) * 4, (y * info.width + x) * 4 + 4)];
    expect(px(0, 0)).toEqual([96, 96, 96, 255]);
    expect(px(WALL_GAP - 1, info.height - 1)).toEqual([96, 96, 96, 255]);
  });
});
