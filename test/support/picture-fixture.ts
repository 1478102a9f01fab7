/**
 * A label-like picture and its content for the image store's tests: white planes with a few black bars (compresses
 * to well under 1 kB), different per seed.
 */
import type { LabelContent } from '#contracts';

export const pictureContent: LabelContent = { gtin: '4006381333931', name: 'Vollmilch 3,8 %', priceCents: 119, currency: 'EUR' };

export function picturePlanes(seed: number): Uint8Array {
  const p = new Uint8Array(9472);
  for (let i = 0; i < 40; i++) p[(seed * 37 + i * 211) % p.length] = 0xff;
  return p;
}
