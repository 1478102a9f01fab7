import { afterEach, describe, expect, it } from 'vitest';
import {
  BLANK_HASH,
  ImageEncoding,
  ImageKind,
  StatusCode,
  WakeReason,
  FRAME_OVERHEAD,
  RADIO_PART_OVERHEAD,
  bytesOnAir,
  contentHash,
  radioOfferHeaderBytes,
  encodeImage,
  type MessageOf,
} from '#protocol';
import type { TransferRadioStats } from '../../simulator/src/label-stats.js';
import { runVirtual, runVirtualUntil } from './edge-double.js';
import { changedRegion, labelType, testPlanes } from './images.js';
import { LABEL_A, startStore, type StoreFixture } from './store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const t29 = labelType(3);

function results(f: StoreFixture): MessageOf<'TRANSFER_RESULT'>[] {
  return f.edge.messages('TRANSFER_RESULT');
}

/** Stages a full image for LABEL_A and runs until the panel shows it. */
async function showFull(f: StoreFixture, planes: Uint8Array, transferId: number, encoding: number = ImageEncoding.ZLIB) {
  const image = encodeImage({ labelType: t29, target: planes, kinds: [ImageKind.FULL], encodings: [encoding as 0 | 1 | 2] });
  expect(await f.edge.stage('AP-1', { transferId, labelId: LABEL_A, labelType: 3, image })).toEqual(new Array(Math.ceil(image.payload.length / 4096) + 1).fill(StatusCode.OK));
  await runVirtualUntil(f.clock, () => f.sim.groundTruth(LABEL_A)!.hash === image.targetHash, 300_000);
  return image;
}

/** Every re-request of a block asks for exactly the parts of the previous request that did not arrive. */
function expectOnlyMissingReRequested(log: TransferRadioStats): number {
  let reRequests = 0;
  const last = new Map<number, { parts: number[]; received: number[] }>();
  for (const r of log.requests) {
    const prev = last.get(r.blockIndex);
    if (prev !== undefined) {
      reRequests++;
      expect(r.parts).toEqual(prev.parts.filter((p) => !prev.received.includes(p)));
    }
    last.set(r.blockIndex, r);
  }
  return reRequests;
}

describe('image transfer over the simulated radio', () => {
  it('delivers a full image: TRANSFER_RESULT OK, the panel shows it after the refresh, the next check-in reports it', async () => {
    fx = await startStore();
    const { edge, clock, sim } = fx;
    const planes = testPlanes(t29, 1);
    const image = encodeImage({ labelType: t29, target: planes, kinds: [ImageKind.FULL], encodings: [ImageEncoding.ZLIB] });
    expect(await edge.stage('AP-1', { transferId: 11, labelId: LABEL_A, labelType: 3, image })).toEqual([StatusCode.OK, StatusCode.OK]);
    expect(sim.apStats('AP-1').staged).toBe(1);

    await runVirtualUntil(clock, () => sim.transferStats(LABEL_A)[0]?.finishedAt !== undefined, 60_000, 200);
    // The label holds the image and refreshes (15 s for this panel); the panel still shows the old picture.
    expect(sim.groundTruth(LABEL_A)!.hash).toBe(BLANK_HASH);
    expect(sim.groundTruth(LABEL_A)!.reportedHash).toBe(image.targetHash);
    const result = (await edge.waitFor((r) => r.frame.message.type === 'TRANSFER_RESULT')).frame.message as MessageOf<'TRANSFER_RESULT'>;
    // §9.8 displayedHash is what the panel shows at this moment, before the refresh.
    expect(result).toMatchObject({ transferId: 11, labelId: LABEL_A, status: StatusCode.OK, displayedHash: BLANK_HASH });
    // §9.5 What the AP sent without losses: the parts (payload + 19 bytes each), part 0 inline in the RADIO_OFFER
    // (§9.10: the offer's frame and header instead of part 0's 19 bytes; 16 for a FULL image).
    const offerHeader = radioOfferHeaderBytes({ ...image, totalSize: image.payload.length, displayAt: 0, page: 0 });
    expect(offerHeader).toBe(16);
    expect(result.bytesOnAir).toBe(bytesOnAir(image.payload.length) - RADIO_PART_OVERHEAD + FRAME_OVERHEAD + offerHeader);
    expect(sim.apStats('AP-1').radio.offersSent).toBe(1);
    expect(sim.apStats('AP-1').staged).toBe(0);

    const waited = await runVirtualUntil(clock, () => sim.groundTruth(LABEL_A)!.hash === image.targetHash, 60_000, 200);
    expect(waited).toBeGreaterThanOrEqual(t29.fullRefreshMs - 400);
    const truth = sim.groundTruth(LABEL_A)!;
    expect(contentHash(truth.planes!)).toBe(image.targetHash);
    expect(truth).toMatchObject({ updates: 1, refreshes: 1 });
    // The label counts both directions: the AP's frames and its own block requests and RADIO_XFER_DONE.
    expect(truth.bytesOnAir).toBeGreaterThan(result.bytesOnAir);
    expect(sim.transferStats(LABEL_A)[0]!.bytesOnAir).toBe(truth.bytesOnAir);

    // The acknowledgement the edge audits: the next check-in reports the new hash.
    await runVirtual(clock, 40_000);
    const last = edge.messages('LABEL_CHECKIN').at(-1)!;
    expect(last).toMatchObject({ labelId: LABEL_A, displayedHash: image.targetHash, pendingTransferId: 0, wakeReason: WakeReason.TRANSFER_DONE });
  });

  it('under 30 % frame loss re-requests only the missing parts and completes', async () => {
    fx = await startStore({ radio: { frameLoss: 0.3 }, seed: 3 });
    // RAW: 9,472 bytes = 3 blocks of 42 + 42 + 13 parts, so losses are certain.
    const image = await showFull(fx, testPlanes(t29, 2), 21, ImageEncoding.RAW);
    const log = fx.sim.transferStats(LABEL_A).find((l) => l.transferId === 21)!;
    expect(log.status).toBe(StatusCode.OK);
    const reRequests = expectOnlyMissingReRequested(log);
    expect(reRequests).toBeGreaterThan(3);
    expect(log.partsReceived).toBe(97);
    expect(fx.sim.stats().framesLost).toBeGreaterThan(20);
    expect(fx.sim.groundTruth(LABEL_A)!.planes).toEqual(testPlanes(t29, 2));
    const result = await fx.edge.waitFor((r) => r.frame.message.type === 'TRANSFER_RESULT');
    expect(result.frame.message).toMatchObject({ status: StatusCode.OK, transferId: 21 });
    // What the AP put on air for the transfer (parts re-sent included; §9.12: block 0 unasked after the offer):
    // re-sending whole blocks would take ≥ 2× the payload's frames, sending only what is missing ≈ 1/(1 − 0.3).
    const sent = (result.frame.message as MessageOf<'TRANSFER_RESULT'>).bytesOnAir;
    expect(sent).toBeLessThan(1.8 * bytesOnAir(image.payload.length));
    expect((result.frame.message as MessageOf<'TRANSFER_RESULT'>).bytesOnAir).toBeGreaterThan(bytesOnAir(image.payload.length) * 1.2);
  });

  it('rejects corrupted frames (CRC) and gets the parts again', async () => {
    fx = await startStore({ radio: { corruption: 0.15 }, seed: 5 });
    await showFull(fx, testPlanes(t29, 3), 31, ImageEncoding.RAW);
    const log = fx.sim.transferStats(LABEL_A).find((l) => l.transferId === 31)!;
    expect(log.framesRejected).toBeGreaterThan(0);
    expect(fx.sim.labelStats(LABEL_A)!.framesRejected).toBeGreaterThanOrEqual(log.framesRejected);
    expect(fx.sim.stats().framesCorrupted).toBeGreaterThan(0);
    expectOnlyMissingReRequested(log);
    expect(fx.sim.groundTruth(LABEL_A)!.planes).toEqual(testPlanes(t29, 3));
  });

  it('survives duplicated radio frames (same seq dropped)', async () => {
    fx = await startStore({ radio: { duplication: 0.3 }, seed: 9 });
    await showFull(fx, testPlanes(t29, 4), 41, ImageEncoding.RAW);
    expect(fx.sim.radioStats().framesDuplicated).toBeGreaterThan(10);
    expect(fx.sim.labelStats(LABEL_A)!.framesDuplicate).toBeGreaterThan(0);
    expect(fx.sim.transferStats(LABEL_A)[0]!.partsDuplicate).toBe(0);
    expect(fx.sim.groundTruth(LABEL_A)!.updates).toBe(1);
  });

  it('applies DELTA_REGION (partial refresh) and DELTA_XOR over what the label shows, rebuilding the target exactly', async () => {
    fx = await startStore();
    const { edge, clock, sim } = fx;
    const base = testPlanes(t29, 1);
    await showFull(fx, base, 51);

    const target = changedRegion(t29, base, 1);
    const region = encodeImage({ labelType: t29, target, base, kinds: [ImageKind.DELTA_REGION] });
    expect(region.kind).toBe(ImageKind.DELTA_REGION);
    expect(region.payload.length).toBeLessThan(1000);
    expect(await edge.stage('AP-1', { transferId: 52, labelId: LABEL_A, labelType: 3, image: region })).toEqual([StatusCode.OK, StatusCode.OK]);
    await runVirtualUntil(clock, () => sim.transferStats(LABEL_A).some((l) => l.transferId === 52 && l.finishedAt !== undefined), 60_000, 100);
    // Partial refresh: 1 s instead of 15 s.
    const waited = await runVirtualUntil(clock, () => sim.groundTruth(LABEL_A)!.hash === region.targetHash, 5_000, 100);
    expect(waited).toBeLessThanOrEqual(t29.partialRefreshMs + 200);
    expect(sim.groundTruth(LABEL_A)!.planes).toEqual(target);

    const target2 = changedRegion(t29, target, 2);
    const xor = encodeImage({ labelType: t29, target: target2, base: target, kinds: [ImageKind.DELTA_XOR] });
    expect(await edge.stage('AP-1', { transferId: 53, labelId: LABEL_A, labelType: 3, image: xor })).toEqual([StatusCode.OK, StatusCode.OK]);
    await runVirtualUntil(clock, () => sim.groundTruth(LABEL_A)!.hash === xor.targetHash, 120_000);
    expect(sim.groundTruth(LABEL_A)!.planes).toEqual(target2);
    const statuses = results(fx).map((r) => [r.transferId, r.status]);
    expect(statuses).toEqual([
      [51, StatusCode.OK],
      [52, StatusCode.OK],
      [53, StatusCode.OK],
    ]);
  });

  it('answers BASE_MISMATCH for a delta whose base the label does not show, and the AP drops the transfer', async () => {
    fx = await startStore();
    const { edge, clock, sim } = fx;
    const shown = testPlanes(t29, 1);
    await showFull(fx, shown, 61);
    const otherBase = testPlanes(t29, 5);
    const delta = encodeImage({ labelType: t29, target: changedRegion(t29, otherBase, 3), base: otherBase, kinds: [ImageKind.DELTA_XOR] });
    await edge.stage('AP-1', { transferId: 62, labelId: LABEL_A, labelType: 3, image: delta });
    const r = await (async () => {
      await runVirtualUntil(clock, () => sim.apStats('AP-1').staged === 0, 120_000);
      return edge.waitFor((x) => x.frame.message.type === 'TRANSFER_RESULT' && x.frame.message.transferId === 62);
    })();
    expect(r.frame.message).toMatchObject({ status: StatusCode.BASE_MISMATCH, displayedHash: contentHash(shown) });
    expect(sim.groundTruth(LABEL_A)!.hash).toBe(contentHash(shown));
    expect(sim.groundTruth(LABEL_A)!.updates).toBe(1);
  });

  it('a rebooted label checks in with BOOT and BLANK_HASH while its panel keeps the old picture', async () => {
    fx = await startStore();
    const { edge, clock, sim } = fx;
    const image = await showFull(fx, testPlanes(t29, 1), 71);
    await runVirtual(clock, 40_000);
    const before = edge.messages('LABEL_CHECKIN').length;
    sim.rebootLabel(LABEL_A);
    await runVirtualUntil(clock, () => edge.messages('LABEL_CHECKIN').length > before, 10_000, 250);
    const boot = edge.messages('LABEL_CHECKIN').at(-1)!;
    expect(boot).toMatchObject({ labelId: LABEL_A, wakeReason: WakeReason.BOOT, displayedHash: BLANK_HASH });
    expect(sim.groundTruth(LABEL_A)!.hash).toBe(image.targetHash);
    expect(sim.groundTruth(LABEL_A)!.reportedHash).toBe(BLANK_HASH);
    // The edge re-sends the image; the label downloads it again and reports it.
    await edge.stage('AP-1', { transferId: 72, labelId: LABEL_A, labelType: 3, image });
    await runVirtualUntil(clock, () => sim.groundTruth(LABEL_A)!.reportedHash === image.targetHash, 120_000);
    expect(sim.groundTruth(LABEL_A)!.updates).toBe(2);
  });

  it('a transfer cut off by the awake-time limit stays staged and resumes at the next wake-up', async () => {
    // 9,472 raw bytes need about 2.4 s of air; the label may stay awake only 0.8 s per wake-up.
    fx = await startStore({ radio: { transferTimeoutMs: 800 } });
    const image = await showFull(fx, testPlanes(t29, 7), 91, ImageEncoding.RAW);
    const log = fx.sim.transferStats(LABEL_A).find((l) => l.transferId === 91)!;
    expect(log.wakeUps).toBeGreaterThanOrEqual(3);
    expect(fx.sim.labelStats(LABEL_A)!.transferTimeouts).toBe(log.wakeUps - 1);
    expect(fx.sim.groundTruth(LABEL_A)!.transferRetries).toBe(log.wakeUps - 1);
    // Resuming asks only for what is still missing (the parts the AP sent after the label fell asleep included).
    expectOnlyMissingReRequested(log);
    expect(log.partsReceived).toBe(97);
    // §9.10 Every RADIO_OFFER carries part 0 again; a resuming label already has it and asks for none of the others twice.
    expect(log.partsDuplicate).toBe(log.wakeUps - 1);
    const results91 = results(fx).filter((r) => r.transferId === 91);
    expect(results91).toEqual([expect.objectContaining({ status: StatusCode.OK })]);
    expect(fx.sim.groundTruth(LABEL_A)!.hash).toBe(image.targetHash);
  });

  it('gives a transfer up with TRANSFER_RESULT TIMEOUT after 10 wake-ups without completion', async () => {
    // 30 ms awake per transfer: never enough for 9,472 raw bytes.
    fx = await startStore({ radio: { transferTimeoutMs: 30 }, startSpreadMs: 1_000 });
    const image = encodeImage({ labelType: t29, target: testPlanes(t29, 8), kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] });
    await fx.edge.stage('AP-1', { transferId: 95, labelId: LABEL_A, labelType: 3, image });
    await runVirtualUntil(fx.clock, () => results(fx!).length > 0, 600_000, 5_000);
    expect(results(fx)[0]).toMatchObject({ transferId: 95, status: StatusCode.TIMEOUT, displayedHash: BLANK_HASH });
    expect(fx.sim.apStats('AP-1')).toMatchObject({ staged: 0, radio: { transfersStarted: 10 } });
    expect(fx.sim.labelStats(LABEL_A)!.transferTimeouts).toBe(10);
    expect(fx.sim.groundTruth(LABEL_A)!.hash).toBe(BLANK_HASH);
  });

  it('runs one transfer at a time per AP and sends waiting labels back to sleep briefly', async () => {
    const labels = ['00BB000000000001', '00BB000000000002', '00BB000000000003', '00BB000000000004'];
    fx = await startStore({ labels: labels.map((labelId) => ({ labelId, labelType: 3, apId: 'AP-1' })), startSpreadMs: 200 });
    const images = labels.map((labelId, i) => ({ labelId, image: encodeImage({ labelType: t29, target: testPlanes(t29, 10 + i), kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] }) }));
    for (const [i, { labelId, image }] of images.entries()) await fx.edge.stage('AP-1', { transferId: 100 + i, labelId, labelType: 3, image });
    const sim = fx.sim;
    await runVirtualUntil(fx.clock, () => images.every(({ labelId, image }) => sim.groundTruth(labelId)!.hash === image.targetHash), 120_000, 500);
    expect(sim.apStats('AP-1').radio.deferrals).toBeGreaterThan(0);
    const spans = labels.map((id) => sim.transferStats(id)[0]!).map((l) => [l.startedAt, l.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    // All four done well within one wake interval plus refresh: deferred labels came back early.
    expect(spans.at(-1)![1] - spans[0]![0]).toBeLessThan(20_000);
  });

  it.each(['pool', 'queue'] as const)('§9.1.1 deferral (%s): no label deferred for a whole sleep under load, the channel stays busy', async (apDeferral) => {
    // Twelve labels wake within 200 ms with a 2.4 s RAW transfer each: most are deferred, many of them again. An AP that
    // added a transfer's air time at every deferral would send the later ones away for ever longer, up to a sleep.
    const labels = Array.from({ length: 12 }, (_, i) => `00BC0000000000${String(i).padStart(2, '0')}`);
    fx = await startStore({ labels: labels.map((labelId) => ({ labelId, labelType: 3, apId: 'AP-1' })), startSpreadMs: 200, radio: { apDeferral } });
    const images = labels.map((labelId, i) => ({ labelId, image: encodeImage({ labelType: t29, target: testPlanes(t29, 40 + i), kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] }) }));
    for (const [i, { labelId, image }] of images.entries()) await fx.edge.stage('AP-1', { transferId: 200 + i, labelId, labelType: 3, image });
    const sim = fx.sim;
    await runVirtualUntil(fx.clock, () => images.every(({ labelId, image }) => sim.groundTruth(labelId)!.hash === image.targetHash), 240_000, 500);
    const spans = labels.map((id) => sim.transferStats(id).find((l) => l.finishedAt !== undefined)!).map((l) => [l.startedAt, l.finishedAt!] as const).sort((a, b) => a[0] - b[0]);
    const air = spans.reduce((n, [a, b]) => n + (b - a), 0);
    const radio = sim.apStats('AP-1').radio;
    expect(radio.deferrals).toBeGreaterThan(labels.length);
    // The channel stays busy: the twelve finish within their air time plus a little slack per transfer (whole-second
    // waits, ±10 % sleeps), well inside the normal 30 s sleep that an over-long deferral would cost.
    expect(spans.at(-1)![1] - spans[0]![0]).toBeLessThan(air + labels.length * 1_500);
    // A pool tells only the rest of the transfer on air (≤ 3 s for 2.4 s transfers); a queue also the ones ahead.
    if (apDeferral === 'pool') expect(radio.deferralSSum / radio.deferrals).toBeLessThanOrEqual(3);
    else expect(radio.deferralSSum / radio.deferrals).toBeGreaterThan(3);
  });

  it('timed display: stores the image, refreshes so the panel shows it from displayAt (§6.5.1), switches memory at displayAt', async () => {
    fx = await startStore();
    const { edge, clock, sim } = fx;
    const image = encodeImage({ labelType: t29, target: testPlanes(t29, 6), kinds: [ImageKind.FULL] });
    const displayAt = clock.now() + 120_000;
    await edge.stage('AP-1', { transferId: 81, labelId: LABEL_A, labelType: 3, image, displayAt });
    await runVirtualUntil(clock, () => results(fx!).some((r) => r.transferId === 81), 60_000, 250);
    expect(results(fx).find((r) => r.transferId === 81)!.status).toBe(StatusCode.OK);
    expect(clock.now()).toBeLessThan(displayAt);
    // Until displayAt the label shows and reports the old picture.
    await runVirtualUntil(clock, () => clock.now() >= displayAt - 1_000, 200_000);
    expect(sim.groundTruth(LABEL_A)!.hash).toBe(BLANK_HASH);
    expect(sim.groundTruth(LABEL_A)!.reportedHash).toBe(BLANK_HASH);
    // §6.5.1 The refresh started displayAt − 15 s: nothing legible, and the new price not shown, before displayAt.
    expect(sim.label(LABEL_A).display.refreshing).toBe(true);
    await runVirtualUntil(clock, () => sim.groundTruth(LABEL_A)!.hash === image.targetHash, 60_000, 50);
    expect(clock.now()).toBeGreaterThanOrEqual(displayAt);
    expect(clock.now()).toBeLessThan(displayAt + 1_000);
    expect(sim.groundTruth(LABEL_A)!.reportedHash).toBe(image.targetHash);
  });
});
