/**
 * §9.1.1 hold and §9.11 RADIO_WAIT on the simulated AP and labels: a label that wakes to a busy channel, when its
 * transfer can start within the AP's apHoldMaxMs, is told RADIO_WAIT and kept listening; the AP starts its transfer
 * the moment the channel frees, so short transfers follow each other without the gap a deferral (whole seconds of
 * sleep) leaves. Labels that do not announce LabelDecoder.WAIT, and APs with the hold off, defer as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApCapability, ImageEncoding, ImageKind, LabelDecoder, StatusCode, encodeImage } from '#protocol';
import { runVirtualUntil } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { startStore, type StoreFixture } from './store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const t29 = labelType(3);
const NO_WAIT = LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX | LabelDecoder.OFFER;

interface Run {
  spans: (readonly [number, number])[];
  radio: ReturnType<StoreFixture['sim']['apStats']>['radio'];
  waits: Map<string, number>;
  /** Wake-ups each label's transfer took. */
  attempts: Map<string, number>;
}

/**
 * 40 labels that wake within 200 ms, each given a small zlib image (about 0.1–0.2 s of air) just after: at their
 * next wake-up (27–33 s later, ±10 %) they crowd the channel. Runs until every panel shows its image.
 */
async function crowd(apHoldMaxMs: number | undefined, decodersOf: (i: number) => number | undefined, faults?: (sim: StoreFixture['sim']) => void): Promise<Run> {
  const labels = Array.from({ length: 40 }, (_, i) => `00BD0000000000${String(i).padStart(2, '0')}`);
  fx = await startStore({
    labels: labels.map((labelId, i) => ({ labelId, labelType: 3, apId: 'AP-1', decoders: decodersOf(i) })),
    startSpreadMs: 200,
    radio: apHoldMaxMs === undefined ? {} : { apHoldMaxMs },
  });
  faults?.(fx.sim);
  const images = labels.map((labelId, i) => ({
    labelId,
    image: encodeImage({ labelType: t29, target: testPlanes(t29, 60 + i), kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] }),
  }));
  for (const [i, { labelId, image }] of images.entries()) {
    expect(await fx.edge.stage('AP-1', { transferId: 300 + i, labelId, labelType: 3, image })).toContain(StatusCode.OK);
  }
  const sim = fx.sim;
  await runVirtualUntil(fx.clock, () => images.every(({ labelId, image }) => sim.groundTruth(labelId)!.hash === image.targetHash), 300_000, 500);
  const spans = labels
    .map((id) => sim.transferStats(id).find((l) => l.finishedAt !== undefined)!)
    .map((l) => [l.startedAt, l.finishedAt!] as const)
    .sort((a, b) => a[0] - b[0]);
  return {
    spans,
    radio: { ...sim.apStats('AP-1').radio },
    waits: new Map(labels.map((id) => [id, sim.labelStats(id)!.radioWaits])),
    attempts: new Map(labels.map((id) => [id, sim.transferStats(id).find((l) => l.finishedAt !== undefined)!.wakeUps])),
  };
}

const span = (r: Run) => r.spans.at(-1)![1] - r.spans[0]![0];

describe('§9.1.1 hold with RADIO_WAIT (§9.11)', () => {
  it('held labels start the moment the channel frees: the crowd finishes sooner than with deferrals alone', async () => {
    const held = await crowd(undefined, () => undefined);
    await fx!.close();
    fx = undefined;
    const deferredOnly = await crowd(0, () => undefined);

    expect(held.radio.holds).toBeGreaterThan(5);
    expect(held.radio.startsAfterHold).toBeGreaterThan(5);
    // Every label that was held heard RADIO_WAIT; a label listens at most once per wake-up.
    expect([...held.waits.values()].reduce((a, b) => a + b, 0)).toBe(held.radio.holds);
    // A held label waited no longer than the AP's cap plus the slack it told (2 × 250 ms) on average.
    expect(held.radio.holdWaitMsSum / held.radio.startsAfterHold).toBeLessThanOrEqual(500);
    // One transfer at a time on the channel (§9.1), held ones included.
    for (let i = 1; i < held.spans.length; i++) expect(held.spans[i]![0]).toBeGreaterThanOrEqual(held.spans[i - 1]![1]);

    expect(deferredOnly.radio.holds).toBe(0);
    expect([...deferredOnly.waits.values()].every((n) => n === 0)).toBe(true);
    expect(deferredOnly.radio.deferrals).toBeGreaterThan(held.radio.deferrals);
    // The gain the hold exists for: the same crowd, same seed, done sooner.
    expect(span(held)).toBeLessThan(span(deferredOnly));
  });

  it('labels that do not announce LabelDecoder.WAIT are deferred, never held, and converge beside held ones', async () => {
    const r = await crowd(undefined, (i) => (i % 2 === 0 ? NO_WAIT : undefined));
    expect(r.radio.holds).toBeGreaterThan(0);
    const ids = [...r.waits.keys()];
    for (const [i, id] of ids.entries()) if (i % 2 === 0) expect(r.waits.get(id)).toBe(0);
    expect(r.radio.deferrals).toBeGreaterThan(0);
  });

  it('§9.1 step 5: a held label whose offer is lost gets it again 50 ms later, in the same wake-up, with no silence on the channel', async () => {
    // The first offer after a RADIO_WAIT goes to the label held first (the channel was busy, so no other transfer
    // starts before it): lose exactly that frame.
    let waited = false;
    const r = await crowd(undefined, () => undefined, (sim) =>
      sim.loseNextFrames((m) => {
        if (m.type === 'RADIO_WAIT') waited = true;
        return waited && m.type === 'RADIO_OFFER';
      }),
    );
    expect(r.radio.holds).toBeGreaterThan(0);
    expect(r.radio.offersRepeated).toBe(1);
    // Before the repeat the AP waited its whole silence window (200 ms) and ended the attempt; the held label, which
    // cannot know its offer was lost, listened out its wait and checked in again.
    expect(r.radio.holderSilences).toBe(0);
    expect(r.radio.transfersTimedOut).toBe(0);
    expect(r.radio.transfersFinished).toBe(40);
    // Every transfer, the one whose offer was lost included, was done at the wake-up it started in.
    expect([...r.attempts.values()].every((n) => n === 1)).toBe(true);
    for (let i = 1; i < r.spans.length; i++) expect(r.spans[i]![0]).toBeGreaterThanOrEqual(r.spans[i - 1]![1]);
  });

  it('an AP announces capability RADIO_WAIT (bit 11) only when it holds labels', async () => {
    fx = await startStore();
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & ApCapability.RADIO_WAIT).toBe(1 << 11);
    await fx.close();
    fx = await startStore({ radio: { apHoldMaxMs: 0 } });
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & ApCapability.RADIO_WAIT).toBe(0);
  });
});
