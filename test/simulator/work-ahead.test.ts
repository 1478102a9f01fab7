/**
 * §4.9 WORK_AHEAD on the simulated AP: a listed label that checks in with nothing waiting is told to come back at its
 * appointment (RADIO_SLEEP nextWakeS, seen in the wake report, §5.6) instead of after the normal sleep; an
 * appointment a full sleep or more away waits for a later check-in; a label with a transfer waiting is served and its
 * appointment dropped; an AP without the capability refuses the frame. Virtual time throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApCapability, ImageEncoding, ImageKind, StatusCode, encodeImage } from '#protocol';
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

  it('an AP announces WORK_AHEAD (bit 13) only when it keeps appointments, and refuses the frame otherwise', async () => {
    fx = await startStore();
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & ApCapability.WORK_AHEAD).toBe(1 << 13);
    await fx.close();
    fx = await startStore({ radio: { apWorkAhead: false } });
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & ApCapability.WORK_AHEAD).toBe(0);
    expect(await fx.edge.request('AP-1', { type: 'WORK_AHEAD', entries: [{ labelId: LABEL_A, inMs: 5_000 }] })).toBe(StatusCode.UNSUPPORTED_FEATURE);
  });
});
