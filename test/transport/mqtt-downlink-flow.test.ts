/**
 * D98 flow control between the edge and its APs on the embedded broker (real aedes, real mqtt.js clients): the frame
 * link keeps at most its window of frames unacknowledged by the broker and the rest in order; `backlog()` says when
 * the waiting list passed its high mark and resolves at the low one; while the broker's uplink gate is closed, an
 * AP's frames are neither acknowledged nor passed on, and all of them are once it opens.
 */
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { apTopics, decodeFrame, encodeFrame, StatusCode, type Frame } from '#protocol';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/core/logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/transport/embedded-broker.js';
import { connectEdgeMqttClient } from '../../src/transport/mqtt-client.js';
import { MqttFrameLink } from '../../src/transport/mqtt-frame-link.js';
import { tempDir } from '../support/temp-dir.js';

const CHAIN = 'test';
const STORE = 's1';
const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ broker: EmbeddedBroker; edge: MqttClient; ap: MqttClient }> {
  const tmp = tempDir();
  cleanups.push(() => tmp.remove());
  const config = parseConfig({
    store: { chain: CHAIN, id: STORE },
    dataDir: tmp.dir,
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [{ username: 'ap-1', password: 'ap-1-password-xyz', role: 'ap', apId: 'AP-1' }] },
    http: { tokens: [{ name: 't', token: 'test-token-0123456789' }] },
  });
  const broker = await startEmbeddedBroker({ config, log, host: '127.0.0.1', port: 0, maxPacketBytes: 64 * 1024 });
  cleanups.push(() => broker.close());
  const edge = await connectEdgeMqttClient({ name: 'mqtt', url: broker.edgeUrl, ...broker.edgeCredentials, clientId: `esl-edge-${CHAIN}-${STORE}`, reconnectPeriodMs: 0, waitForConnect: true, log });
  cleanups.push(() => edge.endAsync(true));
  const ap = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { clientId: 'AP-1', username: 'ap-1', password: 'ap-1-password-xyz', clean: false, reconnectPeriod: 0, protocolVersion: 4 });
  cleanups.push(() => ap.endAsync(true));
  return { broker, edge, ap };
}

const ack = (seq: number): Frame => ({ version: 1, seq, ackRequested: false, message: { type: 'ACK', ackSeq: seq, status: StatusCode.OK } });

describe('AP downlink window and uplink gate (D98)', () => {
  it('keeps at most the window unacknowledged, sends every frame in order, and reports its backlog between the marks', async () => {
    const { edge, ap } = await setup();
    const got: number[] = [];
    ap.on('message', (_t, payload: Buffer) => {
      const r = decodeFrame(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength));
      if (r.ok) got.push(r.frame.seq);
    });
    await ap.subscribeAsync(apTopics(CHAIN, STORE, 'AP-1').down, { qos: 1 });
    const link = new MqttFrameLink(edge, CHAIN, STORE, log, 4, { high: 20, low: 5 });
    await link.start({ frame: () => undefined, linkDown: () => undefined });
    const outgoing = edge as unknown as { outgoing: Record<number, unknown> };
    let maxUnacked = 0;
    let maxInFlight = 0;
    const sends: Promise<void>[] = [];
    let gate: Promise<void> | null = null;
    for (let seq = 1; seq <= 60; seq++) {
      sends.push(link.send('AP-1', ack(seq)));
      maxUnacked = Math.max(maxUnacked, Object.keys(outgoing.outgoing).length);
      maxInFlight = Math.max(maxInFlight, link.downlink.inFlight);
      if (seq < 24) expect(link.backlog()).toBeNull();
      if (seq === 30) gate = link.backlog();
    }
    expect(link.downlink).toEqual({ inFlight: 4, waiting: 56 });
    expect(gate).not.toBeNull();
    let opened = false;
    void gate!.then(() => (opened = true));
    await Promise.all(sends);
    expect(opened).toBe(true);
    expect(maxInFlight).toBe(4);
    expect(maxUnacked).toBeLessThanOrEqual(4);
    expect(link.downlink).toEqual({ inFlight: 0, waiting: 0 });
    expect(link.backlog()).toBeNull();
    await new Promise<void>((r) => {
      const t = setInterval(() => got.length === 60 && (clearInterval(t), r()), 10);
    });
    expect(got).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    await link.stop();
  });

  it('a frame that cannot be encoded fails its send, not the caller', async () => {
    const { edge } = await setup();
    const link = new MqttFrameLink(edge, CHAIN, STORE, log);
    await expect(link.send('AP-1', { ...ack(1), seq: 70_000 })).rejects.toThrow(/seq/);
  });

  it("holds an AP's frames while the uplink gate is closed and passes every one on once it opens", async () => {
    const { broker, edge, ap } = await setup();
    const seen: number[] = [];
    const link = new MqttFrameLink(edge, CHAIN, STORE, log);
    await link.start({
      frame: (_l, _ap, r) => {
        if (r.ok) seen.push(r.frame.seq);
      },
      linkDown: () => undefined,
    });
    let open!: () => void;
    const closed = new Promise<void>((r) => (open = r));
    let gateOpen = false;
    broker.setUplinkGate(() => (gateOpen ? null : closed));
    const up = apTopics(CHAIN, STORE, 'AP-1').up;
    let acked = 0;
    const pubs = Array.from({ length: 10 }, (_, i) =>
      ap.publishAsync(up, Buffer.from(encodeFrame({ ...ack(i + 1), ackRequested: true })), { qos: 1 }).then(() => acked++),
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual([]);
    expect(acked).toBe(0);
    gateOpen = true;
    open();
    await Promise.all(pubs);
    await new Promise<void>((r) => {
      const t = setInterval(() => seen.length === 10 && (clearInterval(t), r()), 10);
    });
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(acked).toBe(10);
    await link.stop();
  });
});
