/**
 * fontconfig inside sharp sees only the shipped fonts: an SVG <text> asking for a font the host has (or any other
 * family) renders exactly like DejaVu Sans, and the shipped bold face is found.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FONTCONFIG_FILE } from '../../src/domain/rendering/font-env.js';
import { FONTS_CONF } from '../../src/domain/rendering/package-root.js';
import sharp from '../../src/domain/rendering/sharp.js';

async function textRaster(family: string, weight = 'normal'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="40"><rect width="240" height="40" fill="#fff"/><text x="4" y="30" font-family="${family}" font-weight="${weight}" font-size="24">Qualität 1,99 €</text></svg>`;
  return sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
}

describe('font environment', () => {
  it('points fontconfig at a wrapper of the shipped fonts.conf with a private cache', () => {
    expect(process.env.FONTCONFIG_FILE).toBe(FONTCONFIG_FILE);
    const wrapper = readFileSync(FONTCONFIG_FILE, 'utf8');
    expect(wrapper).toContain(`<include ignore_missing="no">${FONTS_CONF}</include>`);
    expect(wrapper).toMatch(/<cachedir>[^<]*esl-edge-fontconfig[^<]*<\/cachedir>/);
    expect(readFileSync(FONTS_CONF, 'utf8')).toContain('<dir prefix="relative">fonts</dir>');
  });

  it('renders any family as the shipped DejaVu Sans, and finds the bold face', async () => {
    const dejavu = await textRaster('DejaVu Sans');
    expect(dejavu.some((v) => v < 128)).toBe(true);
    for (const other of ['URW Bookman', 'Noto Sans Mono', 'serif', 'Arial']) expect((await textRaster(other)).equals(dejavu), other).toBe(true);
    expect((await textRaster('DejaVu Sans', 'bold')).equals(dejavu)).toBe(false);
  });
});
