/**
 * The MQ binary arithmetic coder of the CTX image encoding (README.md §6.6.3): the adaptive coder of ITU-T T.88
 * (JBIG2) Annex E, with its 47-state probability table. One context is one byte, `state << 1 | mps`, so a context
 * table of n contexts is n bytes (§6.6.6). Integers only, no division: it runs as written on a label MCU.
 *
 * Differences from T.88 (§6.6.3): no marker is written after the flush, trailing 0xFF bytes are dropped, and the
 * decoder reads every byte past the end of the payload as 0xFF — so any byte string decodes (to some picture,
 * which the target hash then rejects, §6.4) and decoding never runs past its input.
 */

/** §6.6.3 Table E.1 of T.88: Qe (LPS probability × 2^16 / 1.5 scale of the A register), next states, switch. */
export const MQ_QE: readonly number[] = [
  0x5601, 0x3401, 0x1801, 0x0ac1, 0x0521, 0x0221, 0x5601, 0x5401, 0x4801, 0x3801, 0x3001, 0x2401, 0x1c01, 0x1601, 0x5601, 0x5401,
  0x5101, 0x4801, 0x3801, 0x3401, 0x3001, 0x2801, 0x2401, 0x2201, 0x1c01, 0x1801, 0x1601, 0x1401, 0x1201, 0x1101, 0x0ac1, 0x09c1,
  0x08a1, 0x0521, 0x0441, 0x02a1, 0x0221, 0x0141, 0x0111, 0x0085, 0x0049, 0x0025, 0x0015, 0x0009, 0x0005, 0x0001, 0x5601,
];
export const MQ_NMPS: readonly number[] = [
  1, 2, 3, 4, 5, 38, 7, 8, 9, 10, 11, 12, 13, 29, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,
  36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 45, 46,
];
export const MQ_NLPS: readonly number[] = [
  1, 6, 9, 12, 29, 33, 6, 14, 14, 14, 17, 18, 20, 21, 14, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
  32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 46,
];
export const MQ_SWITCH: readonly number[] = [1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, ...new Array<number>(32).fill(0)];

const QE = Uint16Array.from(MQ_QE);
const NMPS = Uint8Array.from(MQ_NMPS);
const NLPS = Uint8Array.from(MQ_NLPS);
const SWITCH = Uint8Array.from(MQ_SWITCH);

/** T.88 E.2: the encoder. `cx` is a context table (one byte per context), `i` the context index. */
export class MqEncoder {
  private a = 0x8000;
  private c = 0;
  private ct = 12;
  /** The byte at bp, not yet written (it may still receive a carry); bp = −1 is the discarded byte before the start. */
  private b = 0;
  private bp = -1;
  private out = new Uint8Array(256);
  /** Bytes of the payload already final: up to the last written byte that is not 0xFF (finish() may drop the rest). */
  committedBytes = 0;

  encode(cx: Uint8Array, i: number, d: number): void {
    const s = cx[i]!;
    const idx = s >> 1;
    const mps = s & 1;
    const qe = QE[idx]!;
    this.a -= qe;
    if (d === mps) {
      if ((this.a & 0x8000) !== 0) {
        this.c += qe;
        return;
      }
      if (this.a < qe) this.a = qe;
      else this.c += qe;
      cx[i] = (NMPS[idx]! << 1) | mps;
    } else {
      if (this.a < qe) this.c += qe;
      else this.a = qe;
      cx[i] = (NLPS[idx]! << 1) | (SWITCH[idx] ? 1 - mps : mps);
    }
    do {
      this.a <<= 1;
      this.c *= 2; // c reaches 2^28: multiply, not <<, to stay exact beyond 31 bits
      if (--this.ct === 0) this.byteOut();
    } while ((this.a & 0x8000) === 0);
  }

  private put(v: number): void {
    if (this.bp >= 0) {
      if (this.bp >= this.out.length) {
        const next = new Uint8Array(this.out.length * 2);
        next.set(this.out);
        this.out = next;
      }
      this.out[this.bp] = this.b;
      if (this.b !== 0xff) this.committedBytes = this.bp + 1;
    }
    this.bp++;
    this.b = v;
  }

  private byteOut(): void {
    if (this.b === 0xff) {
      this.put(Math.floor(this.c / 0x100000));
      this.c %= 0x100000;
      this.ct = 7;
    } else if (this.c < 0x8000000) {
      this.put(Math.floor(this.c / 0x80000));
      this.c %= 0x80000;
      this.ct = 8;
    } else {
      this.b++;
      if (this.b === 0xff) {
        this.c %= 0x8000000;
        this.put(Math.floor(this.c / 0x100000));
        this.c %= 0x100000;
        this.ct = 7;
      } else {
        this.put(Math.floor(this.c / 0x80000));
        this.c %= 0x80000;
        this.ct = 8;
      }
    }
  }

  /** T.88 E.2.9 FLUSH without the marker; then trailing 0xFF bytes are dropped (the decoder supplies them). */
  finish(): Uint8Array {
    const tempc = this.c + this.a;
    this.c = this.c - (this.c % 0x10000) + 0xffff;
    if (this.c >= tempc) this.c -= 0x8000;
    this.c *= 2 ** this.ct;
    this.byteOut();
    this.c *= 2 ** this.ct;
    this.byteOut();
    this.put(0xff); // writes the last pending byte
    let n = this.bp;
    while (n > 0 && this.out[n - 1] === 0xff) n--;
    return this.out.slice(0, n);
  }
}

/**
 * T.88 E.3: the decoder, with C split into 16-bit halves (chigh, clow) as on a 16/32-bit MCU. Bytes past the end
 * of `data` read as 0xFF (§6.6.3). Per decision: one table look-up, a compare, and on average under one
 * renormalisation shift.
 */
export class MqDecoder {
  private a = 0x8000;
  private chigh = 0;
  private clow = 0;
  private ct = 0;
  private bp = 0;

  constructor(private readonly data: Uint8Array, start: number) {
    this.bp = start;
    this.chigh = this.byteAt(this.bp);
    this.byteIn();
    this.chigh = ((this.chigh << 7) & 0xffff) | ((this.clow >> 9) & 0x7f);
    this.clow = (this.clow << 7) & 0xffff;
    this.ct -= 7;
  }

  private byteAt(i: number): number {
    return i < this.data.length ? this.data[i]! : 0xff;
  }

  private byteIn(): void {
    if (this.byteAt(this.bp) === 0xff) {
      const b1 = this.byteAt(this.bp + 1);
      if (b1 > 0x8f) {
        this.clow += 0xff00;
        this.ct = 8;
      } else {
        this.bp++;
        this.clow += b1 << 9;
        this.ct = 7;
      }
    } else {
      this.bp++;
      this.clow += this.byteAt(this.bp) << 8;
      this.ct = 8;
    }
    if (this.clow > 0xffff) {
      this.chigh += this.clow >> 16;
      this.clow &= 0xffff;
    }
  }

  decode(cx: Uint8Array, i: number): number {
    const s = cx[i]!;
    const idx = s >> 1;
    let mps = s & 1;
    const qe = QE[idx]!;
    let a = this.a - qe;
    let d: number;
    let next: number;
    if (this.chigh < qe) {
      if (a < qe) {
        d = mps;
        next = NMPS[idx]!;
      } else {
        d = 1 - mps;
        if (SWITCH[idx]) mps = d;
        next = NLPS[idx]!;
      }
      a = qe;
    } else {
      this.chigh -= qe;
      if ((a & 0x8000) !== 0) {
        this.a = a;
        return mps;
      }
      if (a < qe) {
        d = 1 - mps;
        if (SWITCH[idx]) mps = d;
        next = NLPS[idx]!;
      } else {
        d = mps;
        next = NMPS[idx]!;
      }
    }
    do {
      if (this.ct === 0) this.byteIn();
      a <<= 1;
      this.chigh = ((this.chigh << 1) & 0xffff) | ((this.clow >> 15) & 1);
      this.clow = (this.clow << 1) & 0xffff;
      this.ct--;
    } while ((a & 0x8000) === 0);
    this.a = a;
    cx[i] = (next << 1) | mps;
    return d;
  }
}
