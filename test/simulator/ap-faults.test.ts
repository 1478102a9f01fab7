import { afterEach, describe, expect, it } from 'vitest';
import { BLANK_HASH, ImageKind, StatusCode, WakeReason, encodeImage, type MessageOf } from '#protocol';
import { runVirtual, runVirtualUntil } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A, LABEL_B, LABEL_C, startStore, type StoreFixture } from './store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const twoAps = [
  { apId: 'AP-1', username: 'ap-1', password: 'x' },
  { apId: 'AP-2', username: 'ap-2', password: 'y' },
];

describe('AP faults', () => {
  it('power loss: the broker publishes the will, labels roam to a neighbour AP, the AP comes back empty and says hello', async () => {
    fx = await startStore({
      aps: twoAps,
      labels: [
        { labelId: LABEL_A, labelType: 3, apId: 'AP-1', neighbourApId: 'AP-2' },
        { labelId: LABEL_B, labelType: 3, apId: 'AP-1' },
      ],
      startSpreadMs: 60_000,
    });
    const { edge, clock, sim } = fx;
    expect(edge.statuses.get('AP-1')).toBe('online');
    const t = labelType(3);
    const image = encodeImage({ labelType: t, target: testPlanes(t, 1), kinds: [ImageKind.FULL] });
    expect(await edge.stage('AP-1', { transferId: 5, labelId: LABEL_B, labelType: 3, image })).toContain(StatusCode.OK);
    expect(sim.apStats('AP-1').staged).toBe(1);

    await sim.setApOnline('AP-1', false);
    await runVirtualUntil(clock, () => edge.statuses.get('AP-1') === 'offline', 1_000, 100);
    expect(sim.apStats('AP-1').staged).toBe(0);

    await runVirtual(clock, 70_000, 2_000);
    // Label A is heard by AP-2 (weaker signal, first contact there); label B reaches nobody.
    const roamed = edge.messages('LABEL_CHECKIN', 'AP-2').filter((c) => c.labelId === LABEL_A);
    expect(roamed.length).toBeGreaterThanOrEqual(1);
    expect(roamed[0]!.rssi).toBeLessThan(-70);
    expect([WakeReason.BOOT, WakeReason.FIRST_CONTACT]).toContain(roamed[0]!.wakeReason);
    expect(sim.labelStats(LABEL_B)!.missedExchanges).toBeGreaterThanOrEqual(1);
    expect(sim.groundTruth(LABEL_B)!.hash).toBe(BLANK_HASH);

    const hellosBefore = edge.messages('AP_HELLO', 'AP-1').length;
    const homeBefore = edge.messages('LABEL_CHECKIN', 'AP-1').length;
    await sim.setApOnline('AP-1', true);
    await edge.waitForCount((r) => r.apId === 'AP-1' && r.frame.message.type === 'AP_HELLO', hellosBefore + 1);
    await runVirtualUntil(clock, () => edge.statuses.get('AP-1') === 'online', 1_000, 100);
    await runVirtual(clock, 70_000, 2_000);
    // Back home: a first contact at AP-1 again; AP-1 forgot the transfer (the edge must stage it anew).
    const home = edge.messages('LABEL_CHECKIN', 'AP-1').slice(homeBefore).filter((c) => c.labelId === LABEL_A);
    expect(home[0]!.wakeReason).toBe(WakeReason.FIRST_CONTACT);
    const beat = edge.messages('AP_HEARTBEAT', 'AP-1').at(-1)!;
    expect(beat.queueDepth).toBe(0);
    expect(beat.uptimeS).toBeLessThan(75);
  });

  it('network loss: the radio keeps working, check-ins wait, and unacknowledged ones are sent again after EDGE_HELLO', async () => {
    fx = await startStore({ labels: [{ labelId: LABEL_C, labelType: 3, apId: 'AP-1' }], startSpreadMs: 1_000 });
    const { edge, clock, sim } = fx;
    await runVirtualUntil(clock, () => edge.messages('LABEL_CHECKIN').length === 1, 5_000, 100);
    // The edge stops acknowledging; the next forwarded check-in stays unacknowledged.
    edge.autoAck = false;
    sim.rebootLabel(LABEL_C);
    await runVirtualUntil(clock, () => edge.messages('LABEL_CHECKIN').length === 2, 5_000, 100);
    const unacked = edge.received.filter((r) => r.frame.message.type === 'LABEL_CHECKIN')[1]!;

    await sim.setApOnline('AP-1', false, 'network');
    edge.autoAck = true;
    sim.rebootLabel(LABEL_C); // checks in BOOT while the uplink is down: the AP keeps it
    await runVirtual(clock, 5_000, 500);
    expect(sim.labelStats(LABEL_C)!.wakeUps).toBeGreaterThanOrEqual(3);
    expect(edge.messages('LABEL_CHECKIN').length).toBe(2);

    await sim.setApOnline('AP-1', true, 'network');
    const checkins = await edge.waitForCount((r) => r.frame.message.type === 'LABEL_CHECKIN', 4);
    const [again, buffered] = checkins.slice(2);
    // The unacknowledged check-in comes again as a new frame (new seq), then the one buffered while offline.
    expect(again!.frame.message).toEqual(unacked.frame.message);
    expect(again!.frame.seq).not.toBe(unacked.frame.seq);
    expect((buffered!.frame.message as MessageOf<'LABEL_CHECKIN'>).wakeReason).toBe(WakeReason.BOOT);
    expect(sim.apStats('AP-1').ap.resent).toBe(1);
    // Both came after the new AP_HELLO.
    const helloIndex = edge.received.findLastIndex((r) => r.frame.message.type === 'AP_HELLO');
    expect(edge.received.indexOf(again!)).toBeGreaterThan(helloIndex);
  });
});
