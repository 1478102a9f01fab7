/**
 * Hashed secrets for the config file (MQTT passwords, HTTP tokens): `scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>`.
 *
 * scrypt is in Node's crypto (no native addon to build on a gateway) and is memory-hard, so a stolen config file
 * does not give the store's credentials away cheaply (docs/decisions.md). A plaintext value is still accepted, so
 * an existing config keeps working; the daemon warns about it at start-up (`isHashedSecret`).
 *
 * Verifying costs ~50 ms of CPU by design. Credentials are presented again and again (every HTTP request carries
 * its token, APs reconnect), so a `SecretVerifier` remembers the SHA-256 of presented values that matched, and
 * only those: a wrong guess is always paid in full, which is what slows a guesser down.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const PREFIX = 'scrypt$';
/** N = 2^15, r = 8, p = 1: ~32 MiB and ~50–100 ms on a gateway CPU (RFC 7914 §2 parameters). */
const DEFAULT_LOG_N = 15;
const DEFAULT_R = 8;
const DEFAULT_P = 1;
const KEY_LEN = 32;

export function isHashedSecret(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

function scryptAsync(secret: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function options(logN: number, r: number, p: number): ScryptOptions {
  const N = 2 ** logN;
  // maxmem must cover 128 * N * r bytes, with headroom (Node refuses otherwise).
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

/** Hashes a secret for the config file (`esl-edge secret hash`). */
export async function hashSecret(secret: string, opts: { logN?: number; salt?: Buffer } = {}): Promise<string> {
  const logN = opts.logN ?? DEFAULT_LOG_N;
  const salt = opts.salt ?? randomBytes(16);
  const key = await scryptAsync(secret, salt, KEY_LEN, options(logN, DEFAULT_R, DEFAULT_P));
  return `${PREFIX}${logN}$${DEFAULT_R}$${DEFAULT_P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface ParsedHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const parts = stored.slice(PREFIX.length).split('$');
  if (parts.length !== 5) return null;
  const [logN, r, p] = parts.slice(0, 3).map((x) => Number(x));
  if (!Number.isInteger(logN) || !Number.isInteger(r) || !Number.isInteger(p)) return null;
  if (logN! < 10 || logN! > 20 || r! < 1 || r! > 32 || p! < 1 || p! > 16) return null;
  const salt = Buffer.from(parts[3]!, 'base64');
  const key = Buffer.from(parts[4]!, 'base64');
  if (salt.length < 8 || key.length < 16) return null;
  return { logN: logN!, r: r!, p: p!, salt, key };
}

/** Throws when a configured value looks like a hash but is malformed (a config error, found at start-up). */
export function assertValidStoredSecret(stored: string): void {
  if (isHashedSecret(stored) && !parseHash(stored)) throw new Error('malformed scrypt hash (expected scrypt$logN$r$p$salt$hash)');
}

function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  // Compare digests so the lengths match and the comparison time says nothing about the secret's length.
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** Checks a presented secret against a stored one (hash or plaintext), in constant time for a given stored value. */
export async function verifySecret(stored: string, presented: string | Buffer): Promise<boolean> {
  const given = typeof presented === 'string' ? Buffer.from(presented, 'utf8') : presented;
  if (!isHashedSecret(stored)) return constantTimeEqual(Buffer.from(stored, 'utf8'), given);
  const h = parseHash(stored);
  if (!h) return false;
  const key = await scryptAsync(given.toString('utf8'), h.salt, h.key.length, options(h.logN, h.r, h.p));
  return timingSafeEqual(key, h.key);
}

/** verifySecret with a memory of presented values that matched (see the header comment). */
export class SecretVerifier {
  private readonly matched = new Map<string, string>();
  constructor(private readonly maxEntries = 1024) {}

  async verify(stored: string, presented: string | Buffer): Promise<boolean> {
    const given = typeof presented === 'string' ? Buffer.from(presented, 'utf8') : presented;
    const digest = createHash('sha256').update(stored).update('\0').update(given).digest('base64');
    if (this.matched.has(digest)) return true;
    const ok = await verifySecret(stored, given);
    if (ok) {
      if (this.matched.size >= this.maxEntries) this.matched.delete(this.matched.keys().next().value!);
      this.matched.set(digest, stored);
    }
    return ok;
  }
}
