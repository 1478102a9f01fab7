/**
 * Bearer-token authentication of the HTTP API, with hashed tokens and a brake on guessing.
 *
 * Tokens in the config may be scrypt hashes (`esl-edge secret hash`, src/core/secret-hash.ts) or plaintext (accepted,
 * with a warning at start-up). A token that matched once is remembered by its SHA-256, so a client presenting the
 * same token on every request pays one hash lookup, not an scrypt run.
 *
 * Failures slow down per source address and per presented token (FailureLimiter, docs/decisions.md D27): after a
 * few free failures the key is refused with 429 and Retry-After, before any hashing, for a delay that doubles up to
 * a cap. A token already known to be good is accepted before the limiter is asked, so a flood of wrong tokens from
 * the same address as a legitimate client (a shared proxy) does not lock that client out. Hash checks run one at a
 * time through a VerifyGate, requests without recent failures first, one per source address at a time, so a flood
 * can neither saturate the CPU nor queue up in front of a correct client's first request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { FailureLimiter, type FailureLimiterOptions } from '../core/failure-limiter.js';
import { SecretVerifier, isHashedSecret } from '../core/secret-hash.js';
import { VerifyGate } from './verify-gate.js';

export interface HttpToken {
  name: string;
  /** scrypt$… hash or plaintext. */
  token: string;
}

export type AuthOutcome = { ok: true; name: string } | { ok: false; status: 401 } | { ok: false; status: 429; retryAfterS: number };

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64');
/** Constant time for a given stored value: both sides are hashed to equal length first. */
const safeEqual = (stored: string, presented: string) =>
  timingSafeEqual(createHash('sha256').update(stored).digest(), createHash('sha256').update(presented).digest()) && stored === presented;

export class HttpTokenAuth {
  private readonly verifier = new SecretVerifier();
  /** SHA-256 of presented tokens that matched → token name (bounded; cleared at restart). */
  private readonly known = new Map<string, string>();
  private readonly bySource: FailureLimiter;
  private readonly byToken: FailureLimiter;
  private readonly failures: Counter<'reason'>;
  private readonly plain: HttpToken[];
  private readonly hashed: HttpToken[];
  private readonly gate = new VerifyGate();
  private readonly pending = new Map<string, Promise<string | undefined | null>>();
  private readonly sourcesInFlight = new Set<string>();

  constructor(
    private readonly deps: { tokens: readonly HttpToken[]; clock: Clock; log: Logger; registry: Registry; limits: FailureLimiterOptions },
  ) {
    this.plain = deps.tokens.filter((t) => !isHashedSecret(t.token));
    this.hashed = deps.tokens.filter((t) => isHashedSecret(t.token));
    this.bySource = new FailureLimiter(deps.clock, deps.limits);
    this.byToken = new FailureLimiter(deps.clock, deps.limits);
    this.failures = new Counter({
      name: 'esl_edge_http_auth_failures_total',
      help: 'HTTP requests refused for authentication: missing or wrong token (401), or refused unseen while rate-limited (429)',
      labelNames: ['reason'],
      registers: [deps.registry],
    });
    for (const reason of ['missing', 'wrong', 'limited']) this.failures.inc({ reason }, 0);
  }

  /** Logs one warning naming the plaintext tokens (names only, never a value): the operator should hash them. */
  warnPlaintext(): void {
    const plain = this.deps.tokens.filter((t) => !isHashedSecret(t.token)).map((t) => t.name);
    if (plain.length > 0) {
      this.deps.log.warn({ evt: 'config.plaintext_secret', where: 'http.tokens', names: plain }, 'HTTP tokens stored in plaintext; replace them with `esl-edge secret hash` output (docs/install.md)');
    }
  }

  async authenticate(authorization: string | undefined, source: string): Promise<AuthOutcome> {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    const presented = m ? m[1]!.trim() : null;
    const tokenKey = presented ? sha256(presented) : null;
    if (tokenKey) {
      const name = this.known.get(tokenKey);
      if (name) return { ok: true, name };
    }
    const sourceKey = `ip:${source}`;
    const wait = Math.max(this.bySource.blockedForMs(sourceKey), tokenKey ? this.byToken.blockedForMs(tokenKey) : 0);
    if (wait > 0) return this.limited(Math.ceil(wait / 1000));
    let name: string | undefined;
    if (presented && tokenKey) {
      // Plaintext tokens cost a constant-time compare: checked at once. Hashed ones go through the gate.
      name = this.plain.find((t) => safeEqual(t.token, presented))?.name;
      if (!name && this.hashed.length > 0) {
        // Parallel requests of one client with the same new token share one check.
        let pending = this.pending.get(tokenKey);
        if (!pending) {
          // One check in flight per source: a flood from one address cannot occupy the gate.
          if (this.sourcesInFlight.has(sourceKey)) return this.limited(1);
          const suspect = this.bySource.hasFailed(sourceKey) || this.byToken.hasFailed(tokenKey);
          this.sourcesInFlight.add(sourceKey);
          pending = this.gate.run(suspect, () => this.checkHashed(presented)).finally(() => {
            this.pending.delete(tokenKey);
            this.sourcesInFlight.delete(sourceKey);
          });
          this.pending.set(tokenKey, pending);
        }
        const r = await pending;
        if (r === null) return this.limited(1);
        name = r;
      }
    }
    if (name && tokenKey) {
      if (this.known.size >= 1024) this.known.delete(this.known.keys().next().value!);
      this.known.set(tokenKey, name);
      this.bySource.succeed(sourceKey);
      return { ok: true, name };
    }
    this.failures.inc({ reason: presented ? 'wrong' : 'missing' });
    const delay = Math.max(this.bySource.fail(sourceKey), tokenKey ? this.byToken.fail(tokenKey) : 0);
    if (delay > 0) this.deps.log.warn({ evt: 'http.auth_limited', ip: source, delayMs: delay }, 'repeated HTTP authentication failures; slowing this source down');
    return { ok: false, status: 401 };
  }

  private limited(retryAfterS: number): AuthOutcome {
    this.failures.inc({ reason: 'limited' });
    return { ok: false, status: 429, retryAfterS };
  }

  /** The name of the hashed token that matches, or undefined. */
  private async checkHashed(presented: string): Promise<string | undefined> {
    for (const t of this.hashed) if (await this.verifier.verify(t.token, presented)) return t.name;
    return undefined;
  }
}
