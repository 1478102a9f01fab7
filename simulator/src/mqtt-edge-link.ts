/**
 * MQTT link of a simulated AP (firmware-protocol/README.md §11): one binary frame per message, QoS 1, on
 * esl/{chain}/{store}/ap/{apId}/up (publish) and /down (subscribe); /status carries a retained "online", and the
 * last will sets a retained "offline" when the AP vanishes without saying goodbye.
 *
 * The session is persistent (clean session false, §11.2), so frames the edge sends while the AP is away wait at
 * the broker. After a reconnect the AP announces itself with AP_HELLO and sends again what the edge had not
 * acknowledged (§7.3, §8).
 */
import mqtt, { type MqttClient } from 'mqtt';
import {
  AP_STATUS_OFFLINE,
  AP_STATUS_ONLINE,
  MQTT_QOS,
  decodeFrame,
  encodeFrame,
  type ApTopics,
  type Frame,
} from '#protocol';
import { type EdgeLink, type EdgeLinkHandlers } from './edge-link.js';
import type { SimLogger } from './sim-logger.js';
import { EslError } from '#contracts';

/**
 * MQTT.js traces through the `debug` package (DEBUG=mqttjs*). Without DEBUG in the environment none of its
 * namespaces can be on, yet its logger still gathers its arguments into an array for every packet: ~5 % of what the
 * simulator allocates (D163). Then the link gives it a logger that does nothing; with DEBUG set it keeps its own.
 */
const QUIET_CLIENT_LOG = process.env['DEBUG'] ? {} : { log: (): void => undefined };

export interface MqttEdgeLinkOptions {
  brokerUrl: string;
  username: string;
  password: string;
  topics: ApTopics;
  /** §11.3 The AP's client id is its apId. */
  clientId: string;
  logger: SimLogger;
  connectTimeoutMs?: number;
  reconnectPeriodMs?: number;
}

export class MqttEdgeLink implements EdgeLink {
  readonly kind = 'mqtt' as const;
  private client: MqttClient | undefined;
  private up = false;

  constructor(private readonly opts: MqttEdgeLinkOptions) {}

  get connected(): boolean {
    return this.up;
  }

  open(handlers: EdgeLinkHandlers): Promise<void> {
    const { topics, logger } = this.opts;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const client = mqtt.connect(this.opts.brokerUrl, {
        clientId: this.opts.clientId,
        username: this.opts.username,
        password: this.opts.password,
        clean: false,
        protocolVersion: 4,
        connectTimeout: this.opts.connectTimeoutMs ?? 10_000,
        reconnectPeriod: this.opts.reconnectPeriodMs ?? 1_000,
        will: { topic: topics.status, payload: Buffer.from(AP_STATUS_OFFLINE), qos: MQTT_QOS, retain: true },
        ...QUIET_CLIENT_LOG,
      });
      this.client = client;
      client.on('connect', () => {
        // Frames are small and latency matters more than packet count: no Nagle delay on the socket.
        const socket = client.stream as { setNoDelay?: (noDelay: boolean) => void };
        socket.setNoDelay?.(true);
        client.subscribe(topics.down, { qos: MQTT_QOS }, (err) => {
          if (err) {
            logger.warn({ evt: 'sim.ap.subscribe_failed', err: String(err), topic: topics.down }, 'AP could not subscribe');
            if (!settled) {
              settled = true;
              client.end(true);
              reject(new EslError('LINK_CONNECT_FAILED', `subscribe to ${topics.down} failed: ${String(err)}`, undefined, { cause: err }));
            }
            return;
          }
          client.publish(topics.status, AP_STATUS_ONLINE, { qos: MQTT_QOS, retain: true });
          this.up = true;
          handlers.onUp();
          if (!settled) {
            settled = true;
            resolve();
          }
        });
      });
      client.on('close', () => {
        if (this.client !== client || !this.up) return;
        this.up = false;
        handlers.onDown();
      });
      client.on('error', (err) => {
        logger.warn({ evt: 'sim.ap.mqtt_error', err: String(err) }, 'AP MQTT error');
        if (!settled) {
          // Refused credentials or an unreachable broker at start: report instead of retrying forever.
          settled = true;
          client.end(true);
          reject(new EslError('LINK_CONNECT_FAILED', `MQTT connect to ${this.opts.brokerUrl} failed: ${err.message}`, undefined, { cause: err }));
        }
      });
      client.on('message', (topic, payload) => {
        if (topic !== topics.down) return;
        handlers.onFrame(decodeFrame(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)));
      });
    });
  }

  send(frame: Frame): void {
    const client = this.client;
    if (client === undefined) throw new EslError('LINK_NOT_OPEN', 'MQTT link is not open');
    client.publish(this.opts.topics.up, Buffer.from(encodeFrame(frame)), { qos: MQTT_QOS });
  }

  async drop(): Promise<void> {
    const client = this.detach();
    if (client === undefined) return;
    // Forced end: the socket is destroyed without DISCONNECT, so the broker publishes the last will.
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  async close(): Promise<void> {
    const client = this.detach();
    if (client === undefined) return;
    if (client.connected) {
      await new Promise<void>((resolve) =>
        client.publish(this.opts.topics.status, AP_STATUS_OFFLINE, { qos: MQTT_QOS, retain: true }, () => resolve()),
      );
    }
    if (client.connected) await client.endAsync();
    else await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
  }

  private detach(): MqttClient | undefined {
    const client = this.client;
    this.client = undefined;
    this.up = false;
    client?.removeAllListeners('close');
    client?.removeAllListeners('message');
    client?.removeAllListeners('connect');
    client?.on('error', () => undefined);
    return client;
  }
}
