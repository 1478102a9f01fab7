/**
 * The embedded MQTT broker (aedes), so a store needs nothing else installed. Authentication is always on:
 * every client needs a username and password from the config (or the edge's own generated credentials);
 * anonymous clients and wrong passwords are refused with CONNACK 4/5, and per-client ACLs (mqtt-acl.ts) decide
 * who may publish and subscribe where.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { timingSafeEqual, createHash, randomBytes } from 'node:crypto';
import { Aedes, type Client } from 'aedes';
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/config-schema.js';
import { mayPublish, maySubscribe, storeRoot, type Principal } from './mqtt-acl.js';

/** Commits an event published to R/in/…; the publisher's PUBACK is sent only after it resolves. */
export type InboundEventHandler = (topic: string, payload: Buffer) => Promise<void>;

export interface EmbeddedBroker {
  port: number;
  /**
   * aedes sends the PUBACK of a QoS 1 publish right after authorizePublish, before delivering it to anyone. So the
   * only way to make "acknowledged" mean "committed" on the embedded broker is to commit inside that hook
   * (docs/decisions.md D5): set here by the daemon once intake is ready; until then event publishes are refused.
   */
  setEventHandler(handler: InboundEventHandler | null): void;
  /** Credentials of the edge's own client: generated per start, never logged, never in a file. */
  edgeCredentials: { username: string; password: string };
  close(): Promise<void>;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export async function startEmbeddedBroker(opts: {
  config: Config;
  log: Logger;
  host: string;
  port: number;
  maxPacketBytes: number;
}): Promise<EmbeddedBroker> {
  const { config, log } = opts;
  const root = storeRoot(config.store.chain, config.store.id);
  const edgeCredentials = { username: `edge-${config.store.id}`, password: randomBytes(24).toString('base64url') };
  const users = new Map<string, { password: string; principal: Principal }>();
  for (const u of config.mqtt.users) {
    users.set(u.username, { password: u.password, principal: { username: u.username, role: u.role, ...(u.apId ? { apId: u.apId } : {}) } });
  }
  users.set(edgeCredentials.username, { password: edgeCredentials.password, principal: { username: edgeCredentials.username, role: 'edge' } });
  const principals = new WeakMap<Client, Principal>();
  const emptyIdUnclean = new WeakSet<Client>();
  let eventHandler: InboundEventHandler | null = null;
  const eventPrefix = `${root}/in/`;

  const broker = await Aedes.createBroker({
    maxClientsIdLength: 64,
    keepaliveLimit: 600,
    queueLimit: 100,
    // A frozen subscriber must not stall delivery to everyone else (domain notes §4).
    drainTimeout: 30_000,
    preConnect(client, packet, callback) {
      // MQTT 3.1.1 [MQTT-3.1.3-8]: an empty client id requires clean session; aedes does not check it. A refusal
      // here would close the socket without CONNACK, so mark the client and answer CONNACK 2 from authenticate.
      const p = packet as { clientId?: string; clean?: boolean };
      if (!p.clientId && p.clean === false) emptyIdUnclean.add(client);
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      if (emptyIdUnclean.has(client)) {
        log.warn({ evt: 'mqtt.refused', reason: 'empty client id with clean=false', username: username ?? null }, 'mqtt client refused');
        return done(Object.assign(new Error('identifier rejected'), { returnCode: 2 as const }), false);
      }
      const user = username ? users.get(username) : undefined;
      if (!user || !password || !sameSecret(password.toString('utf8'), user.password)) {
        log.warn({ evt: 'mqtt.auth_failed', username: username ?? null, clientId: client.id, anonymous: !username }, 'mqtt authentication failed');
        const err = Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
        return done(err, false);
      }
      principals.set(client, user.principal);
      done(null, true);
    },
    authorizePublish(client, packet, callback) {
      const p = client ? principals.get(client) : undefined;
      if (!p) return callback(new Error('not authenticated'));
      if (packet.payload && packet.payload.length > opts.maxPacketBytes) {
        log.warn({ evt: 'mqtt.publish_refused', username: p.username, topic: packet.topic, reason: 'too large', bytes: packet.payload.length }, 'publish refused');
        return callback(new Error('payload too large'));
      }
      if (!mayPublish(p, root, packet.topic)) {
        log.warn({ evt: 'mqtt.publish_refused', username: p.username, topic: packet.topic, reason: 'acl' }, 'publish refused');
        return callback(new Error('not authorized'));
      }
      if (packet.topic.startsWith(eventPrefix) && p.role !== 'edge') {
        if (!eventHandler) return callback(new Error('event intake not ready'));
        // Refusing (error) closes the connection without PUBACK, so the publisher sends again: used only when
        // the commit itself failed. Invalid events are committed as dead letters and acknowledged.
        eventHandler(packet.topic, packet.payload as Buffer).then(
          () => callback(null),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
        return;
      }
      callback(null);
    },
    authorizeSubscribe(client, sub, callback) {
      const p = client ? principals.get(client) : undefined;
      if (!p || !maySubscribe(p, root, sub.topic)) {
        log.warn({ evt: 'mqtt.subscribe_refused', username: p?.username ?? null, topic: sub.topic }, 'subscribe refused');
        return callback(null, null);
      }
      callback(null, sub);
    },
  });
  broker.on('clientError', (client, err) => log.debug({ evt: 'mqtt.client_error', clientId: client?.id, err: err.message }, 'mqtt client error'));

  const server: Server = createServer(broker.handle as (socket: Socket) => void);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  log.info({ evt: 'mqtt.broker_started', host: opts.host, port }, 'embedded MQTT broker listening');

  return {
    port,
    edgeCredentials,
    setEventHandler(handler) {
      eventHandler = handler;
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
