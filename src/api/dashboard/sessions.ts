/**
 * Dashboard sessions: an opaque id in an HttpOnly, SameSite=Strict cookie, and per session a CSRF token that every
 * state-changing request must echo in the `x-csrf-token` header (OWASP "synchronizer token"; SameSite=Strict alone
 * is not enough for older browsers and same-site subdomains). Sessions live in memory: a restart logs everyone out,
 * which a store's handheld survives with one log-in.
 *
 * Ids and CSRF tokens come from the CSPRNG (crypto.randomBytes), not from the injected Random: that one is a
 * replayable jitter source for backoff (D6) and must never make secrets. Expiry uses the injected clock.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';

export type DashboardRole = 'viewer' | 'operator';

export interface Session {
  id: string;
  user: string;
  role: DashboardRole;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

export const SESSION_COOKIE = 'esl_dash';

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  constructor(private readonly deps: { clock: Clock; ttlMs: number; maxSessions?: number }) {}

  create(user: string, role: DashboardRole): Session {
    const now = this.deps.clock.now();
    this.sweep(now);
    // Bounded: a flood of log-ins must not grow memory without limit; the oldest session goes first.
    if (this.sessions.size >= (this.deps.maxSessions ?? 1000)) this.sessions.delete(this.sessions.keys().next().value!);
    const s: Session = { id: randomBytes(32).toString('base64url'), user, role, csrf: randomBytes(24).toString('base64url'), createdAt: now, expiresAt: now + this.deps.ttlMs };
    this.sessions.set(s.id, s);
    return s;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.deps.clock.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(now: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}
