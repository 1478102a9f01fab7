/**
 * §4.9 WORK_AHEAD on the simulated AP: a listed label that checks in with nothing waiting is told to come back at its
 * appointment (RADIO_SLEEP nextWakeS, seen in the wake report, §5.6) instead of after the normal sleep; an
 * appointment a full sleep or more away waits for a later check-in; a label with a transfer waiting is served and its
 * appointment dropped; a check-in repeated within 1 s (the label missed the RADIO_SLEEP) is told the same appointment
 * (D154); an AP without the capability refuses the frame. Virtual time throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApCapability, ImageEncoding, ImageKind, PROTOCOL_VERSION, StatusCode, WakeReason, encodeFrame, encodeImage } from '#protocol';
import { runVirtualUntil, type Received } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A, startStore, type StoreFixture } from './store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** The label's wake-report entries so far, each with the edge time its sleep started. */
function sleeps(f: StoreFixture): { sleptAt: number; wokeAt: number; nextWakeS: number }[] {
  return f.edge.received
    .filter((r: Received) => r.frame.message.type === 'WAKE_REPORT')
    .flatMap((r) => {
      const m = r.frame.message as Extract<Received['frame']['message'], { type: 'WAKE_REPORT' }>;
      return m.entries.filter((e) => e.labelId === LABEL_A).map((e) => ({ sleptAt: r.at - e.agoMs, wokeAt: r.at - e.agoMs - e.awakeMs, nextWakeS: e.nextWakeS }));
    });
}

async function reporting(): Promise<StoreFixture> {
  const f = await startStore();
  expect(await f.edge.request('AP-1', { type: 'WAKE_REPORT_CONFIG', intervalMs: 200 })).toBe(StatusCode.OK);
  await runVirtualUntil(f.clock, () => sleeps(f).length >= 1, 60_000, 250);
  return f;
}

describe('§4.9 WORK_AHEAD on the simulated AP', () => {
  it('a listed label with nothing waiting comes back at its appointment, once', async () => {
    fx = await reporting();
    const f = fx;
    const first = sleeps(f)[0]!;
    expect(first.nextWakeS).toBe(30);
    // Its next wake is 27–33 s after that sleep began; the appointment 40 s after it: 7–13 s after that wake.
    const due = first.sleptAt + 40_000;
    expect(await f.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: due - f.clock.now() }] })).toBe(StatusCode.OK);
    await runVirtualUntil(f.clock, () => sleeps(f).length >= 3, 120_000, 250);
    const [, second, third] = sleeps(f);
    expect(Math.abs(second!.nextWakeS - (due - second!.sleptAt) / 1000)).toBeLessThanOrEqual(0.6);
    expect(second!.nextWakeS).toBeLessThan(15);
    // It came back at the appointment (the label's ±10 % jitter on the sleep told), and then slept normally.
    expect(Math.abs(third!.wokeAt - due)).toBeLessThanOrEqual(0.1 * second!.nextWakeS * 1000 + 600);
    expect(third!.nextWakeS).toBe(30);
    expect(f.sim.apStats('AP-1').radio.appointments).toBe(1);
  });

  it('an appointment a full sleep or more away waits for a later check-in; one already due is dropped', async () => {
    fx = await reporting();
    const f = fx;
    const first = sleeps(f)[0]!;
    // 62 s after the first sleep began: ≥ 29 s away at the next wake (kept), 26–35 s after it at the one after.
    const due = first.sleptAt + 62_000;
    expect(await f.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: due - f.clock.now() }] })).toBe(StatusCode.OK);
    await runVirtualUntil(f.clock, () => sleeps(f).length >= 3, 120_000, 250);
    const s = sleeps(f);
    expect(s[1]!.nextWakeS).toBe(30);
    expect(s[2]!.nextWakeS).toBeLessThan(30);
    expect(f.sim.apStats('AP-1').radio.appointments).toBe(1);

    // An appointment already past when the label checks in is dropped: the label sleeps normally.
    const past = f.clock.now() + 100;
    expect(await f.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: past - f.clock.now() }] })).toBe(StatusCode.OK);
    const n = s.length;
    await runVirtualUntil(f.clock, () => sleeps(f).length >= n + 2, 120_000, 250);
    expect(sleeps(f).slice(n + 1).every((e) => e.nextWakeS === 30)).toBe(true);
    expect(f.sim.apStats('AP-1').radio.appointmentsLate).toBe(1);
  });

  it('a label with a transfer waiting is served and its appointment dropped', async () => {
    fx = await reporting();
    const f = fx;
    const t29 = labelType(3);
    const image = encodeImage({ labelType: t29, target: testPlanes(t29, 5), kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] });
    expect(await f.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: 50_000 }] })).toBe(StatusCode.OK);
    expect(await f.edge.stage('AP-1', { transferId: 900, labelId: LABEL_A, labelType: 3, image })).toContain(StatusCode.OK);
    await runVirtualUntil(f.clock, () => f.sim.groundTruth(LABEL_A)!.hash === image.targetHash, 120_000, 250);
    const n = sleeps(f).length;
    await runVirtualUntil(f.clock, () => sleeps(f).length >= n + 2, 120_000, 250);
    expect(f.sim.apStats('AP-1').radio.appointments).toBe(0);
    expect(sleeps(f).slice(n).every((e) => e.nextWakeS === 30)).toBe(true);
  });

  it('a check-in repeated within the same wake-up (its RADIO_SLEEP was lost) is told the same appointment', async () => {
    fx = await reporting();
    const f = fx;
    // The label has just gone to sleep for ~30 s; the test checks in for it, as a label whose answer got lost does
    // (§9.1 step 5: a repeat is a new frame, so the AP's duplicate window does not catch it).
    const due = f.clock.now() + 10_000;
    expect(await f.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: due - f.clock.now() }] })).toBe(StatusCode.OK);
    const ap = f.sim.ap('AP-1').radio;
    let seq = 0x7000;
    const checkin = (): void =>
      ap.onLabelFrame(
        f.sim.label(LABEL_A),
        encodeFrame({
          version: PROTOCOL_VERSION,
          seq: seq++,
          ackRequested: false,
          message: { type: 'RADIO_CHECKIN', labelId: LABEL_A, labelType: 3, displayedHash: f.sim.groundTruth(LABEL_A)!.hash, page: 0, batteryMv: 3000, temperatureC: 20, wakeReason: WakeReason.TIMER },
        }),
      );
    const n = sleeps(f).length;
    checkin();
    await runVirtualUntil(f.clock, () => sleeps(f).length >= n + 1, 5_000, 50);
    checkin(); // 0.05–0.3 s later: the same wake-up
    await runVirtualUntil(f.clock, () => sleeps(f).length >= n + 2, 5_000, 50);
    const [told, again] = sleeps(f).slice(n);
    expect(told!.nextWakeS).toBe(Math.round((due - told!.sleptAt) / 1000));
    expect(told!.nextWakeS).toBeLessThan(30);
    expect(again!.nextWakeS).toBe(told!.nextWakeS);
    expect(f.sim.apStats('AP-1').radio.appointments).toBe(1);
    expect(f.sim.apStats('AP-1').radio.appointmentsRepeated).toBe(1);
    // The benchmark's straggler view (ApRadio.lastSleep) shows the appointment the repeat was told, though used up.
    expect(ap.lastSleep(LABEL_A)?.appointmentDue).toBe(due);
    // Over a second later it is a new wake-up: the appointment was used, the label sleeps normally.
    await f.clock.advance(1_200);
    checkin();
    await runVirtualUntil(f.clock, () => sleeps(f).length >= n + 3, 5_000, 50);
    expect(sleeps(f)[n + 2]!.nextWakeS).toBe(30);
  });

  it('an AP announces WORK_AHEAD (bit 13) only when it keeps appointments, and refuses the frame otherwise', async () => {
    fx = await startStore();
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & ApCapability.WORK_AHEAD).toBe(1 << 13);
    await fx.close();
    fx = await startStore({ radio: { apWorkAhead: false } });
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & ApCapability.WORK_AHEAD).toBe(0);
    expect(await fx.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: 5_000 }] })).toBe(StatusCode.UNSUPPORTED_FEATURE);
  });
});
