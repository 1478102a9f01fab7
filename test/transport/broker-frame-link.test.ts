/**
 * D103 With the embedded broker the edge reads and writes its APs' topics in process (protocol §11): a real aedes
 * broker, a real MQTT client as the AP. Frames the AP publishes reach the hub's sink in order, frames the edge sends
 * reach the AP's QoS 1 subscription in order, a burst in both directions at once gets through while a slow reader holds
 * the bus, and the AP's last will "offline" takes the link down. (The stack overflow a synchronous bus callback caused
 * in bench/full-store, D103, is not reproduced by this test: it needs a longer backlog than one AP client makes.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { PROTOCOL_VERSION, apTopics, decodeFrame, encodeFrame, type DecodeResult, type Frame } from '#protocol';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/transport/embedded-broker.js';
import { BrokerFrameLink } from '../../src/transport/broker-frame-link.js';
import type { FrameLink } from '../../src/transport/frame-link.js';
import { CHAIN, STORE, USERS, tempDir, testConfig } from '../support/edge-fixture.js';

const ack = (seq: number): Frame => ({ version: PROTOCOL_VERSION, seq, ackRequested: false, message: { type: 'ACK', ackSeq: seq, status: 0 } });
const N = 3_000;

describe('the AP link in process (D103)', () => {
  const tmp = tempDir();
  let broker: EmbeddedBroker | null = null;
  let link: BrokerFrameLink | null = null;
  afterEach(async () => {
    await link?.stop();
    await broker?.close();
    broker = null;
    link = null;
  });

  it('carries frames both ways in order, a burst at once, and the last will takes the link down', async () => {
    const log = createLogger({ level: 'silent' });
    broker = await startEmbeddedBroker({ config: testConfig(tmp.dir), log, clock: new ManualClock(Date.now()), host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024 });
    const up: { apId: string; r: DecodeResult }[] = [];
    const down: { apId: string }[] = [];
    link = new BrokerFrameLink(broker.bus, CHAIN, STORE, log);
    await link.start({ frame: (_l: FrameLink, apId, r) => up.push({ apId, r }), linkDown: (_l: FrameLink, apId) => down.push({ apId }) });

    const topics = apTopics(CHAIN, STORE, USERS.ap1.apId);
    const ap = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      username: USERS.ap1.username,
      password: USERS.ap1.password,
      clientId: USERS.ap1.apId,
      reconnectPeriod: 0,
      will: { topic: topics.status, payload: Buffer.from('offline'), qos: 1, retain: true },
    });
    const got: number[] = [];
    ap.on('message', (_t, payload: Buffer) => {
      const r = decodeFrame(new Uint8Array(payload));
      if (r.ok) got.push(r.frame.seq);
    });
    await ap.subscribeAsync(topics.down, { qos: 1 });

    // A slow reader of the AP's down topic holds the bus's in-flight messages (aedes: 100), so the AP's frames queue
    // behind them and are handed over one after another when they are released.
    const slow = (_p: unknown, done: () => void) => void setTimeout(done, 30);
    await new Promise<void>((resolve) => broker!.bus.subscribe(topics.down, slow, resolve));
    // Both directions at once: the edge sends N frames while the AP publishes N.
    const sends = Array.from({ length: N }, (_, i) => link!.send(USERS.ap1.apId, ack(i % 65_536)));
    await Promise.all(Array.from({ length: N }, (_, i) => ap.publishAsync(topics.up, Buffer.from(encodeFrame(ack(i % 65_536))), { qos: 1 })));
    await Promise.all(sends);
    for (let i = 0; i < 200 && (got.length < N || up.length < N); i++) await new Promise((r) => setTimeout(r, 20));
    expect(up).toHaveLength(N);
    expect(up.every((u) => u.apId === USERS.ap1.apId && u.r.ok)).toBe(true);
    expect(up.map((u) => (u.r.ok ? u.r.frame.seq : -1))).toEqual(Array.from({ length: N }, (_, i) => i % 65_536));
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i % 65_536));
    await new Promise<void>((resolve) => broker!.bus.unsubscribe(topics.down, slow, resolve));

    // The AP's connection drops without DISCONNECT: the broker publishes its will (§11), the link goes down.
    ap.stream.destroy();
    for (let i = 0; i < 100 && down.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(down).toEqual([{ apId: USERS.ap1.apId }]);
    ap.end(true);
  });
});
