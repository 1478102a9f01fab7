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
 * the same address as a legitimate client (a shared proxy) does not lock that client out.
 */
import { createHash } from 'node:crypto';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { FailureLimiter, type FailureLimiterOptions } from '../core/failure-limiter.js';
import { SecretVerifier, isHashedSecret } from '../core/secret-hash.js';

export interface HttpToken {
  name: string;
  /** scrypt$… hash or plaintext. */
  token: string;
}

export type AuthOutcome = { ok: true; name: string } | { ok: false; status: 401 } | { ok: false; status: 429; retryAfterS: number };

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64');

export class HttpTokenAuth {
  private readonly verifier = new SecretVerifier();
  /** SHA-256 of presented tokens that matched → token name (bounded; cleared at restart). */
  private readonly known = new Map<string, string>();
  private readonly bySource: FailureLimiter;
  private readonly byToken: FailureLimiter;
  private readonly failures: Counter<'reason'>;

  constructor(
    private readonly deps: { tokens: readonly HttpToken[]; clock: Clock; log: Logger; registry: Registry; limits: FailureLimiterOptions },
  ) {
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

  /** Logs one warning per plaintext token (its name only): the operator should hash it. */
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
    if (wait > 0) {
      this.failures.inc({ reason: 'limited' });
      return { ok: false, status: 429, retryAfterS: Math.ceil(wait / 1000) };
    }
    if (presented && tokenKey) {
      for (const t of this.deps.tokens) {
        if (await this.verifier.verify(t.token, presented)) {
          if (this.known.size >= 1024) this.known.delete(this.known.keys().next().value!);
          this.known.set(tokenKey, t.name);
          this.bySource.succeed(sourceKey);
          return { ok: true, name: t.name };
        }
      }
    }
    this.failures.inc({ reason: presented ? 'wrong' : 'missing' });
    const delay = Math.max(this.bySource.fail(sourceKey), tokenKey ? this.byToken.fail(tokenKey) : 0);
    if (delay > 0) this.deps.log.warn({ evt: 'http.auth_limited', ip: source, delayMs: delay }, 'repeated HTTP authentication failures; slowing this source down');
    return { ok: false, status: 401 };
  }
}
