import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageKind, encodeImage, planesToRgba, rgbaToPlanes } from '#protocol';
import { sharp } from '../../src/domain/rendering/sharp.js';
import { WALL_GAP, panelPng, wallLayout } from '../../simulator/src/panel-png.js';
import { runVirtualUntil } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A, LABEL_B, startStore, type StoreFixture } from './store-fixture.js';

async function rawPixels(png: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

describe('pictures of what the simulated panels show', () => {
  let fx: StoreFixture;
  const t29 = labelType(3);
  const t213 = labelType(2);
  const planesA = testPlanes(t29, 1);
  const planesB = testPlanes(t213, 2);

  beforeAll(async () => {
    fx = await startStore({
      labels: [
        { labelId: LABEL_A, labelType: 3, apId: 'AP-1' },
        { labelId: LABEL_B, labelType: 2, apId: 'AP-1' },
      ],
    });
    const a = encodeImage({ labelType: t29, target: planesA, kinds: [ImageKind.FULL] });
    const b = encodeImage({ labelType: t213, target: planesB, kinds: [ImageKind.FULL] });
    await fx.edge.stage('AP-1', { transferId: 1, labelId: LABEL_A, labelType: 3, image: a });
    await fx.edge.stage('AP-1', { transferId: 2, labelId: LABEL_B, labelType: 2, image: b });
    await runVirtualUntil(fx.clock, () => fx.sim.groundTruth(LABEL_A)!.hash === a.targetHash && fx.sim.groundTruth(LABEL_B)!.hash === b.targetHash, 120_000);
  });
  afterAll(async () => {
    await fx.close();
  });

  it('labelPng is the panel at the requested scale, its pixels decoding back to the received planes', async () => {
    const one = await rawPixels(await fx.sim.labelPng(LABEL_A));
    expect([one.width, one.height]).toEqual([296, 128]);
    expect(new Uint8Array(one.data)).toEqual(planesToRgba(planesA, t29));
    expect(rgbaToPlanes(new Uint8Array(one.data), t29)).toEqual(planesA);

    const twice = await rawPixels(await fx.sim.labelPng(LABEL_A, 3));
    expect([twice.width, twice.height]).toEqual([888, 384]);
    // Nearest-neighbour scaling: pixel (x, y) of the panel is the 3×3 block at (3x, 3y).
    const rgba = planesToRgba(planesA, t29);
    for (const [x, y] of [[0, 0], [40, 12], [100, 20], [295, 127]] as const) {
      const src = (y * 296 + x) * 4;
      const dst = ((3 * y + 2) * 888 + 3 * x + 2) * 4;
      expect([...twice.data.subarray(dst, dst + 4)]).toEqual([...rgba.subarray(src, src + 4)]);
    }
  });

  it('a blank panel is white', async () => {
    fx.sim.rebootLabel(LABEL_A); // the panel keeps its picture…
    const kept = await rawPixels(await fx.sim.labelPng(LABEL_A));
    expect(new Uint8Array(kept.data)).toEqual(planesToRgba(planesA, t29));
    const blank = await rawPixels(await panelPng({ type: t29, planes: null }));
    expect(blank.data.every((v) => v === 255)).toBe(true);
  });

  it('storeWallPng lays the panels out in a grid, each tile showing its panel', async () => {
    const wall = await rawPixels(await fx.sim.storeWallPng({ labelIds: [LABEL_A, LABEL_B], columns: 2 }));
    const layout = wallLayout([t29, t213], 2);
    expect([wall.width, wall.height]).toEqual([layout.width, layout.height]);
    expect(layout.width).toBe(WALL_GAP + 2 * (296 + WALL_GAP));
    for (const [i, t, planes] of [[0, t29, planesA], [1, t213, planesB]] as const) {
      const { left, top } = layout.positions[i]!;
      const rgba = planesToRgba(planes, t);
      for (let y = 0; y < t.height; y += 7) {
        const row = wall.data.subarray(((top + y) * wall.width + left) * 4, ((top + y) * wall.width + left + t.width) * 4);
        expect(new Uint8Array(row)).toEqual(rgba.subarray(y * t.width * 4, (y + 1) * t.width * 4));
      }
    }
  });
});
