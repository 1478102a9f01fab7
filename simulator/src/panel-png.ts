/**
 * Pictures of what simulated panels show: one label, or a wall of labels. Pixels come from the planes the label
 * received and decoded (planesToRgba of the codec), so a PNG shows what a shopper would see, not what the edge
 * meant to send.
 */
import { imageBytes, planesToRgba, type LabelType } from '#protocol';
// sharp itself, not the edge's sharp.ts: the simulator draws no text, and fontconfig is read at the first text
// render, not when sharp loads, so the edge's font setting holds in a process that runs both (checked, D77).
import sharp from 'sharp';

export interface PanelPicture {
  type: LabelType;
  /** null = blank panel (all white). */
  planes: Uint8Array | null;
}

function rgbaOf(p: PanelPicture): Buffer {
  const planes = p.planes ?? new Uint8Array(imageBytes(p.type));
  const rgba = planesToRgba(planes, p.type);
  return Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
}

/** PNG of one panel, `scale` times its pixel size (nearest neighbour, so pixels stay crisp). */
export async function panelPng(p: PanelPicture, scale = 1): Promise<Buffer> {
  if (!Number.isInteger(scale) || scale < 1 || scale > 16) throw new RangeError(`scale must be an integer 1..16, got ${scale}`);
  const { width, height } = p.type;
  let img = sharp(rgbaOf(p), { raw: { width, height, channels: 4 } });
  if (scale > 1) img = img.resize(width * scale, height * scale, { kernel: 'nearest' });
  return img.png().toBuffer();
}

/** Gap between panels and around the wall, in pixels. */
export const WALL_GAP = 8;
const WALL_BACKGROUND = { r: 96, g: 96, b: 96, alpha: 1 };

export interface WallLayout {
  width: number;
  height: number;
  cellWidth: number;
  cellHeight: number;
  /** Top-left corner of each panel, in input order. */
  positions: { left: number; top: number }[];
}

/** Grid of equal cells, each as large as the largest panel, panels top-left aligned in their cells. */
export function wallLayout(sizes: { width: number; height: number }[], columns: number): WallLayout {
  const cols = Math.max(1, Math.min(columns, sizes.length || 1));
  const rows = Math.max(1, Math.ceil(sizes.length / cols));
  const cellWidth = Math.max(1, ...sizes.map((s) => s.width));
  const cellHeight = Math.max(1, ...sizes.map((s) => s.height));
  const positions = sizes.map((_, i) => ({
    left: WALL_GAP + (i % cols) * (cellWidth + WALL_GAP),
    top: WALL_GAP + Math.floor(i / cols) * (cellHeight + WALL_GAP),
  }));
  return { width: WALL_GAP + cols * (cellWidth + WALL_GAP), height: WALL_GAP + rows * (cellHeight + WALL_GAP), cellWidth, cellHeight, positions };
}

/** PNG mosaic of many panels on a grey wall. */
export async function wallPng(pictures: PanelPicture[], columns: number): Promise<Buffer> {
  const layout = wallLayout(
    pictures.map((p) => p.type),
    columns,
  );
  const composites = pictures.map((p, i) => ({
    input: rgbaOf(p),
    raw: { width: p.type.width, height: p.type.height, channels: 4 as const },
    left: layout.positions[i]!.left,
    top: layout.positions[i]!.top,
  }));
  return sharp({ create: { width: layout.width, height: layout.height, channels: 4, background: WALL_BACKGROUND } })
    .composite(composites)
    .png()
    .toBuffer();
}
