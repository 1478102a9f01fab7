import { describe, expect, it } from 'vitest';
import { SUPPORTED_VERSIONS, negotiateVersion } from '../src/index.js';

describe('negotiateVersion (README.md §8)', () => {
  it('picks the highest common version', () => {
    expect(negotiateVersion(1, 1)).toBe(1);
    expect(negotiateVersion(1, 5, { min: 1, max: 3 })).toBe(3);
    expect(negotiateVersion(2, 5, { min: 1, max: 3 })).toBe(3);
    expect(negotiateVersion(1, 2, { min: 2, max: 4 })).toBe(2);
  });
  it('returns null when the ranges do not overlap or are malformed', () => {
    expect(negotiateVersion(2, 3, SUPPORTED_VERSIONS)).toBeNull();
    expect(negotiateVersion(4, 5, { min: 1, max: 3 })).toBeNull();
    expect(negotiateVersion(3, 1, { min: 1, max: 3 })).toBeNull();
    expect(negotiateVersion(1.5, 2, { min: 1, max: 3 })).toBeNull();
  });
});
