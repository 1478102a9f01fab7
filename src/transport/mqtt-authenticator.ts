/**
 * The CONNECT checks of the embedded broker, in order (docs/decisions.md D24, D25):
 *
 * 1. Zero-length client id with clean session 0 → CONNACK 2 [MQTT-3.1.3-8]. aedes does not check it, and a refusal
 *    in preConnect would close the socket without any CONNACK, so preConnect only notes the fact.
 * 2. Login throttle per source address (login-throttle.ts): a source with recent failures waits; one with too many
 *    logins in progress gets CONNACK 3 "Server unavailable" unchecked.
 * 3. Username and password against the config (plaintext or scrypt hash, src/core/secret-hash.ts) → CONNACK 4
 *    "bad user name or password", answered after the per-username tarpit delay. On mutual TLS a verified client
 *    certificate's CN must equal the username → CONNACK 5 "not authorized" otherwise.
 * 4. The client id must be one the user may use and not held by another user (client-identity.ts) → CONNACK 2.
 *
 * Only codes 2–5 of MQTT 3.1.1 §3.2.2.3 are used; keepalive is never refused (aedes' keepaliveLimit, which answers
 * with the undefined code 6, stays off: keepalive 0 is legal, §3.1.2.10).
 */
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Client } from 'aedes';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { SecretVerifier } from '../core/secret-hash.js';
import { ClientIdPolicy, ClientIdRegistry, type ClientIdUser } from './client-identity.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import type { Principal } from './mqtt-acl.js';

export interface BrokerUser extends ClientIdUser {
  /** Plaintext or scrypt hash. */
  password: string;
}

type ReturnCode = 2 | 3 | 4 | 5;
type Done = (error: (Error & { returnCode: ReturnCode }) | null, success: boolean | null) => void;

function refusal(returnCode: ReturnCode, message: string): Error & { returnCode: ReturnCode } {
  return Object.assign(new Error(message), { returnCode });
}

function isTlsSocket(conn: unknown): conn is TLSSocket {
  return typeof (conn as { getPeerCertificate?: unknown }).getPeerCertificate === 'function';
}

export class MqttAuthenticator {
  private readonly users = new Map<string, BrokerUser>();
  private readonly verifier = new SecretVerifier();
  private readonly throttle: LoginThrottle;
  private readonly policy: ClientIdPolicy;
  readonly registry = new ClientIdRegistry();
  private readonly principals = new WeakMap<Client, Principal>();
  private readonly connects = new WeakMap<Client, { emptyId: boolean; clean: boolean }>();
  /** SHA-256 of username + password of logins that succeeded (bounded), see check(). */
  private readonly knownGood = new Set<string>();
  private readonly failures: Counter<'reason'>;
  private readonly throttled: Counter<'kind'>;
  private readonly idRefusals: Counter;

  constructor(
    private readonly opts: {
      users: readonly BrokerUser[];
      clock: Clock;
      log: Logger;
      throttle: LoginThrottleOptions;
      metrics: Registry;
      /** Sockets that only the edge's own client may use (the loopback listener when plain TCP is off). */
      edgeOnly?: (conn: unknown) => boolean;
    },
  ) {
    for (const u of opts.users) this.users.set(u.username, u);
    this.throttle = new LoginThrottle(opts.clock, opts.throttle);
    this.policy = new ClientIdPolicy(opts.users);
    const registers = [opts.metrics];
    this.failures = new Counter({ name: 'esl_edge_mqtt_login_failures_total', help: 'Refused MQTT logins, by reason', labelNames: ['reason'], registers });
    this.throttled = new Counter({
      name: 'esl_edge_mqtt_logins_throttled_total',
      help: 'MQTT logins slowed down (delayed) or refused unchecked (busy) by the login throttle',
      labelNames: ['kind'],
      registers,
    });
    this.idRefusals = new Counter({ name: 'esl_edge_mqtt_client_id_refused_total', help: 'MQTT connects refused for their client id (CONNACK 2)', registers });
  }

  principalOf(client: Client | null): Principal | undefined {
    return client ? this.principals.get(client) : undefined;
  }

  readonly preConnect = (client: Client, packet: { clientId?: string; clean?: boolean }, callback: (error: Error | null, success: boolean) => void): void => {
    this.connects.set(client, { emptyId: !packet.clientId, clean: packet.clean !== false });
    callback(null, true);
  };

  readonly authenticate = (client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void => {
    void this.check(client, username, password).then(
      (result) => (result.ok ? done(null, true) : done(result.error, false)),
      (err: unknown) => done(refusal(3, err instanceof Error ? err.message : String(err)), false),
    );
  };

  private async check(client: Client, username: string | undefined, password: Buffer | undefined): Promise<{ ok: true } | { ok: false; error: Error & { returnCode: ReturnCode } }> {
    const log = this.opts.log;
    const connect = this.connects.get(client) ?? { emptyId: false, clean: true };
    const user = username ? this.users.get(username) : undefined;
    if (connect.emptyId && !connect.clean) {
      log.warn({ evt: 'mqtt.refused', reason: 'empty client id with clean=false', username: username ?? null }, 'mqtt client refused');
      this.idRefusals.inc();
      return { ok: false, error: refusal(2, 'identifier rejected') }; // [MQTT-3.1.3-8]
    }
    const source = (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown';
    if (user && password && this.knownGood.has(this.loginDigest(user.username, password)) && (await this.credentialProblem(client, user, password)) === null) {
      // Credentials that logged in before (an AP reconnecting) skip the source throttle: several devices behind one
      // address must not wait for a neighbour's failures. Knowing such credentials is no guess to slow down. (The
      // check above still applies the listener and certificate rules; the password check hits the verifier's cache.)
      return this.admit(client, user, connect);
    }
    const gate = await this.throttle.gate(source);
    if (!gate.ok) {
      this.throttled.inc({ kind: 'busy' });
      log.warn({ evt: 'mqtt.login_throttled', source, username: username ?? null }, 'mqtt login refused unchecked: too many from this source');
      return { ok: false, error: refusal(3, 'server unavailable') };
    }
    if (gate.waitedMs > 0) this.throttled.inc({ kind: 'delayed' });

    const reason = await this.credentialProblem(client, user, password);
    if (reason) {
      const hold = this.throttle.done(source, username, false);
      this.failures.inc({ reason });
      // Never the password, not even a wrong one: it is often a near miss of the real one.
      log.warn({ evt: 'mqtt.auth_failed', reason, username: username ?? null, clientId: client.id, source, anonymous: !username, holdMs: hold }, 'mqtt authentication failed');
      if (hold > 0) await new Promise<void>((resolve) => this.opts.clock.setTimeout(resolve, hold));
      this.throttle.release(source);
      return { ok: false, error: reason === 'certificate' || reason === 'edge-only listener' ? refusal(5, 'not authorized') : refusal(4, 'bad user name or password') };
    }
    this.throttle.done(source, username, true);
    if (this.knownGood.size >= 1024) this.knownGood.delete(this.knownGood.values().next().value!);
    this.knownGood.add(this.loginDigest(user!.username, password!));
    return this.admit(client, user!, connect);
  }

  private loginDigest(username: string, password: Buffer): string {
    return createHash('sha256').update(username).update('\0').update(password).digest('base64');
  }

  /** Step 4: the client id, once the credentials are good. */
  private admit(client: Client, u: BrokerUser, connect: { emptyId: boolean; clean: boolean }): { ok: true } | { ok: false; error: Error & { returnCode: ReturnCode } } {
    const log = this.opts.log;
    const principal: Principal = { username: u.username, role: u.role, ...(u.apId ? { apId: u.apId } : {}) };
    const allowed = this.policy.allows(principal, client.id, connect.emptyId);
    const claimed = allowed.ok ? this.registry.claim(client.id, u.username, client, connect.clean) : allowed;
    if (!claimed.ok) {
      this.idRefusals.inc();
      log.warn({ evt: 'mqtt.client_id_refused', username: u.username, clientId: client.id, reason: claimed.reason }, 'mqtt client id refused');
      return { ok: false, error: refusal(2, 'identifier rejected') };
    }
    const id = client.id;
    client.conn.once('close', () => this.registry.release(id, client));
    this.principals.set(client, principal);
    return { ok: true };
  }

  /** Why the credentials are refused, or null. */
  private async credentialProblem(client: Client, user: BrokerUser | undefined, password: Buffer | undefined): Promise<string | null> {
    if (!user) return 'unknown user';
    if (!password || !(await this.verifier.verify(user.password, password))) return 'bad password';
    if (this.opts.edgeOnly?.(client.conn) && user.role !== 'edge') return 'edge-only listener';
    const conn: unknown = client.conn;
    if (isTlsSocket(conn) && conn.authorized) {
      // Mutual TLS: the certificate, verified against the client CA, names who may log in with it.
      const cn = conn.getPeerCertificate().subject?.CN;
      if (cn !== undefined && cn !== user.username) return 'certificate';
    }
    return null;
  }
}
