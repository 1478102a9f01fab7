/**
 * The air between APs and labels. Frames cross it as the bytes the codec produced (firmware-protocol/README.md
 * §3.1), so that loss, corruption and duplication act on real frames: a corrupted frame fails the receiver's CRC
 * check in decodeFrame exactly as it would on hardware, and a duplicated one carries the same seq and must be
 * caught by the receiver's DuplicateWindow (§7.2).
 */
import type { Random } from './rng.js';
import { randomInt } from './rng.js';

export interface RadioImpairments {
  frameLoss: number;
  corruption: number;
  duplication: number;
}

export interface RadioMediumStats {
  framesSent: number;
  framesLost: number;
  /** Frames that arrived with a flipped byte (the receiver's CRC is expected to reject them). */
  framesCorrupted: number;
  framesDuplicated: number;
  bytesSent: number;
}

export class RadioMedium {
  readonly stats: RadioMediumStats = { framesSent: 0, framesLost: 0, framesCorrupted: 0, framesDuplicated: 0, bytesSent: 0 };
  private readonly targeted: { match: (frame: Uint8Array) => boolean; left: number }[] = [];

  constructor(
    private impairments: RadioImpairments,
    private readonly random: Random,
  ) {}

  setFrameLoss(p: number): void {
    this.impairments = { ...this.impairments, frameLoss: checkProbability(p) };
  }
  setCorruption(p: number): void {
    this.impairments = { ...this.impairments, corruption: checkProbability(p) };
  }
  setDuplication(p: number): void {
    this.impairments = { ...this.impairments, duplication: checkProbability(p) };
  }
  /**
   * A fault on demand: the next `count` frames for which `match` holds are lost, whatever the loss rate — to show
   * what one lost frame of a kind costs (a lost offer, a lost RADIO_SLEEP) without a seed that happens to lose it.
   */
  loseNext(match: (frame: Uint8Array) => boolean, count = 1): void {
    this.targeted.push({ match, left: count });
  }

  get current(): Readonly<RadioImpairments> {
    return this.impairments;
  }

  /**
   * Sends one encoded frame and returns what the receiver gets: nothing (lost), one copy, or two copies
   * (duplicated). A copy may have one byte flipped. The input is never modified.
   */
  transmit(frame: Uint8Array): Uint8Array[] {
    this.stats.framesSent++;
    this.stats.bytesSent += frame.length;
    const t = this.targeted.find((x) => x.match(frame));
    if (t !== undefined) {
      if (--t.left === 0) this.targeted.splice(this.targeted.indexOf(t), 1);
      this.stats.framesLost++;
      return [];
    }
    const { frameLoss, corruption, duplication } = this.impairments;
    if (frameLoss > 0 && this.random() < frameLoss) {
      this.stats.framesLost++;
      return [];
    }
    const first = this.maybeCorrupt(frame, corruption);
    if (duplication > 0 && this.random() < duplication) {
      this.stats.framesDuplicated++;
      return [first, this.maybeCorrupt(frame, corruption)];
    }
    return [first];
  }

  private maybeCorrupt(frame: Uint8Array, p: number): Uint8Array {
    if (p <= 0 || this.random() >= p) return frame;
    this.stats.framesCorrupted++;
    const copy = frame.slice();
    // XOR with a non-zero mask: the byte always changes, a single-byte error CRC-32 always detects.
    copy[randomInt(this.random, copy.length)]! ^= 1 + randomInt(this.random, 255);
    return copy;
  }
}

function checkProbability(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability ${p} out of [0, 1]`);
  return p;
}
