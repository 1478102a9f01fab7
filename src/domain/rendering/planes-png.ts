/**
 * What the panel shows, as PNG (previews, golden images), and back. The PNG holds exact panel colours
 * (panel-colours.ts PANEL_RGB), so decoding it gives the same planes bit for bit.
 */
import type { LabelType } from '#protocol';
import { INDEX_COLOUR, PANEL_RGB } from './panel-colours.js';
import { packPlanes, unpackPlanes } from './planes.js';
import { quantiseRgba } from './quantise.js';
import { renderError } from './rendering-errors.js';
import type sharpFn from './sharp.js';

type Sharp = typeof sharpFn;

/** RGB bytes of the panel image, each pixel repeated `scale` × `scale` (nearest neighbour). */
export function planesToRgb(planes: Uint8Array, t: LabelType, scale = 1): Uint8Array {
  if (!Number.isInteger(scale) || scale < 1 || scale > 16) throw new RangeError(`scale must be a whole number 1–16, got ${scale}`);
  const px = unpackPlanes(planes, t);
  const W = t.width * scale;
  const out = new Uint8Array(W * t.height * scale * 3);
  for (let y = 0; y < t.height; y++) {
    for (let x = 0; x < t.width; x++) {
      const rgb = PANEL_RGB[INDEX_COLOUR[px[y * t.width + x]!]!];
      for (let dy = 0; dy < scale; dy++) {
        let o = ((y * scale + dy) * W + x * scale) * 3;
        for (let dx = 0; dx < scale; dx++, o += 3) {
          out[o] = rgb[0];
          out[o + 1] = rgb[1];
          out[o + 2] = rgb[2];
        }
      }
    }
  }
  return out;
}

/**
 * sharp is loaded on first use: the edge's main thread makes PNGs only for previews and the dashboard, and should not
 * carry the image library's JS for that until asked (D136; the render workers load it anyway).
 */
async function loadSharp(): Promise<Sharp> {
  return (await import('./sharp.js')).default;
}

export async function planesToPng(planes: Uint8Array, labelType: LabelType, opts: { scale?: number } = {}): Promise<Buffer> {
  const sharp = await loadSharp();
  const scale = opts.scale ?? 1;
  const rgb = planesToRgb(planes, labelType, scale);
  return sharp(rgb, { raw: { width: labelType.width * scale, height: labelType.height * scale, channels: 3 } })
    .png({ compressionLevel: 9, palette: false })
    .toBuffer();
}

/** Planes from a PNG of exactly the panel's size (a preview made by planesToPng with scale 1). */
export async function pngToPlanes(png: Buffer, labelType: LabelType): Promise<Uint8Array> {
  const sharp = await loadSharp();
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw renderError('PNG_INVALID', `cannot decode PNG: ${(e as Error).message}`);
  }
  const { width, height, channels } = decoded.info;
  if (width !== labelType.width || height !== labelType.height || channels !== 3) {
    throw renderError('PNG_INVALID', `PNG is ${width}×${height}×${channels}, expected ${labelType.width}×${labelType.height} RGB`);
  }
  return packPlanes(quantiseRgba(new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.length), labelType.palette, 3), labelType);
}
