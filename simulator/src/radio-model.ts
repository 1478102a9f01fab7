/**
 * The radio and panel model of the simulator. Defaults are the reference store (/work/shared/reference-store.md):
 * benchmarks compare against these figures, so change them only together with that document.
 *
 * Air time (firmware-protocol/README.md §9): every radio frame costs `frameOverheadMs` — standing for its 12 bytes
 * of header and CRC, the preamble and the turnaround — plus its payload (the message fields: for RADIO_PART the
 * 7-byte part header and ≤ 99 image bytes) at `apBytesPerSecond`. Frames of a transfer (RADIO_PENDING, RADIO_BLOCK_REQUEST, RADIO_PART,
 * RADIO_XFER_DONE) hold the AP's single transfer channel; the check-in / command / sleep frames of a wake-up take
 * the same air time but are interleaved between transfer bursts, as slotted radios do, so idle labels checking in
 * do not starve transfers.
 */
import { z } from 'zod';

const probability = z.number().min(0).max(1);
const ms = z.number().nonnegative();

export const RadioModelSchema = z.object({
  /** Nominal wake interval of a label (also what the AP tells labels in RADIO_SLEEP.nextWakeS). */
  wakeIntervalMs: z.number().positive().default(30_000),
  /** Uniform jitter of every sleep, as a fraction: 0.1 = ±10 %. Spreads labels so they do not wake in step. */
  wakeJitter: z.number().min(0).max(0.9).default(0.1),
  /** Payload bytes per second one AP moves in total, shared by all its labels. */
  apBytesPerSecond: z.number().positive().default(5_000),
  /** Fixed air time of every frame on top of its bytes. */
  frameOverheadMs: ms.default(4),
  /** Image bytes per RADIO_PART (the protocol allows at most 99, §9.5; at least 64 so a 4,096-byte block fits the 64-bit part bitmap). */
  maxPartBytes: z.number().int().min(64).max(99).default(99),
  /** Probability that a radio frame is lost. */
  frameLoss: probability.default(0.01),
  /** Probability that one byte of a radio frame is flipped (the CRC then rejects it). */
  corruption: probability.default(0),
  /** Probability that a radio frame is received twice (the receiver's duplicate window drops the copy). */
  duplication: probability.default(0),
  /** Once a transfer has started, the label stays awake at most this long. */
  transferTimeoutMs: ms.default(20_000),
  /** Processing time between receiving a frame and answering it. */
  turnaroundMs: ms.default(1),
  /** Slack a waiting side adds to the expected air time before it gives up on an answer and asks again. */
  replyTimeoutMs: ms.default(40),
  /** Times a label re-sends its check-in or RADIO_XFER_DONE without an answer before it sleeps again. */
  maxRadioRetries: z.number().int().min(0).max(20).default(3),
  /** Battery of a new label. CR2450 cells start near 3.0 V. */
  batteryStartMv: z.number().int().min(0).max(0xffff).default(3_000),
  batteryDrainPerRefreshMv: ms.default(0.05),
  /** Drain per kB the label receives or sends on air. */
  batteryDrainPerKbMv: ms.default(0.01),
  batteryDrainPerWakeMv: ms.default(0.0002),
  /** Signal of a label at its home AP / at a neighbour AP (dBm, before ±spread). */
  rssiHomeDbm: z.number().int().min(-128).max(0).default(-58),
  rssiNeighbourDbm: z.number().int().min(-128).max(0).default(-79),
  rssiSpreadDb: z.number().int().min(0).max(30).default(4),
  temperatureC: z.number().int().min(-40).max(85).default(21),
  /**
   * AP firmware choice (issue 16 item 5, D37): after a transfer the AP tells the label to wake just after its panel
   * refresh (full refresh time of its type + 1 s) instead of the normal interval, so its confirming check-in comes
   * sooner, at the cost of one extra wake per transfer.
   */
  ackWakeAfterTransfer: z.boolean().default(false),
  /**
   * AP firmware choice, §9.1.1 (D91): how long a label that woke to a busy channel is told to sleep. `pool` (default):
   * as long as the transfer on air still needs, at least 1 s — the deferred labels come back often and whichever wakes
   * first when the channel frees takes it. `queue` (D59): also behind the transfers deferred before it, so each comes
   * back about when its turn is due.
   */
  apDeferral: z.enum(['pool', 'queue']).default('pool'),
  /**
   * AP firmware choice, §9.1.1 hold (D92): a label that announces LabelDecoder.WAIT and wakes to a busy channel is
   * told RADIO_WAIT (§9.11) and kept listening when its transfer can start within this many ms (the rest of the
   * transfer on air plus those of the labels already held); the AP starts it the moment the channel frees. Longer
   * waits are deferred as above. 0 = never hold (an AP of before §9.11).
   */
  apHoldMaxMs: z.number().int().min(0).max(10_000).default(250),
  /**
   * AP firmware choice, §9.12 (D145): after a RADIO_OFFER with part 0 to a label that announces LabelDecoder.BURST,
   * the AP sends the rest of block 0 at once instead of waiting for the label's first RADIO_BLOCK_REQUEST. false = an
   * AP of before §9.12 (its labels then do not expect the burst either).
   */
  apBurst: z.boolean().default(true),
  /**
   * AP firmware choice, §4.9 (D146): the AP announces WORK_AHEAD and keeps the edge's appointments, telling a listed
   * label that checks in with nothing waiting to come back at its appointment instead of after a full sleep. false =
   * an AP of before §4.9.
   */
  apWorkAhead: z.boolean().default(true),
  /**
   * §9.1 step 5: the AP ends an exchange when it hears no answer for 50 ms after its last frame and after 3 repeats —
   * 200 ms of silence from a label that answers within its turnaround. Once the label has answered, it drives
   * recovery (it re-asks within replyTimeoutMs, ap-radio.ts), so the AP only waits the window out; until it does, the
   * channel is held and every other label is deferred. An offer nothing has answered is repeated every quarter of the
   * window, up to 3 times (D158: a held label cannot ask for a lost offer). 2,000 ms was the AP of before D107 (the
   * label's own AP-lost silence).
   */
  apSilenceMs: z.number().int().min(50).max(10_000).default(200),
  /** Per-label cap on commands (LED, page, sensor, command) queued at an AP. */
  maxCommandsPerLabel: z.number().int().min(1).max(255).default(8),
});
export type RadioModel = z.infer<typeof RadioModelSchema>;

/** The reference-store model, completed by `overrides`. */
export function radioModel(overrides: Partial<RadioModel> = {}): RadioModel {
  return RadioModelSchema.parse(overrides);
}

/** Air time of one frame whose payload (frame minus header and CRC) is `payloadBytes`. */
export function airTimeMs(model: Pick<RadioModel, 'apBytesPerSecond' | 'frameOverheadMs'>, payloadBytes: number): number {
  return model.frameOverheadMs + (payloadBytes * 1000) / model.apBytesPerSecond;
}

/** A sleep of nominally `nominalMs`, with the model's uniform jitter. */
export function jitteredMs(model: Pick<RadioModel, 'wakeJitter'>, nominalMs: number, random: () => number): number {
  return nominalMs * (1 + model.wakeJitter * (2 * random() - 1));
}
