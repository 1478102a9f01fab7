/**
 * src/core/secret-hash.ts: scrypt hashes for config secrets (RFC 7914), plaintext still accepted, malformed hashes
 * refused at start-up, and the verifier's memory holds only values that matched.
 */
import { describe, expect, it } from 'vitest';
import { SecretVerifier, assertValidStoredSecret, hashSecret, isHashedSecret, verifySecret } from '../../src/core/secret-hash.js';

describe('secret-hash', () => {
  it('hashes in the documented format, salted: two hashes of one secret differ', async () => {
    const a = await hashSecret('correct horse battery', { logN: 12 });
    const b = await hashSecret('correct horse battery', { logN: 12 });
    expect(a).toMatch(/^scrypt\$12\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(isHashedSecret(a)).toBe(true);
    expect(isHashedSecret('correct horse battery')).toBe(false);
  });

  it('verifies the right secret and refuses a wrong one, for hashes and plaintext', async () => {
    const stored = await hashSecret('s3cret-token-value', { logN: 12 });
    expect(await verifySecret(stored, 's3cret-token-value')).toBe(true);
    expect(await verifySecret(stored, 's3cret-token-valuE')).toBe(false);
    expect(await verifySecret(stored, '')).toBe(false);
    expect(await verifySecret('plain-secret-1', 'plain-secret-1')).toBe(true);
    expect(await verifySecret('plain-secret-1', 'plain-secret-12')).toBe(false);
    expect(await verifySecret('plain-secret-1', Buffer.from('plain-secret-1'))).toBe(true);
  });

  it('is a known-answer function: a fixed salt gives a fixed hash (the format is stable across releases)', async () => {
    const salt = Buffer.alloc(16, 7);
    const h = await hashSecret('known-answer', { logN: 10, salt });
    expect(h).toBe(await hashSecret('known-answer', { logN: 10, salt }));
    expect(h.startsWith(`scrypt$10$8$1$${salt.toString('base64')}$`)).toBe(true);
    expect(await verifySecret(h, 'known-answer')).toBe(true);
  });

  it('refuses malformed hashes at start-up and never verifies against them', async () => {
    for (const bad of ['scrypt$', 'scrypt$15$8$1$c2FsdA==', 'scrypt$99$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA==', 'scrypt$x$8$1$a$b']) {
      expect(() => assertValidStoredSecret(bad)).toThrow(/malformed scrypt hash/);
      expect(await verifySecret(bad, 'anything')).toBe(false);
    }
    expect(() => assertValidStoredSecret('plaintext-is-fine')).not.toThrow();
    expect(() => assertValidStoredSecret(`scrypt$12$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`)).not.toThrow();
  });

  it('remembers matches only: a wrong value is checked in full every time', async () => {
    const stored = await hashSecret('remember-me-please', { logN: 12 });
    const v = new SecretVerifier(2);
    expect(await v.verify(stored, 'remember-me-please')).toBe(true);
    expect(await v.verify(stored, 'remember-me-please')).toBe(true);
    expect(await v.verify(stored, 'not-the-secret')).toBe(false);
    expect(await v.verify(stored, 'not-the-secret')).toBe(false);
    // The memory is per stored value: the same presented value against another stored hash is checked afresh.
    const other = await hashSecret('another-secret-value', { logN: 12 });
    expect(await v.verify(other, 'remember-me-please')).toBe(false);
  });
});
