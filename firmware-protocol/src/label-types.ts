/**
 * The label-type registry (firmware-protocol/README.md §10): one table shared by the renderer, the codec
 * and the simulator, so that a label type id on the wire means the same panel everywhere.
 */
import { z } from 'zod';

/** Palette of a panel. Plane order on the wire (§6.1): black first, then red, then yellow. */
export const PaletteSchema = z.enum(['BW', 'BWR', 'BWY', 'BWRY']);
export type Palette = z.infer<typeof PaletteSchema>;

/** The colour planes a palette has, in wire order. A pixel set in no plane is white. */
export const PALETTE_PLANES: Record<Palette, readonly ('black' | 'red' | 'yellow')[]> = {
  BW: ['black'],
  BWR: ['black', 'red'],
  BWY: ['black', 'yellow'],
  BWRY: ['black', 'red', 'yellow'],
};

export const LabelTypeSchema = z.object({
  /** u8 id on the wire. */
  id: z.number().int().min(1).max(255),
  /** Stable human name, used by templates and config. */
  name: z.string().regex(/^[a-z0-9-]+$/),
  diagonalInch: z.number().positive(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  palette: PaletteSchema,
  /** The panel can refresh a black/white region without a full refresh (§6.3.2). */
  partialRefresh: z.boolean(),
  /** Full refresh time of the panel in ms (reference store model). */
  fullRefreshMs: z.number().int().positive(),
  partialRefreshMs: z.number().int().positive(),
  led: z.boolean(),
  nfc: z.boolean(),
  /** Stored pages the label can switch between (§4 PAGE_SWITCH). */
  pages: z.number().int().min(1).max(8),
});
export type LabelType = z.infer<typeof LabelTypeSchema>;

const types: LabelType[] = [
  { id: 1, name: 'epd-154-bw', diagonalInch: 1.54, width: 152, height: 152, palette: 'BW', partialRefresh: true, fullRefreshMs: 2000, partialRefreshMs: 1000, led: false, nfc: false, pages: 1 },
  { id: 2, name: 'epd-213-bwr', diagonalInch: 2.13, width: 250, height: 122, palette: 'BWR', partialRefresh: true, fullRefreshMs: 15000, partialRefreshMs: 1000, led: true, nfc: false, pages: 2 },
  { id: 3, name: 'epd-29-bwr', diagonalInch: 2.9, width: 296, height: 128, palette: 'BWR', partialRefresh: true, fullRefreshMs: 15000, partialRefreshMs: 1000, led: true, nfc: true, pages: 4 },
  { id: 4, name: 'epd-42-bwry', diagonalInch: 4.2, width: 400, height: 300, palette: 'BWRY', partialRefresh: false, fullRefreshMs: 25000, partialRefreshMs: 25000, led: true, nfc: true, pages: 4 },
  { id: 5, name: 'epd-75-bwr', diagonalInch: 7.5, width: 800, height: 480, palette: 'BWR', partialRefresh: false, fullRefreshMs: 30000, partialRefreshMs: 30000, led: true, nfc: true, pages: 2 },
  { id: 6, name: 'epd-29-bwy', diagonalInch: 2.9, width: 296, height: 128, palette: 'BWY', partialRefresh: true, fullRefreshMs: 15000, partialRefreshMs: 1000, led: true, nfc: false, pages: 2 },
  { id: 7, name: 'epd-213-bw', diagonalInch: 2.13, width: 250, height: 122, palette: 'BW', partialRefresh: true, fullRefreshMs: 2000, partialRefreshMs: 1000, led: false, nfc: false, pages: 1 },
];

export const LABEL_TYPES: readonly LabelType[] = types.map((t) => LabelTypeSchema.parse(t));
const byId = new Map(LABEL_TYPES.map((t) => [t.id, t]));
const byName = new Map(LABEL_TYPES.map((t) => [t.name, t]));

export function labelTypeById(id: number): LabelType | undefined {
  return byId.get(id);
}
export function labelTypeByName(name: string): LabelType | undefined {
  return byName.get(name);
}

/** Bytes of one 1-bit plane: rows are padded to whole bytes, MSB = leftmost pixel (§6.1). */
export function planeBytes(t: Pick<LabelType, 'width' | 'height'>): number {
  return Math.ceil(t.width / 8) * t.height;
}
/** Bytes of all planes of an uncompressed image. */
export function imageBytes(t: LabelType): number {
  return planeBytes(t) * PALETTE_PLANES[t.palette].length;
}
