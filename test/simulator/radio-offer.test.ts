/**
 * Protocol §9.10 RADIO_OFFER over the simulated radio: a label that announces it (decoders bit 3) at an AP that
 * serves it gets the compact offer with part 0 inline; a payload of up to 99 bytes completes with the offer and
 * RADIO_XFER_DONE alone, a longer one asks only for the parts the offer did not carry. Labels or APs without it
 * keep RADIO_PENDING, and both kinds converge in one store, also under frame loss.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  BLOCK_SIZE,
  PART_SIZE,
  FRAME_OVERHEAD,
  ImageEncoding,
  ImageKind,
  LabelDecoder,
  RADIO_PART_OVERHEAD,
  StatusCode,
  bytesOnAir,
  encodeImage,
  exchangeCost,
  radioOfferHeaderBytes,
  type EncodedImage,
  type MessageOf,
} from '#protocol';
import { runVirtualUntil } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A, LABEL_B, LABEL_C, startStore, type StoreFixture } from './store-fixture.js';

let fx: StoreFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const t29 = labelType(3);
const CTX_LABEL = LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX;

/** `base` with `rows` rows of 8 pixels changed at byte column 20: a small price-like edit. */
function smallChange(base: Uint8Array, rows: number, seed: number): Uint8Array {
  const out = base.slice();
  const rowBytes = Math.ceil(t29.width / 8);
  for (let y = 70; y < 70 + rows; y++) for (let xb = 20; xb < 24; xb++) out[y * rowBytes + xb] = (y * 29 + xb * 53 + seed) & 0xff;
  return out;
}

function resultOf(f: StoreFixture, transferId: number): MessageOf<'TRANSFER_RESULT'> | undefined {
  return f.edge.messages('TRANSFER_RESULT').find((r) => r.transferId === transferId);
}

/** Stages `image` for `labelId` and runs until the edge has its TRANSFER_RESULT and the panel shows it. */
async function deliver(f: StoreFixture, labelId: string, transferId: number, image: EncodedImage): Promise<MessageOf<'TRANSFER_RESULT'>> {
  await f.edge.stage('AP-1', { transferId, labelId, labelType: 3, image });
  await runVirtualUntil(f.clock, () => resultOf(f, transferId) !== undefined && f.sim.groundTruth(labelId)!.hash === image.targetHash, 300_000, 200);
  return resultOf(f, transferId)!;
}

/** A FULL CTX image, then a CTX region delta over it; returns both. */
function images(seed: number, rows: number): { full: EncodedImage; delta: EncodedImage } {
  const base = testPlanes(t29, seed);
  const full = encodeImage({ labelType: t29, target: base, kinds: [ImageKind.FULL], encodings: [ImageEncoding.CTX] });
  const delta = encodeImage({ labelType: t29, target: smallChange(base, rows, seed), base, kinds: [ImageKind.DELTA_REGION], encodings: [ImageEncoding.CTX] });
  return { full, delta };
}

describe('RADIO_OFFER (§9.10) over the simulated radio', () => {
  it('a delta of up to 99 bytes completes with the offer and RADIO_XFER_DONE: no block request, no RADIO_PART', async () => {
    fx = await startStore();
    const { full, delta } = images(1, 2);
    await deliver(fx, LABEL_A, 1, full);
    expect(delta.payload.length).toBeLessThanOrEqual(99);
    const result = await deliver(fx, LABEL_A, 2, delta);
    expect(result.status).toBe(StatusCode.OK);
    const log = fx.sim.transferStats(LABEL_A).find((t) => t.transferId === 2)!;
    expect(log.requests).toEqual([]);
    expect(log.partsReceived).toBe(1);
    // What the AP sent: one frame, the offer with the whole payload (header 32: base hash and region present).
    const header = radioOfferHeaderBytes({ ...delta, totalSize: delta.payload.length, displayAt: 0, page: 0 });
    expect(header).toBe(32);
    expect(result.bytesOnAir).toBe(FRAME_OVERHEAD + header + delta.payload.length);
    // Both directions: the offer and RADIO_XFER_DONE, as the §9.5 exchange formula says.
    const cost = exchangeCost({ ...delta, totalSize: delta.payload.length, displayAt: 0, page: 0 }, true);
    expect(cost.frames).toBe(2);
    expect(log.bytesOnAir).toBe(cost.bytes);
  });

  it('a longer payload, AP of before §9.12: part 0 inline, the label asks only for the parts after it', async () => {
    fx = await startStore({ radio: { apBurst: false } });
    // RAW: 9,472 bytes in 3 blocks of 42, 42 and 13 parts (testPlanes' stripes compress to a single part otherwise).
    const full = encodeImage({ labelType: t29, target: testPlanes(t29, 2), kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] });
    const result = await deliver(fx, LABEL_A, 5, full);
    const log = fx.sim.transferStats(LABEL_A).find((t) => t.transferId === 5)!;
    const parts = 42 + 42 + 13;
    expect(log.requests.map((r) => [r.blockIndex, r.parts.length])).toEqual([
      [0, 41],
      [1, 42],
      [2, 13],
    ]);
    expect(log.requests[0]!.parts[0]).toBe(1);
    expect(log.partsDuplicate).toBe(0);
    expect(result.bytesOnAir).toBe(bytesOnAir(full.payload.length) - RADIO_PART_OVERHEAD + FRAME_OVERHEAD + 16);
    const cost = exchangeCost({ ...full, totalSize: full.payload.length, displayAt: 0, page: 0 }, true);
    expect(log.bytesOnAir).toBe(cost.bytes);
    expect(cost.frames).toBe(1 + 3 + (parts - 1) + 1);
    expect(fx.sim.apStats('AP-1').radio.bursts).toBe(0);
  });

  it('§9.12 burst: the rest of block 0 follows the offer unasked; the label asks only for the blocks after it', async () => {
    fx = await startStore();
    const full = encodeImage({ labelType: t29, target: testPlanes(t29, 2), kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] });
    const result = await deliver(fx, LABEL_A, 5, full);
    expect(result.status).toBe(StatusCode.OK);
    const log = fx.sim.transferStats(LABEL_A).find((t) => t.transferId === 5)!;
    const parts = 42 + 42 + 13;
    expect(log.requests.map((r) => [r.blockIndex, r.parts.length])).toEqual([
      [1, 42],
      [2, 13],
    ]);
    expect(log.partsReceived).toBe(parts);
    expect(log.partsDuplicate).toBe(0);
    // The AP sends the same parts as before; one RADIO_BLOCK_REQUEST fewer crosses the air.
    expect(result.bytesOnAir).toBe(bytesOnAir(full.payload.length) - RADIO_PART_OVERHEAD + FRAME_OVERHEAD + 16);
    const cost = exchangeCost({ ...full, totalSize: full.payload.length, displayAt: 0, page: 0 }, true, BLOCK_SIZE, PART_SIZE, true);
    expect(log.bytesOnAir).toBe(cost.bytes);
    expect(cost.frames).toBe(1 + 2 + (parts - 1) + 1);
    expect(cost.bytes).toBeLessThan(exchangeCost({ ...full, totalSize: full.payload.length, displayAt: 0, page: 0 }, true).bytes);
    expect(fx.sim.apStats('AP-1').radio.bursts).toBe(1);
  });

  it('labels that do not announce it, and APs that do not serve it, keep RADIO_PENDING (§9.3); the pending exchange costs what §9.5 says', async () => {
    fx = await startStore({
      labels: [
        { labelId: LABEL_A, labelType: 3, apId: 'AP-1' },
        { labelId: LABEL_B, labelType: 3, apId: 'AP-1', decoders: CTX_LABEL },
      ],
    });
    const { full, delta } = images(3, 2);
    await deliver(fx, LABEL_A, 10, full);
    await deliver(fx, LABEL_B, 11, full);
    expect(fx.sim.apStats('AP-1').radio.offersSent).toBe(1);
    const r = await deliver(fx, LABEL_B, 12, delta);
    expect(r.bytesOnAir).toBe(bytesOnAir(delta.payload.length) + FRAME_OVERHEAD + 52);
    const log = fx.sim.transferStats(LABEL_B).find((t) => t.transferId === 12)!;
    expect(log.bytesOnAir).toBe(exchangeCost({ ...delta, totalSize: delta.payload.length, displayAt: 0, page: 0 }, false).bytes);
    expect(fx.sim.apStats('AP-1').radio.offersSent).toBe(1);
    await fx.close();

    fx = await startStore({ aps: [{ apId: 'AP-1', username: 'ap-1', password: 'secret', radioOffer: false }] });
    await deliver(fx, LABEL_A, 20, full);
    const r2 = await deliver(fx, LABEL_A, 21, delta);
    expect(r2.status).toBe(StatusCode.OK);
    expect(fx.sim.apStats('AP-1').radio.offersSent).toBe(0);
    expect(fx.sim.transferStats(LABEL_A).find((t) => t.transferId === 21)!.requests).toHaveLength(1);
  });

  it('an AP announces capability RADIO_OFFER (bit 10) only when it serves it', async () => {
    fx = await startStore();
    const hello = fx.edge.messages('AP_HELLO')[0]!;
    expect(hello.capabilities & (1 << 10)).not.toBe(0);
    await fx.close();
    fx = await startStore({ aps: [{ apId: 'AP-1', username: 'ap-1', password: 'secret', radioOffer: false }] });
    expect(fx.edge.messages('AP_HELLO')[0]!.capabilities & (1 << 10)).toBe(0);
  });

  it('a descriptor for another label type goes out as RADIO_PENDING, which the label refuses (INVALID_PARAMETER)', async () => {
    fx = await startStore();
    const { full } = images(4, 2);
    await fx.edge.stage('AP-1', { transferId: 30, labelId: LABEL_A, labelType: 2, image: full });
    await runVirtualUntil(fx.clock, () => resultOf(fx!, 30) !== undefined, 120_000, 200);
    expect(resultOf(fx, 30)!.status).toBe(StatusCode.INVALID_PARAMETER);
    expect(fx.sim.apStats('AP-1').radio.offersSent).toBe(0);
  });

  it('under 20 % frame loss a store of offer and pending labels converges, each label asking only for what it lacks', async () => {
    fx = await startStore({
      radio: { frameLoss: 0.2 },
      labels: [
        { labelId: LABEL_A, labelType: 3, apId: 'AP-1' },
        { labelId: LABEL_B, labelType: 3, apId: 'AP-1', decoders: CTX_LABEL },
        { labelId: LABEL_C, labelType: 3, apId: 'AP-1' },
      ],
    });
    let id = 100;
    for (const [i, label] of [LABEL_A, LABEL_B, LABEL_C].entries()) {
      const { full, delta } = images(10 + i, i === 1 ? 2 : 12);
      expect((await deliver(fx, label, id++, full)).status).toBe(StatusCode.OK);
      expect((await deliver(fx, label, id++, delta)).status).toBe(StatusCode.OK);
      for (const log of fx.sim.transferStats(label)) {
        // A re-request names only parts not yet received (part 0 of an offer counts as received).
        const got = new Set<string>();
        if (log.partsReceived > 0 && label !== LABEL_B) got.add('0:0');
        for (const r of log.requests) {
          for (const p of r.parts) expect(got.has(`${r.blockIndex}:${p}`), `${label} ${log.transferId} re-asks part ${p}`).toBe(false);
          for (const p of r.received) got.add(`${r.blockIndex}:${p}`);
        }
      }
    }
    expect(fx.sim.apStats('AP-1').radio.offersSent).toBeGreaterThanOrEqual(4);
  });
});
