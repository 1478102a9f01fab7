/**
 * Same input → same bytes: twice in a row, from a cold and from a warm glyph cache, in any order, concurrently.
 * Across processes and machines, golden.test.ts holds it: its hashes were rendered by another process.
 */
import { describe, expect, it } from 'vitest';
import { LABEL_TYPES } from '#protocol';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

const OTHERS = [
  { ...STANDARD, name: 'Original Thüringer Rostbratwurst grob, 10 Stück à 100 g', brand: 'Wolf', priceCents: 479 },
  { ...PROMOTION, name: 'Haferdrink Barista 1 l', brand: 'Oatly', priceCents: 199, unitPrice: { cents: 199, per: '1 l' as const } },
];

describe('deterministic rendering', () => {
  it('renders the same bytes twice in a row', async () => {
    const r = await LabelRenderer.create();
    for (const t of LABEL_TYPES) {
      const a = await r.render(PROMOTION, t);
      const b = await r.render(PROMOTION, t);
      expect(Buffer.from(a.planes).equals(Buffer.from(b.planes))).toBe(true);
      expect(a.hash).toBe(b.hash);
    }
  });

  it('does not depend on what the glyph cache held before, nor on concurrency', async () => {
    const warm = await LabelRenderer.create();
    for (const c of OTHERS) for (const t of LABEL_TYPES) await warm.render(c, t);
    const cold = await LabelRenderer.create();
    const coldHashes = await Promise.all(LABEL_TYPES.map((t) => cold.render(STANDARD, t).then((x) => x.hash)));
    const warmHashes: string[] = [];
    for (const t of LABEL_TYPES) warmHashes.push((await warm.render(STANDARD, t)).hash);
    expect(coldHashes).toEqual(warmHashes);
  });
});
