/**
 * Sequence numbers (README.md §7.2): every sender numbers its frames per link with a u16 that wraps from 65535
 * to 0. Comparisons use serial-number arithmetic (RFC 1982 with SERIAL_BITS = 16): `a` is after `b` when
 * 0 < (a − b) mod 2^16 < 2^15.
 */

export const SEQ_MODULUS = 0x1_0000;
const HALF = SEQ_MODULUS / 2;

/** (a − b) as a signed distance in [−32768, 32767]: positive when `a` is after `b` (RFC 1982 §3.2). */
export function seqDistance(a: number, b: number): number {
  const d = (((a - b) % SEQ_MODULUS) + SEQ_MODULUS) % SEQ_MODULUS;
  return d >= HALF ? d - SEQ_MODULUS : d;
}

/** The sequence numbers of one sender on one link. The start value is injected (tests, persisted state). */
export class SeqCounter {
  private value: number;

  constructor(start = 0) {
    if (!Number.isInteger(start) || start < 0 || start >= SEQ_MODULUS) throw new RangeError(`seq start ${start} is not a u16`);
    this.value = start;
  }

  /** The number for the next frame; 65535 is followed by 0. */
  next(): number {
    const v = this.value;
    this.value = (v + 1) % SEQ_MODULUS;
    return v;
  }

  /** The number next() will return, without consuming it. */
  peek(): number {
    return this.value;
  }
}

/**
 * §7.2 Duplicate detection for frames received from one sender: remembers which of the last `size` sequence
 * numbers (counted back from the newest accepted one) were accepted.
 *
 * - A number after the newest (distance 1 … 32767) is new; the window slides forward.
 * - The newest itself, or one up to `size − 1` behind it that was accepted, is a duplicate; one in that range
 *   not yet seen (reordered) is new.
 * - Anything `size` or more behind the newest (that is, a jump of more than half the sequence space forward) is
 *   taken as the peer having restarted its counter: the window resets to that number and it is accepted.
 *   A redelivery older than the window would therefore be acted on again — the price of recovering from a peer
 *   reboot without a handshake. It cannot happen with conforming senders: at most 8 frames await an ACK per
 *   link (§7.3), so a retransmission is never more than 7 behind the newest frame.
 */
export class DuplicateWindow {
  private readonly size: number;
  private newest: number | null = null;
  /**
   * Bit i set = (newest − i) was accepted; bit i is bit (i mod 32) of word ⌊i / 32⌋. Bit 0 is always set once
   * anything was accepted. 32-bit words, not a BigInt: a label's exchange makes a window and tests it for every
   * frame, and BigInt arithmetic allocates on each operation (D164).
   */
  private readonly words: Uint32Array;

  constructor(size = 64) {
    if (!Number.isInteger(size) || size < 1 || size > HALF) throw new RangeError(`window size ${size} out of range 1..${HALF}`);
    this.size = size;
    this.words = new Uint32Array((size + 31) >> 5);
  }

  /** Records `seq` and tells whether it was a duplicate (true = seen before, do not act on it again; ACK it). */
  seen(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq >= SEQ_MODULUS) throw new RangeError(`seq ${seq} is not a u16`);
    if (this.newest === null) {
      this.restart(seq);
      return false;
    }
    const d = seqDistance(seq, this.newest);
    if (d > 0) {
      if (d >= this.size) this.words.fill(0);
      else this.shift(d);
      this.words[0]! |= 1;
      this.newest = seq;
      return false;
    }
    const back = -d;
    if (back < this.size) {
      const w = back >> 5;
      const bit = 1 << (back & 31);
      if ((this.words[w]! & bit) !== 0) return true;
      this.words[w]! |= bit;
      return false;
    }
    this.restart(seq);
    return false;
  }

  /** Forgets everything, e.g. when the peer announces a restart with AP_HELLO (§8). */
  reset(): void {
    this.newest = null;
    this.words.fill(0);
  }

  private restart(seq: number): void {
    this.newest = seq;
    this.words.fill(0);
    this.words[0] = 1;
  }

  /**
   * Moves every bit `d` places up (0 < d < size): the window slides forward by d. Bits pushed past `size` are never
   * read again (only bits below `size` are tested, and shifts only go up), so they need no clearing.
   */
  private shift(d: number): void {
    const words = this.words;
    const ws = d >> 5;
    const bs = d & 31;
    for (let i = words.length - 1; i >= 0; i--) {
      const src = i - ws;
      const hi = src >= 0 ? words[src]! << bs : 0;
      const lo = bs !== 0 && src >= 1 ? words[src - 1]! >>> (32 - bs) : 0;
      words[i] = hi | lo;
    }
  }
}
