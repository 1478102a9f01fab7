/**
 * MQTT client ids bound to identities (docs/decisions.md D24).
 *
 * MQTT 3.1.1 lets the Client identifier name the session: a CONNECT with an id that is already connected closes the
 * existing connection [MQTT-3.1.4-2], and clean session 0 resumes the session stored under that id, queued messages
 * included [MQTT-3.1.2-4]. With one shared broker and many credentials that makes any user able to disconnect or
 * impersonate any other. So:
 *
 * 1. Which ids a user may use (`ClientIdPolicy`): the edge's ids (`esl-edge-*`) only the edge; an AP only its apId
 *    (protocol §11.3: "its MQTT client id is its apId") or its configured `clientIds`; a publisher or observer its
 *    configured `clientIds`, or by default any id no one else has a claim to. Refused with CONNACK 2 "Identifier
 *    rejected", the code MQTT 3.1.1 §3.2.2.3 has for an id the Server does not allow.
 * 2. Who holds an id (`ClientIdRegistry`): an id connected (or connecting) for one user, or whose persistent session
 *    one user created, is refused to every other user (CONNACK 2) — never a takeover, and the existing client keeps
 *    its connection. The same user may take over its own id (an AP reconnecting after a broken link, whose old TCP
 *    connection the broker has not yet noticed as dead), as [MQTT-3.1.4-2] describes.
 *
 * Session ownership lives in memory, like aedes' default persistence it guards: both start empty with the process.
 */
import type { Principal } from './mqtt-acl.js';

export const EDGE_CLIENT_ID_PREFIX = 'esl-edge-';

/** An exact id, or a prefix when the pattern ends in "*". */
export function clientIdMatches(pattern: string, clientId: string): boolean {
  return pattern.endsWith('*') ? clientId.startsWith(pattern.slice(0, -1)) : clientId === pattern;
}

export interface ClientIdUser {
  username: string;
  role: Principal['role'];
  apId?: string;
  clientIds?: string[];
}

export type ClientIdVerdict = { ok: true } | { ok: false; reason: string };

export class ClientIdPolicy {
  /** username → patterns it has an explicit claim to (an AP's apId by default). */
  private readonly claims = new Map<string, string[]>();

  constructor(users: readonly ClientIdUser[]) {
    for (const u of users) {
      const patterns = u.clientIds ?? (u.role === 'ap' && u.apId ? [u.apId] : []);
      if (patterns.length > 0) this.claims.set(u.username, patterns);
    }
  }

  /**
   * May `p` connect as `clientId`? `assigned`: the client sent a zero-length id and the broker made one up
   * ([MQTT-3.1.3-6]); that id is unique, so it is allowed to publishers and observers, not to APs (§11.3) or the edge.
   */
  allows(p: Principal, clientId: string, assigned = false): ClientIdVerdict {
    if (p.role === 'edge') {
      return clientId.startsWith(EDGE_CLIENT_ID_PREFIX) && !assigned ? { ok: true } : { ok: false, reason: 'the edge uses esl-edge-* ids' };
    }
    if (assigned) return p.role === 'ap' ? { ok: false, reason: 'an AP connects with its own id (protocol §11.3)' } : { ok: true };
    if (clientId.startsWith(EDGE_CLIENT_ID_PREFIX)) return { ok: false, reason: 'id reserved to the edge' };
    const own = this.claims.get(p.username);
    if (own) return own.some((pat) => clientIdMatches(pat, clientId)) ? { ok: true } : { ok: false, reason: 'id not among the user\'s client ids' };
    for (const [username, patterns] of this.claims) {
      if (username !== p.username && patterns.some((pat) => clientIdMatches(pat, clientId))) return { ok: false, reason: 'id reserved to another user' };
    }
    return { ok: true };
  }
}

interface Holder {
  username: string;
  client: object;
}

export class ClientIdRegistry {
  private readonly live = new Map<string, Holder>();
  private readonly sessions = new Map<string, string>();

  /**
   * Claims `clientId` for `username` (synchronously, after the password was checked, so two concurrent logins cannot
   * both pass). `clean`: the CONNECT's clean session flag — a clean session discards the stored one
   * [MQTT-3.1.2-6], a persistent one is owned by this user from now on.
   */
  claim(clientId: string, username: string, client: object, clean: boolean): ClientIdVerdict {
    const holder = this.live.get(clientId);
    if (holder && holder.username !== username) return { ok: false, reason: 'id connected for another user' };
    const owner = this.sessions.get(clientId);
    if (owner !== undefined && owner !== username) return { ok: false, reason: 'persistent session of another user' };
    this.live.set(clientId, { username, client });
    if (clean) this.sessions.delete(clientId);
    else this.sessions.set(clientId, username);
    return { ok: true };
  }

  /** The connection of `client` ended; a newer connection of the same id (a takeover) keeps its claim. */
  release(clientId: string, client: object): void {
    if (this.live.get(clientId)?.client === client) this.live.delete(clientId);
  }

  /** For tests and diagnostics. */
  holderOf(clientId: string): string | undefined {
    return this.live.get(clientId)?.username;
  }
}
