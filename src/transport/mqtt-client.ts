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

/** Remaining lengths below this are cached by mqtt-packet's writeVarByteInt (writeToStream.js, `num < 16384`). */
const VAR_BYTE_INT_CACHED = 16_384;
let lengthCacheFilled = false;

/**
 * D136 mqtt-packet keeps the bytes of every packet's remaining length (MQTT 3.1.1 §2.2.3) below 16,384 in a
 * module-level cache, each a 1–2-byte slice of a `Buffer.allocUnsafe(4)` — a slice of Node's shared 8 kB pool, which
 * it then keeps alive for the process's life. Lengths arrive one by one over the daemon's life (events and frames of
 * every size), each new one pinning whichever pool slab was current: after one reference-store fill and repricing the
 * edge held 561 such slabs (4.6 MB, heap snapshot), and a store that sees every length would hold up to ~130 MB.
 * Writing one PUBLISH of each length at start-up, back to back (~0.1 s), puts all of them in ~16 slabs (0.26 MB, and
 * 1.9 MB of heap for the Buffer objects) and the cache never allocates again. Runs once, after skipMqttNumberTable (its
 * PUBLISHes write 16-bit numbers too), before the broker or a client writes its first packet.
 */
function fillMqttLengthCache(): void {
  if (lengthCacheFilled) return;
  lengthCacheFilled = true;
  const sink = { write: () => true, destroy: () => undefined } as unknown as Parameters<typeof writeToStream>[1];
  const payload = Buffer.alloc(VAR_BYTE_INT_CACHED);
  // A QoS 0 PUBLISH to a one-byte topic: remaining length = 2 + 1 + payload (§3.3.2, §3.3.3).
  for (let length = 3; length < VAR_BYTE_INT_CACHED; length++) {
    writeToStream({ cmd: 'publish', topic: 'x', payload: payload.subarray(0, length - 3), qos: 0, retain: false, dup: false }, sink);
  }
}

/** What the edge does to mqtt-packet before its first packet (D87, D136); later calls do nothing more. */
export function prepareMqttPacketWriter(): void {
  skipMqttNumberTable();
  fillMqttLengthCache();
}

export async function connectEdgeMqttClient(o: EdgeMqttClientOptions): Promise<MqttClient> {
  prepareMqttPacketWriter();
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
