/**
 * Version negotiation (README.md §8): the AP announces the range it speaks in AP_HELLO (sent in a version-1
 * frame, so every edge can read it); the edge picks the highest version both sides support.
 */
import { SUPPORTED_VERSIONS } from './messages.js';

export interface VersionRange {
  min: number;
  max: number;
}

/** The highest version in both ranges, or null when they do not overlap (the edge then NACKs with UNSUPPORTED_VERSION). */
export function negotiateVersion(apMin: number, apMax: number, edge: VersionRange = SUPPORTED_VERSIONS): number | null {
  if (![apMin, apMax, edge.min, edge.max].every(Number.isInteger)) return null;
  const hi = Math.min(apMax, edge.max);
  const lo = Math.max(apMin, edge.min);
  return hi >= lo ? hi : null;
}
