/**
 * The edge's MQTT clients: one to the store's broker (embedded or external) and, when configured, one to the
 * chain's HQ broker. Both are built here, the same way: MQTT 3.1.1 (aedes speaks no MQTT 5; Mosquitto, EMQX and
 * HiveMQ speak both), a stable client id and a persistent session (`clean: false`) so that the broker keeps the QoS 1
 * events for us while we restart (MQTT 3.1.1 §3.1.2.4), reconnecting by themselves, every state change one log line.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { writeToStream } from 'mqtt-packet';
import type { Logger } from '../core/logger.js';
import { EdgeError, EdgeErrorCode, errorMessage } from '#contracts';

export interface EdgeMqttClientOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  reconnectPeriodMs: number;
  /** Prefix of the log events: `mqtt` (the store broker) or `hq` (the uplink): `{prefix}.connected`, `.offline`, `.error`. */
  name: 'mqtt' | 'hq';
  /**
   * Wait for the first connection (and fail the start when it fails): the store broker. The HQ uplink is not waited
   * for: a store starts without its uplink and the client keeps trying.
   */
  waitForConnect: boolean;
  log: Logger;
}

/**
 * D87 mqtt-packet (under both aedes and mqtt.js) fills, before the first packet it writes, a table of 65,536 two-byte
 * Buffers for the 16-bit numbers of MQTT 3.1.1 §1.5.2 (packet ids, string lengths): 6.3 MB of V8 heap the edge keeps
 * for its lifetime (D63's heap snapshot). Writing a number's two bytes when needed costs a 2-byte allocation per packet
 * field. Must run before the broker or a client writes its first packet: once built, the table is never dropped.
 */
export function skipMqttNumberTable(): void {
  writeToStream.cacheNumbers = false;
}

export async function connectEdgeMqttClient(o: EdgeMqttClientOptions): Promise<MqttClient> {
  skipMqttNumberTable();
  const options = {
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    clientId: o.clientId,
    clean: false,
    protocolVersion: 4 as const,
    reconnectPeriod: o.reconnectPeriodMs,
    connectTimeout: 10_000,
  };
  const client = o.waitForConnect
    ? await mqtt.connectAsync(o.url, options).catch((err: unknown) => {
        throw new EdgeError(EdgeErrorCode.MQTT_CONNECT_FAILED, `cannot connect to MQTT broker ${o.url}: ${errorMessage(err)}`);
      })
    : mqtt.connect(o.url, options);
  const what = o.name === 'hq' ? 'HQ uplink' : 'mqtt connection';
  client.on('connect', () => o.log.info({ evt: `${o.name}.connected`, url: o.url }, `${what} connected`));
  client.on('offline', () => o.log.warn({ evt: `${o.name}.offline` }, `${what} lost; reconnecting`));
  client.on('error', (err) => o.log.warn({ evt: `${o.name}.error`, err: err.message }, `${what} error`));
  return client;
}
