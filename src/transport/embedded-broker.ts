/**
 * The embedded MQTT broker (aedes), so a store needs nothing else installed. Authentication is always on:
 * every client needs a username and password from the config (or the edge's own generated credentials);
 * anonymous clients and wrong passwords are refused with CONNACK 4/5, client ids are bound to users, and failed
 * logins slow down (mqtt-authenticator.ts); per-client ACLs (mqtt-acl.ts) and strict topic routing
 * (topic-router.ts) decide who may publish and subscribe where. Listeners: plain TCP and/or TLS (mqtt-listeners.ts).
 */
import { randomBytes } from 'node:crypto';
import { Aedes, type Client } from 'aedes';
import type { InProcessBus } from './broker-frame-link.js';
import { Counter, Registry } from 'prom-client';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { IntakeAckLatency } from '../core/stage-latency.js';
import { isHashedSecret } from '../core/secret-hash.js';
import type { Config } from '../config/config-schema.js';
import { AclVerdicts, maySubscribe, storeRoot } from './mqtt-acl.js';
import { MqttAuthenticator, type BrokerUser } from './mqtt-authenticator.js';
import { startBrokerListeners } from './mqtt-listeners.js';
import { prepareMqttPacketWriter } from './mqtt-client.js';
import { envelopeReplyTo, ownReplyPrefix, replyTopicWithin } from './reply-scope.js';
import { routePublish, topicNameProblem } from './topic-router.js';

/**
 * Commits an event published to R/in/…; the publisher's PUBACK is sent only after it resolves. `publisher`: who
 * published it, so a reply goes only under that user's own reply prefix (reply-scope.ts).
 */
export type InboundEventHandler = (topic: string, payload: Buffer, publisher: { username: string; receivedAt: number }) => Promise<void>;

export interface EmbeddedBroker {
  /** Port of the plain TCP listener (or, when plain TCP is off, of the loopback listener for the edge's own client). */
  port: number;
  /** Port of the TLS listener, when configured. */
  tlsPort: number | null;
  /** URL the edge's own client connects to. */
  edgeUrl: string;
  /** The broker's metrics (logins, refusals); merged into /metrics by the daemon. */
  metrics: Registry;
  /**
   * aedes sends the PUBACK of a QoS 1 publish right after authorizePublish, before delivering it to anyone. So the
   * only way to make "acknowledged" mean "committed" on the embedded broker is to commit inside that hook
   * (docs/decisions.md D5): set here by the daemon once intake is ready; until then event publishes are refused.
   */
  setEventHandler(handler: InboundEventHandler | null): void;
  /**
   * Flow control of AP frames (D98): while `gate` returns a promise, a frame an AP publishes is authorised (and
   * acknowledged, and the AP's next packets read) only once it resolves, so the frames wait at the AP, not in the edge.
   */
  setUplinkGate(gate: (() => Promise<void> | null) | null): void;
  /** Credentials of the edge's own client: generated per start, never logged, never in a file. */
  edgeCredentials: { username: string; password: string };
  /** The broker's message bus in process: the edge's AP link reads and writes it without a client (D103). */
  bus: InProcessBus;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(opts: {
  config: Config;
  log: Logger;
  host: string;
  port: number;
  maxPacketBytes: number;
  clock?: Clock;
  /** Resolves relative TLS file names (the config file's directory). */
  baseDir?: string;
  /** Stage latencies of event acknowledgements (D80): the broker records handler done → PUBACK written, and the total. */
  ackTiming?: IntakeAckLatency;
}): Promise<EmbeddedBroker> {
  const { config, log } = opts;
  const root = storeRoot(config.store.chain, config.store.id);
  const edgeCredentials = { username: `edge-${config.store.id}`, password: randomBytes(24).toString('base64url') };
  const metrics = new Registry();
  const refused = new Counter({
    name: 'esl_edge_mqtt_publish_refused_total',
    help: 'PUBLISH packets refused (connection closed, MQTT-3.3.5-2), by reason',
    labelNames: ['reason'],
    registers: [metrics],
  });
  const users: BrokerUser[] = config.mqtt.users.map((u) => ({
    username: u.username,
    password: u.password,
    role: u.role,
    ...(u.apId ? { apId: u.apId } : {}),
    ...(u.clientIds ? { clientIds: u.clientIds } : {}),
  }));
  const plaintext = users.filter((u) => !isHashedSecret(u.password)).map((u) => u.username);
  if (plaintext.length > 0) {
    // Names only, never the secrets (docs/security.md): hash them with `esl-edge secret hash`.
    log.warn({ evt: 'config.plaintext_secret', where: 'mqtt.users', names: plaintext }, 'MQTT passwords stored in plaintext in the config; store scrypt hashes instead');
  }
  users.push({ ...edgeCredentials, role: 'edge' });
  const edgeOnlySockets = new WeakSet<object>();
  const auth = new MqttAuthenticator({
    users,
    clock: opts.clock ?? systemClock,
    log,
    throttle: config.mqtt.embedded.loginThrottle,
    metrics,
    edgeOnly: (conn) => edgeOnlySockets.has(conn as object),
  });
  const held = new Counter({
    name: 'esl_edge_mqtt_ap_frames_held_total',
    help: 'AP frames whose acknowledgement waited because the edge had too many frames to send to the APs (D98)',
    registers: [metrics],
  });
  let eventHandler: InboundEventHandler | null = null;
  let uplinkGate: (() => Promise<void> | null) | null = null;
  const eventPrefix = `${root}/in/`;
  /**
   * Event topics a client was already allowed to publish to (route and ACL), per connection: a publisher sends
   * thousands of events to the same few topics, and the verdict depends only on its principal and the topic
   * (docs/decisions.md D43). Only positive verdicts are kept, at most one per event type.
   */
  const allowedEventTopics = new WeakMap<Client, Set<string>>();
  const acl = new AclVerdicts(root);
  /**
   * PUBLISH packets the intake committed (D5): their content now lives in sqlite, and no client but the edge may
   * subscribe to R/in/# (mqtt-acl.ts), which with the embedded broker it does not. So aedes' fan-out of them
   * (offline queues, the topic trie, the emitter — a tenth of the edge's CPU per event) is skipped; see `publish`.
   */
  const consumed = new WeakSet<object>();
  const refuse = (client: Client | null, topic: string, reason: string, label: string): Error => {
    refused.inc({ reason: label });
    log.warn({ evt: 'mqtt.publish_refused', username: auth.principalOf(client)?.username ?? null, clientId: client?.id ?? null, topic: topic.slice(0, 200), reason }, 'publish refused; connection closed');
    return new Error(reason);
  };

  prepareMqttPacketWriter();
  const broker = await Aedes.createBroker({
    maxClientsIdLength: 64,
    // keepaliveLimit stays 0 (off): keepalive 0 is legal [MQTT-3.1.2-10] and aedes refuses a violation with CONNACK 6,
    // a code MQTT 3.1.1 does not define (§3.2.2.3). TCP keepalive on the sockets reaps dead peers (mqtt-listeners.ts).
    keepaliveLimit: 0,
    queueLimit: 100,
    // A frozen subscriber must not stall delivery to everyone else (domain notes §4).
    drainTimeout: 30_000,
    preConnect: auth.preConnect,
    authenticate: auth.authenticate,
    authorizePublish(client, packet, callback) {
      const p = auth.principalOf(client);
      if (!p) return callback(new Error('not authenticated'));
      const known = client ? allowedEventTopics.get(client) : undefined;
      if (known?.has(packet.topic) && eventHandler && (!packet.payload || packet.payload.length <= opts.maxPacketBytes)) {
        // The same checks as below passed for this client and topic before; only the payload size is per packet.
        return commitEvent(packet, p.username, callback);
      }
      const route = routePublish(p, root, packet.topic);
      if (!route.ok) return callback(refuse(client, packet.topic, route.reason, 'topic'));
      if (packet.payload && packet.payload.length > opts.maxPacketBytes) {
        log.warn({ evt: 'mqtt.publish_refused', username: p.username, topic: packet.topic, reason: 'too large', bytes: packet.payload.length }, 'publish refused');
        return callback(new Error('payload too large'));
      }
      if (!acl.mayPublish(p, packet.topic)) {
        log.warn({ evt: 'mqtt.publish_refused', username: p.username, topic: packet.topic, reason: 'acl' }, 'publish refused');
        return callback(new Error('not authorized'));
      }
      if (route.route === 'request') {
        // A request is answered on its replyTo by the edge; only under the requester's own prefix (D25). Refused
        // here, where the requester is known: the edge's request source sees no publisher identity (MQTT 3.1.1).
        const replyTo = envelopeReplyTo(packet.payload as Buffer);
        if (replyTo !== undefined && !replyTopicWithin(replyTo, ownReplyPrefix(root, p.username))) {
          return callback(refuse(client, packet.topic, `replyTo outside ${ownReplyPrefix(root, p.username)}`, 'reply_to'));
        }
      }
      if (route.route === 'ap-up' && uplinkGate) {
        const wait = uplinkGate();
        if (wait) {
          held.inc();
          return void wait.then(() => callback(null));
        }
      }
      if (packet.topic.startsWith(eventPrefix) && p.role !== 'edge') {
        if (!eventHandler) return callback(new Error('event intake not ready'));
        if (client && route.route === 'event') {
          let set = allowedEventTopics.get(client);
          if (!set) allowedEventTopics.set(client, (set = new Set()));
          set.add(packet.topic);
        }
        return commitEvent(packet, p.username, callback);
      }
      callback(null);
    },
    authorizeSubscribe(client, sub, callback) {
      const p = auth.principalOf(client);
      // Ill-formed UTF-8 or U+0000 in a topic filter closes the connection [MQTT-1.5.3-1], [MQTT-1.5.3-2]. (The
      // wildcard rule of topicNameProblem does not apply to filters; aedes checks their wildcard placement, §4.7.1.)
      const problem = topicNameProblem(sub.topic.replace(/[+#]/g, 'x'));
      if (problem) {
        log.warn({ evt: 'mqtt.subscribe_refused', username: p?.username ?? null, topic: sub.topic.slice(0, 200), reason: problem }, 'subscribe refused; connection closed');
        return callback(new Error(problem));
      }
      // A refused filter is answered with return code 0x80 in the SUBACK (§3.9.3), not by closing the connection.
      if (!p || !maySubscribe(p, root, sub.topic)) {
        log.warn({ evt: 'mqtt.subscribe_refused', username: p?.username ?? null, topic: sub.topic }, 'subscribe refused');
        return callback(null, null);
      }
      callback(null, sub);
    },
    authorizeForward(client, packet) {
      // Defence in depth for D24: whatever a session holds (restored subscriptions, queued messages), a message goes
      // only to a client whose user may subscribe to its topic.
      const p = auth.principalOf(client);
      return p && acl.maySubscribe(p, packet.topic) ? packet : null;
    },
  });
  function commitEvent(packet: { topic: string; payload: Buffer | string }, username: string, callback: (error: Error | null) => void): void {
    // Refusing (error) closes the connection without PUBACK, so the publisher sends again: used only when the
    // commit itself failed. Invalid events are committed as dead letters and acknowledged.
    const receivedAt = performance.now();
    eventHandler!(packet.topic, packet.payload as Buffer, { username, receivedAt }).then(
      () => {
        consumed.add(packet);
        const replied = performance.now();
        // aedes writes the PUBACK synchronously inside this callback (lib/handlers/publish.js, lib/write.js).
        callback(null);
        const timing = opts.ackTiming;
        if (timing) {
          const now = performance.now();
          timing.add('reply_to_puback', now - replied);
          timing.add('received_to_puback', now - receivedAt);
        }
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }
  // aedes calls publish() for an authorised PUBLISH right after writing its PUBACK (QoS 1), with the very packet
  // authorizePublish saw. For a committed event that is the end of it (see `consumed`); everything else — AP
  // frames, requests, the edge's own messages — goes through aedes unchanged.
  // (aedes' typings name only publish(packet, done); its handlers call publish(packet, client, done).)
  type AedesPublish = (packet: object, client: unknown, done?: (error?: Error) => void) => void;
  const publish = (broker.publish as unknown as AedesPublish).bind(broker);
  (broker as unknown as { publish: AedesPublish }).publish = (packet, client, done) => {
    if (typeof client !== 'function' && consumed.delete(packet)) return done?.();
    publish(packet, client, done);
  };
  broker.on('clientError', (client, err) => log.debug({ evt: 'mqtt.client_error', clientId: client?.id, err: err.message }, 'mqtt client error'));

  const listeners = await startBrokerListeners({
    handle: broker.handle,
    embedded: config.mqtt.embedded,
    baseDir: opts.baseDir ?? process.cwd(),
    host: opts.host,
    port: opts.port,
    log,
    markEdgeOnly: (socket) => edgeOnlySockets.add(socket),
  });

  return {
    port: listeners.port,
    tlsPort: listeners.tlsPort,
    edgeUrl: listeners.edgeUrl,
    metrics,
    edgeCredentials,
    bus: {
      subscribe: (topic, deliver, subscribed) => broker.subscribe(topic, deliver, subscribed),
      unsubscribe: (topic, deliver, unsubscribed) => broker.unsubscribe(topic, deliver, unsubscribed),
      publish: (topic, payload, done) => broker.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => done(err ?? undefined)),
    },
    setEventHandler(handler) {
      eventHandler = handler;
    },
    setUplinkGate(gate) {
      uplinkGate = gate;
    },
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await listeners.close();
    },
  };
}
