/**
 * Same input → same bytes: twice in a row, from a cold and from a warm glyph cache, in any order, concurrently, and in
 * a separate process (another fontconfig/sharp start-up).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LABEL_TYPES } from '../../firmware-protocol/src/label-types.js';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { PROMOTION, STANDARD } from './sample-content.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

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

  it('renders the same bytes in a fresh process', async () => {
    const r = await LabelRenderer.create();
    const here = (await r.render(PROMOTION, LABEL_TYPES[2]!)).hash;
    // A separate Node process (plain JS over the package sources via vitest is not available there): use vitest's
    // own runner would be heavy, so the child imports the compiled-free path through Node's type stripping.
    const script = `
      const { LabelRenderer } = await import(${JSON.stringify(path.join(ROOT, 'src/domain/rendering/label-renderer.ts'))});
      const { LABEL_TYPES } = await import(${JSON.stringify(path.join(ROOT, 'firmware-protocol/src/label-types.ts'))});
      const r = await LabelRenderer.create();
      const out = await r.render(${JSON.stringify(PROMOTION)}, LABEL_TYPES[2]);
      process.stdout.write(out.hash);`;
    const child = execFileSync(process.execPath, ['--experimental-strip-types', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT });
    expect(child).toBe(here);
  });
});
