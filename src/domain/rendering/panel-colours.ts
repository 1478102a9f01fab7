/**
 * Panel colours and colour roles.
 *
 * Templates never name a panel colour; they use roles, resolved per palette (PALETTE_PLANES, §6.1):
 * - `ink`: black on every panel.
 * - `accent` as a fill (badge, highlight bar): red where the panel has red, else yellow, else black (BW).
 * - `accent` as text colour: red where the panel has red. Yellow text on white cannot be read, so on a BWY panel
 *   accent text is black on a yellow plate; on BW it is black (a template can ask for inverse, white on black).
 * - text on an accent fill: white on red or black, black on yellow.
 */
import { PALETTE_PLANES, type Palette } from '#protocol';

export type PanelColour = 'white' | 'black' | 'red' | 'yellow';

/** Index of each colour in the renderer's pixel buffer. */
export const COLOUR_INDEX: Readonly<Record<PanelColour, number>> = { white: 0, black: 1, red: 2, yellow: 3 };
export const INDEX_COLOUR: readonly PanelColour[] = ['white', 'black', 'red', 'yellow'];

/**
 * RGB of each panel colour in previews (PNG). Same values as firmware-protocol's plane-image.ts so previews from
 * both look alike; decoding snaps to the nearest of these, so any distinct values would round-trip.
 */
export const PANEL_RGB: Readonly<Record<PanelColour, readonly [number, number, number]>> = {
  white: [255, 255, 255],
  black: [0, 0, 0],
  red: [204, 0, 0],
  yellow: [255, 204, 0],
};

export type ColourRole = 'ink' | 'accent';

export function hasColour(palette: Palette, c: 'black' | 'red' | 'yellow'): boolean {
  return PALETTE_PLANES[palette].includes(c);
}

export function resolveFill(role: ColourRole, palette: Palette): PanelColour {
  if (role === 'ink') return 'black';
  if (hasColour(palette, 'red')) return 'red';
  if (hasColour(palette, 'yellow')) return 'yellow';
  return 'black';
}

/** Text drawn on a fill of colour `fill`. */
export function textOn(fill: PanelColour): PanelColour {
  return fill === 'yellow' || fill === 'white' ? 'black' : 'white';
}

export interface TextColour {
  text: PanelColour;
  /** A plate drawn behind the text (yellow highlight on BWY, black for inverse on BW). */
  plate?: PanelColour;
}

export function resolveText(role: ColourRole, palette: Palette, inverseOnBw = false): TextColour {
  if (role === 'ink') return { text: 'black' };
  if (hasColour(palette, 'red')) return { text: 'red' };
  if (hasColour(palette, 'yellow')) return { text: 'black', plate: 'yellow' };
  return inverseOnBw ? { text: 'white', plate: 'black' } : { text: 'black' };
}
