import { afterEach, describe, expect, it } from 'vitest';
import {
  ApCapability,
  BLANK_HASH,
  Sensor,
  ImageEncoding,
  ImageKind,
  StatusCode,
  WakeReason,
  encodeImage,
} from '#protocol';
import { imageBeginMessage } from '#protocol';
import { runVirtual, runVirtualUntil } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A, LABEL_B, LABEL_C, startStore, type StoreFixture } from './store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('simulated AP towards the edge', () => {
  it('announces itself, takes EDGE_HELLO, sends heartbeats and forwards check-ins by the rule', async () => {
    fx = await startStore({ startSpreadMs: 1_000, edge: { heartbeatIntervalS: 30, checkinReportIntervalS: 120 } });
    const { edge, clock } = fx;
    const hello = edge.messages('AP_HELLO', 'AP-1')[0]!;
    expect(hello).toMatchObject({ apId: 'AP-1', protoMin: 1, protoMax: 1, queueCapacity: 64, maxBlockSize: 4096 });
    for (const cap of [ApCapability.TIMED_DISPLAY, ApCapability.DELTA_XOR, ApCapability.DELTA_REGION, ApCapability.LED, ApCapability.ZLIB, ApCapability.RLE]) {
      expect(hello.capabilities & cap).toBe(cap);
    }
    expect(edge.received.find((r) => r.frame.message.type === 'AP_HELLO')!.frame.version).toBe(1);
    expect(edge.statuses.get('AP-1')).toBe('online');

    await runVirtual(clock, 65_000);
    const beats = edge.messages('AP_HEARTBEAT', 'AP-1');
    expect(beats.length).toBe(2);
    expect(beats[0]).toMatchObject({ queueDepth: 0, queueCapacity: 64 });

    // First contact: forwarded at once, with BOOT and a blank display.
    const first = edge.messages('LABEL_CHECKIN', 'AP-1');
    expect(first.length).toBe(1);
    expect(first[0]).toMatchObject({ labelId: LABEL_A, labelType: 3, displayedHash: BLANK_HASH, wakeReason: WakeReason.BOOT, pendingTransferId: 0 });
    expect(first[0]!.rssi).toBeLessThan(-40);
    expect(first[0]!.rssi).toBeGreaterThan(-70);

    // Unchanged TIMER check-ins are forwarded once per report interval (120 s), though the label wakes every ~30 s.
    await runVirtual(clock, 240_000, 2_000);
    expect(fx.sim.labelStats(LABEL_A)!.wakeUps).toBeGreaterThanOrEqual(9);
    const reports = edge.received.filter((r) => r.frame.message.type === 'LABEL_CHECKIN');
    expect(reports.length).toBe(3);
    expect((reports[1]!.frame.message as { wakeReason: number }).wakeReason).toBe(WakeReason.TIMER);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]!.at - reports[i - 1]!.at).toBeGreaterThanOrEqual(120_000);
      expect(reports[i]!.at - reports[i - 1]!.at).toBeLessThan(120_000 + 36_000);
    }
  });

  it('ACKs every edge frame with the right status and re-ACKs duplicates without applying them twice', async () => {
    fx = await startStore({
      aps: [{ apId: 'AP-1', username: 'u', password: 'p', queueCapacity: 2 }],
      labels: [
        { labelId: LABEL_A, labelType: 3, apId: 'AP-1' },
        { labelId: LABEL_B, labelType: 3, apId: 'AP-1' },
        { labelId: LABEL_C, labelType: 3, apId: 'AP-1' },
      ],
    });
    const { edge } = fx;
    const t = labelType(3);
    const img = encodeImage({ labelType: t, target: testPlanes(t, 1), kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] });
    const begin = (transferId: number, labelId: string) => imageBeginMessage({ transferId, labelId, labelType: 3 }, img);
    expect(await edge.request('AP-1', begin(1, LABEL_A))).toBe(StatusCode.OK);
    expect(await edge.request('AP-1', begin(2, LABEL_B))).toBe(StatusCode.OK);
    // The store holds 2 staged transfers: a third label is refused, a newer transfer for a staged label replaces.
    expect(await edge.request('AP-1', begin(3, LABEL_C))).toBe(StatusCode.QUEUE_FULL);
    expect(await edge.request('AP-1', begin(4, LABEL_B))).toBe(StatusCode.OK);
    expect(fx.sim.apStats('AP-1').staged).toBe(2);
    // §4.3 the replaced transfer ends with TRANSFER_RESULT CANCELLED.
    const cancelled = await edge.waitFor((r) => r.frame.message.type === 'TRANSFER_RESULT');
    expect(cancelled.frame.message).toMatchObject({ transferId: 2, labelId: LABEL_B, status: StatusCode.CANCELLED, displayedHash: BLANK_HASH });

    expect(await edge.request('AP-1', { type: 'IMAGE_BLOCK', transferId: 99, blockIndex: 0, data: img.payload })).toBe(StatusCode.UNKNOWN_TRANSFER);
    expect(await edge.request('AP-1', { type: 'IMAGE_BLOCK', transferId: 1, blockIndex: 0, data: img.payload.subarray(1) })).toBe(StatusCode.INVALID_PARAMETER);
    expect(await edge.request('AP-1', { type: 'IMAGE_BLOCK', transferId: 1, blockIndex: 5, data: img.payload })).toBe(StatusCode.INVALID_PARAMETER);
    expect(await edge.request('AP-1', { ...begin(5, LABEL_A), labelType: 200 })).toBe(StatusCode.INVALID_PARAMETER);
    expect(await edge.request('AP-1', { ...begin(0, LABEL_A) })).toBe(StatusCode.INVALID_PARAMETER);
    expect(await edge.request('AP-1', { ...begin(6, LABEL_A), page: 4 })).toBe(StatusCode.INVALID_PARAMETER);
    expect(await edge.request('AP-1', { type: 'IMAGE_CANCEL', transferId: 2 })).toBe(StatusCode.UNKNOWN_TRANSFER);

    // A duplicate (same seq, as a QoS 1 redelivery or an edge retry) is ACKed again with the first status.
    const cancelSeq = edge.send('AP-1', { type: 'IMAGE_CANCEL', transferId: 4 });
    expect(await edge.ackOf('AP-1', cancelSeq)).toBe(StatusCode.OK);
    edge.send('AP-1', { type: 'IMAGE_CANCEL', transferId: 4 }, cancelSeq);
    const acks = await edge.waitForCount((r) => r.frame.message.type === 'ACK' && r.frame.message.ackSeq === cancelSeq, 2);
    expect(acks.map((a) => (a.frame.message as { status: number }).status)).toEqual([StatusCode.OK, StatusCode.OK]);
    expect(fx.sim.apStats('AP-1').ap.duplicatesIn).toBe(1);
    expect(fx.sim.apStats('AP-1').staged).toBe(1);
    const results = await edge.waitForCount((r) => r.frame.message.type === 'TRANSFER_RESULT', 2);
    expect(results.map((r) => r.frame.message)).toEqual([
      expect.objectContaining({ transferId: 2, status: StatusCode.CANCELLED }),
      expect.objectContaining({ transferId: 4, status: StatusCode.CANCELLED }),
    ]);

    // Commands queue per label and are refused beyond the per-label cap (8).
    for (let i = 0; i < 8; i++) {
      expect(await edge.request('AP-1', { type: 'LED_FLASH', labelId: LABEL_C, colour: 2, onMs: 100, offMs: 100, repeat: 3 })).toBe(StatusCode.OK);
    }
    expect(await edge.request('AP-1', { type: 'LED_FLASH', labelId: LABEL_C, colour: 2, onMs: 100, offMs: 100, repeat: 3 })).toBe(StatusCode.QUEUE_FULL);
  });

  it('delivers one queued command per wake-up and reports READ_SENSOR from the next check-in', async () => {
    fx = await startStore({ startSpreadMs: 20_000 });
    const { edge, clock, sim } = fx;
    expect(await edge.request('AP-1', { type: 'LED_FLASH', labelId: LABEL_A, colour: 2, onMs: 100, offMs: 100, repeat: 3 })).toBe(StatusCode.OK);
    expect(await edge.request('AP-1', { type: 'READ_SENSOR', labelId: LABEL_A, sensor: Sensor.TEMPERATURE })).toBe(StatusCode.OK);
    expect(await edge.request('AP-1', { type: 'READ_SENSOR', labelId: LABEL_A, sensor: Sensor.LIGHT })).toBe(StatusCode.INVALID_PARAMETER);
    expect(await edge.request('AP-1', { type: 'PAGE_SWITCH', labelId: LABEL_A, page: 1, durationS: 0 })).toBe(StatusCode.OK);
    await runVirtualUntil(clock, () => sim.labelStats(LABEL_A)!.ledFlashes === 1, 60_000, 500);
    expect(sim.labelStats(LABEL_A)!.commandsExecuted).toBe(1);
    // Now the AP knows the label (2.9" BWR: 4 pages, LED) and checks commands against its type.
    expect(await edge.request('AP-1', { type: 'PAGE_SWITCH', labelId: LABEL_A, page: 4, durationS: 0 })).toBe(StatusCode.INVALID_PARAMETER);
    await runVirtualUntil(clock, () => sim.label(LABEL_A).display.page === 1, 120_000, 500);
    const sensor = await (async () => {
      await runVirtualUntil(clock, () => edge.messages('SENSOR_VALUE').length > 0, 60_000, 500);
      return edge.messages('SENSOR_VALUE')[0]!;
    })();
    // §4.6 temperature in 0.01 °C; the reference model's labels are at 21 °C.
    expect(sensor).toMatchObject({ labelId: LABEL_A, sensor: Sensor.TEMPERATURE, value: 2100 });
    // The page switch refreshed the panel; the next check-in reports page 1 at once (page changed).
    await runVirtualUntil(clock, () => edge.messages('LABEL_CHECKIN').some((c) => c.page === 1), 60_000, 500);
    expect(sim.groundTruth(LABEL_A)!.page).toBe(1);
  });
});
