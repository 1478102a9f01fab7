/**
 * A raw MQTT 3.1.1 client for the conformance and attack tests: MQTT.js refuses to send malformed packets (an
 * empty client id with clean=0, NUL in a topic, ill-formed UTF-8) and cannot pick its source address, so these
 * tests write packets themselves (mqtt-packet for the well-formed ones, bytes for the rest).
 */
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

export interface RawConnectOptions {
  port: number;
  host?: string;
  /** Source address, e.g. 127.0.0.2 (any 127/8 address is local on Linux): several "machines" on one host. */
  localAddress?: string;
  clientId?: string;
  username?: string;
  password?: string;
  clean?: boolean;
  keepalive?: number;
  protocolVersion?: number;
}

export interface RawClient {
  socket: Socket;
  /** The next packet from the broker, or null when the connection closed first. */
  next(): Promise<mqttPacket.Packet | null>;
  /** Resolves when the broker closed the connection. */
  closed: Promise<void>;
  send(packet: mqttPacket.Packet): void;
  sendBytes(bytes: Buffer): void;
  end(): void;
}

export function mqttString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** MQTT Remaining Length (§2.2.3). */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

/** A QoS 1 PUBLISH with the topic given as raw bytes (so it may be ill-formed UTF-8). */
export function rawPublish(topicBytes: Buffer, payload: Buffer, messageId = 1): Buffer {
  const body = Buffer.concat([mqttString(topicBytes), Buffer.from([messageId >> 8, messageId & 0xff]), payload]);
  return Buffer.concat([Buffer.from([0x32]), remainingLength(body.length), body]);
}

/** A SUBSCRIBE for one filter given as raw bytes, QoS 1. */
export function rawSubscribe(filterBytes: Buffer, messageId = 1): Buffer {
  const body = Buffer.concat([Buffer.from([messageId >> 8, messageId & 0xff]), mqttString(filterBytes), Buffer.from([1])]);
  return Buffer.concat([Buffer.from([0x82]), remainingLength(body.length), body]);
}

export async function rawConnect(opts: RawConnectOptions): Promise<RawClient> {
  const socket = connect({ port: opts.port, host: opts.host ?? '127.0.0.1', ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
  await new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  socket.on('error', () => undefined);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const queue: mqttPacket.Packet[] = [];
  const waiters: ((p: mqttPacket.Packet | null) => void)[] = [];
  let isClosed = false;
  parser.on('packet', (p) => {
    const w = waiters.shift();
    if (w) w(p);
    else queue.push(p);
  });
  socket.on('data', (d) => parser.parse(d));
  const closed = new Promise<void>((ok) =>
    socket.once('close', () => {
      isClosed = true;
      for (const w of waiters.splice(0)) w(null);
      ok();
    }),
  );
  const client: RawClient = {
    socket,
    closed,
    next: () => {
      const p = queue.shift();
      if (p) return Promise.resolve(p);
      if (isClosed) return Promise.resolve(null);
      return new Promise((ok) => waiters.push(ok));
    },
    send: (packet) => socket.write(mqttPacket.generate(packet)),
    sendBytes: (bytes) => socket.write(bytes),
    end: () => socket.destroy(),
  };
  // Written by hand (§3.1): mqtt-packet refuses some of the CONNECTs these tests need (an empty id with clean=0).
  const flags = (opts.username !== undefined ? 0x80 : 0) | (opts.password !== undefined ? 0x40 : 0) | (opts.clean === false ? 0 : 0x02);
  const keepalive = opts.keepalive ?? 60;
  const body = Buffer.concat([
    mqttString('MQTT'),
    Buffer.from([opts.protocolVersion ?? 4, flags, keepalive >> 8, keepalive & 0xff]),
    mqttString(opts.clientId ?? ''),
    ...(opts.username !== undefined ? [mqttString(opts.username)] : []),
    ...(opts.password !== undefined ? [mqttString(opts.password)] : []),
  ]);
  client.sendBytes(Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]));
  return client;
}

/** Connects and returns the CONNACK's return code (null when the broker closed without one). */
export async function connackCode(opts: RawConnectOptions): Promise<{ code: number | null; client: RawClient }> {
  const client = await rawConnect(opts);
  const p = await client.next();
  return { code: p && p.cmd === 'connack' ? (p.returnCode ?? null) : null, client };
}
