/**
 * §5.2 heartbeat supervision: an AP whose link stays up but that stops talking (hung firmware on USB) is declared
 * lost after three missed heartbeats. Driven by a manual clock; the carrier is an in-memory FrameLink (the real
 * carriers, MQTT and serial, are tested in their own files).
 */
import { describe, expect, it } from 'vitest';
import { ApHub } from '../../src/transport/ap-hub.js';
import type { FrameLink, FrameSink } from '../../src/transport/frame-link.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { StatusCode, decodeFrame, encodeFrame, type Frame } from '#protocol';
import type { ApInbound } from '../../src/domain/ports.js';

class MemoryLink implements FrameLink {
  readonly name = 'memory';
  readonly reliable = true;
  sink: FrameSink | null = null;
  sent: Frame[] = [];
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

describe('AP heartbeat supervision', () => {
  it('declares an AP lost after three missed heartbeats, and back on its next hello', async () => {
    const clock = new ManualClock(1_000_000);
    const offline: string[] = [];
    const hellos: string[] = [];
    const inbound: ApInbound = {
      apHello: async (apId) => void hellos.push(apId),
      apHeartbeat: async () => undefined,
      apOffline: async (apId) => void offline.push(apId),
      labelCheckin: async () => StatusCode.OK,
      transferResult: async () => StatusCode.OK,
      sensorValue: async () => StatusCode.OK,
    };
    const link = new MemoryLink();
    const hub = new ApHub({ links: [link], clock, random: () => 0.5, log: createLogger({ level: 'silent' }), ackTimeoutMs: 1000, heartbeatIntervalS: 10, checkinReportIntervalS: 60 });
    await hub.start(inbound);
    const hello: Frame = { version: 1, seq: 1, ackRequested: false, message: { type: 'AP_HELLO', apId: 'AP-9', fwVersion: '1.0.0', protoMin: 1, protoMax: 1, capabilities: 0xff, channel: 11, queueCapacity: 8, maxBlockSize: 4096 } };
    link.fromAp('AP-9', hello);
    await new Promise((r) => setTimeout(r, 10));
    expect(hub.isOnline('AP-9')).toBe(true);
    const hb = (seq: number): Frame => ({ version: 1, seq, ackRequested: false, message: { type: 'AP_HEARTBEAT', uptimeS: seq, queueDepth: 0, queueCapacity: 8, channel: 11, labelsSeen: 0 } });
    // Heartbeats every 10 s keep it online.
    for (let i = 2; i < 8; i++) {
      clock.advance(10_000);
      link.fromAp('AP-9', hb(i));
    }
    expect(offline).toEqual([]);
    // Then silence: lost once more than 30 s passed since the last frame.
    clock.advance(30_000);
    expect(offline).toEqual([]);
    clock.advance(10_000);
    expect(offline).toEqual(['AP-9']);
    expect(hub.isOnline('AP-9')).toBe(false);
    clock.advance(60_000);
    expect(offline).toEqual(['AP-9']); // reported once
    link.fromAp('AP-9', { ...hello, seq: 100 });
    await new Promise((r) => setTimeout(r, 10));
    expect(hub.isOnline('AP-9')).toBe(true);
    expect(hellos).toEqual(['AP-9', 'AP-9']);
    await hub.stop();
  });
});
