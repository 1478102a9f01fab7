/** Painting spans straight into planes gives exactly what painting pixels and packing them (§6.1) gives. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelTypeByName, type LabelType } from '#protocol';
import { COLOUR_INDEX, type PanelColour } from '../../src/domain/rendering/panel-colours.js';
import { PlaneCanvas } from '../../src/domain/rendering/plane-canvas.js';
import { packPlanes } from '../../src/domain/rendering/planes.js';

const COLOURS: Record<string, PanelColour[]> = {
  BW: ['white', 'black'],
  BWR: ['white', 'black', 'red'],
  BWY: ['white', 'black', 'yellow'],
  BWRY: ['white', 'black', 'red', 'yellow'],
};

describe('PlaneCanvas', () => {
  for (const name of ['epd-213-bw', 'epd-29-bwr', 'epd-29-bwy', 'epd-42-bwry']) {
    const t = labelTypeByName(name) as LabelType;
    it(`matches the per-pixel reference on ${name} (${t.width} px rows, palette ${t.palette})`, () => {
      const colours = COLOURS[t.palette]!;
      fc.assert(
        fc.property(
          fc.array(fc.record({ y: fc.integer({ min: -2, max: t.height + 1 }), x0: fc.integer({ min: -5, max: t.width + 5 }), len: fc.integer({ min: 0, max: 40 }), c: fc.integer({ min: 0, max: colours.length - 1 }) }), { maxLength: 60 }),
          (spans) => {
            const canvas = new PlaneCanvas(t);
            const px = new Uint8Array(t.width * t.height);
            for (const s of spans) {
              const colour = colours[s.c]!;
              canvas.span(s.y, s.x0, s.x0 + s.len, colour);
              if (s.y < 0 || s.y >= t.height) continue;
              for (let x = Math.max(0, s.x0); x < Math.min(t.width, s.x0 + s.len); x++) px[s.y * t.width + x] = COLOUR_INDEX[colour];
            }
            expect(Buffer.from(canvas.planes).equals(Buffer.from(packPlanes(px, t)))).toBe(true);
          },
        ),
        { numRuns: 150, seed: 7 },
      );
    });
  }

  it('refuses a colour the palette lacks', () => {
    expect(() => new PlaneCanvas(labelTypeByName('epd-29-bwy')!).span(0, 0, 4, 'red')).toThrow(/PLANES_INVALID/);
  });
});
