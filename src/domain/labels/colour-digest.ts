/**
 * D107 A 32-bit digest of a picture's colour planes (every plane after black, firmware-protocol §6.3.1 plane order).
 * Two pictures of a label with equal digests differ in black only, so the label shows a delta between them with a
 * partial refresh where its type has one (§6.3.2 partialRefreshApplies: inside the changed region no plane other than
 * black changes; the region holds every change). Used to guess a transfer's panel time before it is encoded, for
 * ordering only: a collision costs an ordering, never a picture.
 */
import { planeBytes, type LabelType } from '#protocol';

/** FNV-1a over the colour planes; 0 for a black/white type (it has none). */
export function colourDigest(planes: Uint8Array, type: Pick<LabelType, 'width' | 'height'>): number {
  let h = 0x811c9dc5;
  for (let i = planeBytes(type); i < planes.length; i++) {
    h ^= planes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  if (planes.length <= planeBytes(type)) return 0;
  // The label record's integer columns keep -2^31 for null.
  return (h | 0) === -0x80000000 ? 0x7fffffff : h | 0;
}
