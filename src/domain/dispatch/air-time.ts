/**
 * Expected air time of a transfer on its AP's channel (firmware-protocol/README.md §9.5.2, D58, D91).
 *
 * An AP runs one transfer at a time (§9.1 step 3); a label that wakes while the channel is busy is deferred with a
 * short nextWakeS (§5.6.1). The dispatcher therefore gives an AP's slots to labels expected to wake within the time
 * those slots take to drain through the channel (slots × the mean air time of its transfers). A transfer's cost
 * in the reference store's units (`boundCost`: bytes on air without frame header and CRC, plus 20 byte-equivalents
 * a frame) follows from its payload and offer (§9.5.2 `exchangeCost`); the AP's milliseconds per unit are learnt
 * from its wake reports (§5.6 awakeMs of the exchange that took the transfer), starting from the reference rate of
 * 5,000 B/s (0.2 ms a unit). No parameter of a simulator is assumed beyond that prior.
 */
import { boundCost, exchangeCost, type MessageOf } from '#protocol';

/** §9.5.2 The reference store's rate: 5,000 payload bytes a second, 4 ms a frame (20 units). */
export const PRIOR_MS_PER_UNIT = 0.2;
/** What a wake-up exchange costs besides the transfer (check-in, RADIO_SLEEP, turnarounds), in units. */
const PRIOR_FIXED_UNITS = 60;
/** Weight of a new observation. */
const EWMA = 0.05;

/**
 * §9.5.2 Units of the whole transfer exchange of this IMAGE_BEGIN, offered with RADIO_OFFER or RADIO_PENDING, and with
 * block 0 following the offer unasked (§9.12 burst) or not.
 */
export function transferUnits(begin: Pick<MessageOf<'IMAGE_BEGIN'>, 'baseHash' | 'region' | 'displayAt' | 'page' | 'totalSize'>, offer: boolean, burst = false): number {
  return boundCost(exchangeCost(begin, offer, undefined, undefined, offer && burst));
}

/**
 * D123 What a label's next transfer will most likely be: a delta against the picture it shows, or a full image. A
 * fill's full images cost the air 3–4 × a repricing's deltas, so one mean over both would carry the fill's size into
 * the repricing that follows it.
 */
export type TransferShape = 'full' | 'delta';

/** One AP's channel: milliseconds per unit, learnt from the awake times of the exchanges that took a transfer. */
export class ApAirRate {
  msPerUnit = PRIOR_MS_PER_UNIT;
  /**
   * Moving means of the expected air time of this AP's recent transfers (ms), by the shape the label was expected to
   * take (D123): the estimate before encoding. 0 until the first transfer of that shape.
   */
  readonly meanTransferMs: Record<TransferShape, number> = { full: 0, delta: 0 };
  samples = 0;

  /** Expected channel time (ms) of a transfer of `units`, its wake-up's check-in and sleep included. */
  ms(units: number): number {
    return (units + PRIOR_FIXED_UNITS) * this.msPerUnit;
  }

  /** A transfer of `units` was encoded for this AP, for a label expected to take `shape`. */
  noteTransfer(units: number, shape: TransferShape): void {
    const ms = this.ms(units);
    const mean = this.meanTransferMs[shape];
    this.meanTransferMs[shape] = mean === 0 ? ms : mean + 0.05 * (ms - mean);
  }

  /**
   * The exchange that took a transfer of `units` lasted `awakeMs` (§5.6, check-in to RADIO_SLEEP). Its fixed part
   * (check-in, sleep, turnarounds) is charged to the transfer: it holds the channel too.
   */
  observe(units: number, awakeMs: number): void {
    if (!(units > 0) || !(awakeMs > 0) || awakeMs >= 0xffff) return;
    const rate = awakeMs / (units + PRIOR_FIXED_UNITS);
    // A retransmitted or resumed exchange lasts longer than its bytes: bounded so one cannot skew the rate.
    const bounded = Math.min(4 * this.msPerUnit, Math.max(0.25 * this.msPerUnit, rate));
    this.msPerUnit += EWMA * (bounded - this.msPerUnit);
    this.samples++;
  }
}

/**
 * D91 How far ahead, in expected wait until the label wakes, an AP's free slots are given out. Little's law: the AP
 * serves its slots ÷ the mean hold, its channel one transfer per air time, so the slots keep the channel busy while
 * the mean hold stays within slots × mean air time (the time they take to drain). Picks go cheapest first and spread
 * over [0, horizon], so their mean wait is about half the horizon: the horizon is twice the drain time, at least
 * `floorMs`, counted from when the AP holds the transfer (+ the staging latency). Shorter leaves slots empty while
 * the AP's pool of deferred labels runs dry (§9.1.1); longer fills them with labels that wake after the channel
 * could have served nearer ones (cheapest first still takes the nearest). D123: the mean is that of the candidate's
 * expected shape; with none of that shape seen yet it is 0 and the floor holds, since a horizon too long fills the
 * slots for up to a sleep with labels that wake late, while one too short only leaves slots free until the first
 * transfers are encoded.
 */
export function stagingHorizonMs(slots: number, meanTransferMs: number, floorMs: number, stageLatencyMs: number): number {
  return Math.max(floorMs, 2 * slots * meanTransferMs) + stageLatencyMs;
}
