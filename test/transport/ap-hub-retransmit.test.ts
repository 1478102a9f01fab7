/**
 * §7.3 ACK timeouts and retransmission run on the injected clock (D6, D22): driven by a ManualClock, with no host
 * time passing, an unreliable link (serial) gets the same frame (same seq) again after 2, 4, 8, 16, 32 s, and the
 * send is given up with AP_ACK_TIMEOUT after the last wait (64 s); an ACK settles it and stops the retransmissions;
 * a reliable link (MQTT QoS 1) gets one ACK timeout and no retransmission.
 */
import { describe, expect, it } from 'vitest';
import { ApHub } from '../../src/transport/ap-hub.js';
import type { FrameLink, FrameSink } from '../../src/transport/frame-link.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { EdgeError, EdgeErrorCode } from '#contracts';
import { StatusCode, decodeFrame, encodeFrame, type Frame, type Message } from '#protocol';
import type { ApInbound } from '../../src/domain/ports.js';

class MemoryLink implements FrameLink {
  readonly name = 'memory';
  sink: FrameSink | null = null;
  sent: Frame[] = [];
  constructor(readonly reliable: boolean) {}
  async start(sink: FrameSink) {
    this.sink = sink;
  }
  async send(_apId: string, frame: Frame) {
    this.sent.push(frame);
  }
  async stop() {}
  fromAp(apId: string, frame: Frame) {
    this.sink!.frame(this, apId, decodeFrame(encodeFrame(frame)));
  }
}

const inbound: ApInbound = {
  apHello: async () => undefined,
  apHeartbeat: async () => undefined,
  apOffline: async () => undefined,
  labelCheckin: async () => StatusCode.OK,
  transferResult: async () => StatusCode.OK,
  sensorValue: async () => StatusCode.OK,
};
const hello: Frame = { version: 1, seq: 1, ackRequested: false, message: { type: 'AP_HELLO', apId: 'AP-9', fwVersion: '1.0.0', protoMin: 1, protoMax: 1, capabilities: 0xff, channel: 11, queueCapacity: 8, maxBlockSize: 4096 } };
const ping: Message = { type: 'LABEL_COMMAND', labelId: '0000AABBCC000001', command: 0 };
/** Lets the hub's promise continuations run; no clock moves. */
const settle = () => new Promise<void>((r) => setImmediate(r));

async function connectedHub(reliable: boolean) {
  const clock = new ManualClock(1_000_000);
  const link = new MemoryLink(reliable);
  // random() = 0.5: no jitter, waits of exactly 2, 4, 8, 16, 32, 64 s (§7.3).
  const hub = new ApHub({ links: [link], clock, random: () => 0.5, log: createLogger({ level: 'silent' }), ackTimeoutMs: 5_000, heartbeatIntervalS: 3_600, checkinReportIntervalS: 60 });
  await hub.start(inbound);
  link.fromAp('AP-9', hello);
  await settle();
  expect(hub.isOnline('AP-9')).toBe(true);
  link.sent = [];
  return { clock, link, hub };
}

describe('AP hub ACK timeouts on the injected clock', () => {
  it('retransmits the same frame on an unreliable link at 2, 4, 8, 16, 32 s, then gives up', async () => {
    const { clock, link, hub } = await connectedHub(false);
    const outcome = hub.send('AP-9', ping).then(
      (status) => ({ status }),
      (err: unknown) => ({ err }),
    );
    expect(link.sent).toHaveLength(1);
    const seq = link.sent[0]!.seq;
    const waits = [2_000, 4_000, 8_000, 16_000, 32_000];
    for (const [k, wait] of waits.entries()) {
      clock.advance(wait - 1);
      expect(link.sent, `no retransmission before ${wait} ms`).toHaveLength(k + 1);
      clock.advance(1);
      expect(link.sent).toHaveLength(k + 2);
    }
    expect(new Set(link.sent.map((f) => f.seq))).toEqual(new Set([seq]));
    expect(hub.counters.retransmits).toBe(5);
    // The last wait is 64 s; then AP_ACK_TIMEOUT, and nothing more is sent.
    clock.advance(63_999);
    await settle();
    let done = false;
    void outcome.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    const r = await outcome;
    expect('err' in r && r.err instanceof EdgeError && r.err.code).toBe(EdgeErrorCode.AP_ACK_TIMEOUT);
    clock.advance(600_000);
    expect(link.sent).toHaveLength(6);
    await hub.stop();
  });

  it('stops retransmitting once the ACK arrives', async () => {
    const { clock, link, hub } = await connectedHub(false);
    const sent = hub.send('AP-9', ping);
    clock.advance(2_000);
    expect(link.sent).toHaveLength(2);
    const seq = link.sent[0]!.seq;
    link.fromAp('AP-9', { version: 1, seq: 2, ackRequested: false, message: { type: 'ACK', ackSeq: seq, status: StatusCode.OK } });
    expect(await sent).toBe(StatusCode.OK);
    clock.advance(600_000);
    expect(link.sent).toHaveLength(2);
    expect(hub.counters.retransmits).toBe(1);
    await hub.stop();
  });

  it('waits one ACK timeout on a reliable link, without retransmitting', async () => {
    const { clock, link, hub } = await connectedHub(true);
    const outcome = hub.send('AP-9', ping).catch((err: unknown) => err);
    clock.advance(4_999);
    await settle();
    expect(link.sent).toHaveLength(1);
    clock.advance(1);
    const err = await outcome;
    expect(err instanceof EdgeError && err.code).toBe(EdgeErrorCode.AP_ACK_TIMEOUT);
    expect(link.sent).toHaveLength(1);
    expect(hub.counters.retransmits).toBe(0);
    await hub.stop();
  });
});
