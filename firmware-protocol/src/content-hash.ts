/**
 * §3.4 Content hash: the first 8 bytes of SHA-256 over the concatenated colour planes (§6.1), as 16 lower-case
 * hex digits. The label computes it over what its panel shows; the edge over what it rendered. Both must agree
 * bit for bit, which is why it is defined over planes and not over any higher-level description.
 */
import { createHash } from 'node:crypto';
import type { ContentHash } from './messages.js';

export function contentHash(planes: Uint8Array): ContentHash {
  return createHash('sha256').update(planes).digest('hex').slice(0, 16);
}
