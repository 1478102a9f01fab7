/** Pixel buffer ⇄ planes (§6.1) and planes ⇄ PNG previews. */
import { describe, expect, it } from 'vitest';
import { imageBytes, labelTypeByName, type LabelType } from '#protocol';
import { planesToPng, pngToPlanes } from '../../src/domain/rendering/planes-png.js';
import { packPlanes, unpackPlanes } from '../../src/domain/rendering/planes.js';
import sharp from '../../src/domain/rendering/sharp.js';

const tiny = (palette: LabelType['palette'], width = 10, height = 2): LabelType => ({ ...labelTypeByName('epd-29-bwr')!, width, height, palette });

describe('planes', () => {
  it('packs rows padded to whole bytes, MSB = leftmost pixel, planes in black-red-yellow order', () => {
    const t = tiny('BWRY');
    const px = new Uint8Array(20);
    px[0] = 1; // black at (0,0)
    px[9] = 2; // red at (9,0): second byte of row 0, bit 6
    px[10 + 1] = 3; // yellow at (1,1)
    const planes = packPlanes(px, t);
    expect(planes.length).toBe(3 * 2 * 2);
    expect([...planes]).toEqual([0x80, 0, 0, 0, /* red */ 0, 0x40, 0, 0, /* yellow */ 0, 0, 0x40, 0]);
    expect([...unpackPlanes(planes, t)]).toEqual([...px]);
  });

  it('refuses a colour the palette lacks and buffers of the wrong size', () => {
    expect(() => packPlanes(new Uint8Array(20).fill(2), tiny('BWY'))).toThrow(/PLANES_INVALID/);
    expect(() => packPlanes(new Uint8Array(19), tiny('BW'))).toThrow(/PLANES_INVALID/);
    expect(() => unpackPlanes(new Uint8Array(3), tiny('BW'))).toThrow(/PLANES_INVALID/);
  });

  it('shows yellow over red over black where planes overlap', () => {
    const t = tiny('BWRY', 8, 1);
    expect([...unpackPlanes(Uint8Array.from([0xff, 0xf0, 0xc0]), t)]).toEqual([3, 3, 2, 2, 1, 1, 1, 1]);
  });
});

describe('planesToPng / pngToPlanes', () => {
  it('round-trips every palette exactly', async () => {
    for (const name of ['epd-154-bw', 'epd-29-bwr', 'epd-29-bwy', 'epd-42-bwry']) {
      const t = labelTypeByName(name)!;
      const px = new Uint8Array(t.width * t.height);
      const colours = name.endsWith('bwry') ? 4 : name.endsWith('bw') ? 2 : 3;
      for (let i = 0; i < px.length; i++) px[i] = (i * 7 + (i >> 5)) % colours;
      if (name.endsWith('bwy')) for (let i = 0; i < px.length; i++) if (px[i] === 2) px[i] = 3;
      const planes = packPlanes(px, t);
      const png = await planesToPng(planes, t);
      expect(Buffer.from(await pngToPlanes(png, t)).equals(Buffer.from(planes)), name).toBe(true);
    }
  });

  it('scales with nearest neighbour', async () => {
    const t = tiny('BWR', 3, 1);
    const planes = packPlanes(Uint8Array.from([0, 1, 2]), t);
    const png = await planesToPng(planes, t, { scale: 2 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([6, 2]);
    const row = [...data.subarray(0, 18)];
    expect(row).toEqual([255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 204, 0, 0, 204, 0, 0]);
    expect(imageBytes(t)).toBe(planes.length);
  });

  it('refuses a PNG of another size', async () => {
    const t = labelTypeByName('epd-29-bwr')!;
    const png = await planesToPng(new Uint8Array(imageBytes(t)), t, { scale: 2 });
    await expect(pngToPlanes(png, t)).rejects.toThrow(/PNG_INVALID/);
    await expect(pngToPlanes(Buffer.from('not a png'), t)).rejects.toThrow(/PNG_INVALID/);
  });
});
