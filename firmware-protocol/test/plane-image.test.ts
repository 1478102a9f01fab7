import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LABEL_TYPES, PANEL_RGB, ProtocolError, imageBytes, labelTypeByName, planesToRgba, rgbaToPlanes, type LabelType } from '../src/index.js';
import { draw, expectSameBytes, rectArb, setPixel } from './planes-fixtures.js';

const BWRY = labelTypeByName('epd-42-bwry')!;
const BWR213 = labelTypeByName('epd-213-bwr')!;
const BW = labelTypeByName('epd-154-bw')!;

const pixel = (rgba: Uint8Array, t: LabelType, x: number, y: number) => [...rgba.subarray((y * t.width + x) * 4, (y * t.width + x) * 4 + 4)];

describe('planes ⇄ RGBA (README.md §6.1)', () => {
  it('keeps grey anti-aliasing of black text out of the red plane', () => {
    const t: LabelType = { ...BWR213, width: 8, height: 1 };
    const greys = [40, 80, 100, 115, 140, 170, 200, 230]; // L* = 50 lies at grey ≈ 119
    const planes = rgbaToPlanes(Uint8Array.from(greys.flatMap((g) => [g, g, g, 255])), t);
    expect(planes[1]).toBe(0); // red plane empty
    expect(planes[0]).toBe(0b11110000); // dark greys black, light greys white
  });

  it('maps plane bits to the panel colours, white where no plane is set', () => {
    const planes = new Uint8Array(imageBytes(BWRY));
    setPixel(planes, BWRY, 0, 0, 0);
    setPixel(planes, BWRY, 1, 1, 0);
    setPixel(planes, BWRY, 2, 2, 0);
    const rgba = planesToRgba(planes, BWRY);
    expect(rgba.length).toBe(400 * 300 * 4);
    expect(pixel(rgba, BWRY, 0, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(rgba, BWRY, 1, 0)).toEqual([204, 0, 0, 255]);
    expect(pixel(rgba, BWRY, 2, 0)).toEqual([255, 204, 0, 255]);
    expect(pixel(rgba, BWRY, 3, 0)).toEqual([255, 255, 255, 255]);
  });

  it('shows yellow over red over black where several planes are set', () => {
    const planes = new Uint8Array(imageBytes(BWRY));
    for (const p of [0, 1, 2]) setPixel(planes, BWRY, p, 5, 5);
    for (const p of [0, 1]) setPixel(planes, BWRY, p, 6, 5);
    const rgba = planesToRgba(planes, BWRY);
    expect(pixel(rgba, BWRY, 5, 5)).toEqual([...PANEL_RGB.yellow, 255]);
    expect(pixel(rgba, BWRY, 6, 5)).toEqual([...PANEL_RGB.red, 255]);
  });

  it('round-trips what the planes show, for every label type', () => {
    for (const t of LABEL_TYPES.filter((l) => l.width * l.height <= 400 * 300)) {
      fc.assert(
        fc.property(fc.array(rectArb(t, 60), { maxLength: 6 }), (rects) => {
          // Overlapping rectangles set several planes; the shown colour is what must survive the round trip.
          const shown = planesToRgba(draw(t, rects), t);
          expectSameBytes(planesToRgba(rgbaToPlanes(shown, t), t), shown);
        }),
        { numRuns: 5 },
      );
    }
  });

  it('snaps to the nearest palette colour and composites alpha over white', () => {
    const rgba = Uint8Array.from([200, 10, 10, 255, 240, 200, 20, 255, 0, 0, 0, 0, 0, 0, 0, 100, 100, 100, 100, 255]);
    const t: LabelType = { ...BWRY, width: 5, height: 1 };
    const planes = rgbaToPlanes(rgba, t);
    // plane bytes: black, red, yellow (1 byte each): pixel 0 red, 1 yellow, 2 white (transparent), 3 white (faint black), 4 black (dark grey).
    expect([...planes]).toEqual([0b00001000, 0b10000000, 0b01000000]);
    const bw: LabelType = { ...BW, width: 5, height: 1 };
    expect([...rgbaToPlanes(rgba, bw)]).toEqual([0b10001000]); // red → black, yellow → white on a BW panel
  });

  it('keeps padding bits zero for widths that are not a multiple of 8', () => {
    const rgba = new Uint8Array(BWR213.width * BWR213.height * 4); // opaque black everywhere
    for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
    const planes = rgbaToPlanes(rgba, BWR213);
    expect(planes[30]).toBe(0xff);
    expect(planes[31]).toBe(0b11000000); // 250 = 31·8 + 2: two pixels, six padding bits
  });

  it('rejects inputs of the wrong size with IMAGE_SIZE_MISMATCH', () => {
    expect(() => planesToRgba(new Uint8Array(3), BW)).toThrow(ProtocolError);
    expect(() => rgbaToPlanes(new Uint8Array(3), BW)).toThrow(/IMAGE_SIZE_MISMATCH/);
  });
});
