/**
 * Stream framer for a binary byte stream (README.md §3.7): cuts frames out of arbitrary chunks, resynchronises
 * after noise, never throws, and holds at most one frame's worth of bytes.
 *
 * Rules (§3.7):
 * - Bytes before a magic byte 0xE5 are discarded.
 * - A magic byte whose length field exceeds MAX_PAYLOAD, or whose complete candidate frame fails the CRC, is a
 *   false start: only that byte is dropped and the scan resumes at the next byte (a real frame may begin inside
 *   what looked like the false one).
 * - A candidate with a valid CRC is a real frame: it is consumed whole, even when stage 2 rejects it (unknown
 *   type, bad version, bad payload): its bytes are then discarded and its error reported. Dropping only the
 *   magic byte there would rescan a peer's genuine frame for frames inside its payload.
 * - While a candidate is incomplete, later magic bytes are examined too: if a complete frame with a valid CRC
 *   starts further on, the incomplete candidate was noise (a false magic with a large length) and the framer
 *   resynchronises to the valid frame at once instead of stalling until thousands of bytes have arrived.
 *
 * `discardedBytes` counts exactly the bytes consumed that did not become a delivered frame.
 */
import { crc32Range } from './crc32.js';
import { ProtocolError } from './errors.js';
import { FRAME_HEADER_SIZE, FRAME_MAGIC, FRAME_OVERHEAD, MAX_PAYLOAD, decodeFrame } from './frame-codec.js';
import type { Frame } from './messages.js';

export interface FramerOutput {
  frames: Frame[];
  errors: ProtocolError[];
  discardedBytes: number;
}

function payloadLengthAt(data: Uint8Array, at: number): number {
  return data[at + 6]! | (data[at + 7]! << 8);
}

function crcOk(data: Uint8Array, at: number, n: number): boolean {
  const end = at + FRAME_HEADER_SIZE + n;
  const stored = (data[end]! | (data[end + 1]! << 8) | (data[end + 2]! << 16) | (data[end + 3]! << 24)) >>> 0;
  return crc32Range(data, at, end) === stored;
}

export class Framer {
  /** Bytes received but not yet consumed; starts at a magic byte when non-empty. */
  private pending: Uint8Array = new Uint8Array(0);
  /**
   * Look-ahead state while the candidate at pending[0] is incomplete: magic positions before `scanFrom` are
   * registered; `later` holds those whose end is not yet received (position, end).
   */
  private scanFrom = 1;
  private later: { at: number; end: number }[] = [];

  /** Bytes currently buffered (at most MAX_FRAME_SIZE − 1 after a push returns). */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  push(chunk: Uint8Array): FramerOutput {
    let data: Uint8Array;
    if (this.pending.length === 0) {
      data = chunk;
    } else {
      data = new Uint8Array(this.pending.length + chunk.length);
      data.set(this.pending);
      data.set(chunk, this.pending.length);
    }
    return this.process(data, false);
  }

  /** End of stream (port closed): resolves what is buffered, treating an incomplete frame as noise. */
  flush(): FramerOutput {
    return this.process(this.pending, true);
  }

  private process(data: Uint8Array, final: boolean): FramerOutput {
    const out: FramerOutput = { frames: [], errors: [], discardedBytes: 0 };
    let head = 0;
    const moveHead = (to: number, discard: boolean) => {
      if (discard) out.discardedBytes += to - head;
      // Look-ahead positions are relative to the head; they stay valid only while the head stays put.
      this.later = [];
      this.scanFrom = to + 1;
      head = to;
    };
    // scanFrom / later are relative to pending[0] from the previous call, which is data[0] now.
    if (this.scanFrom < 1) this.scanFrom = 1;

    for (;;) {
      const m = data.indexOf(FRAME_MAGIC, head);
      if (m < 0) {
        moveHead(data.length, true);
        break;
      }
      if (m !== head) moveHead(m, true);
      const available = data.length - head;
      if (available < FRAME_HEADER_SIZE) {
        if (!final) break;
        out.errors.push(new ProtocolError('FRAME_TRUNCATED', 'stream ended inside a frame header', { length: available }));
        moveHead(head + 1, true);
        continue;
      }
      const n = payloadLengthAt(data, head);
      if (n > MAX_PAYLOAD) {
        out.errors.push(new ProtocolError('FRAME_OVERSIZE', `payload length ${n} exceeds ${MAX_PAYLOAD}`, { payloadLength: n }));
        moveHead(head + 1, true);
        continue;
      }
      const total = FRAME_OVERHEAD + n;
      if (available < total) {
        if (final) {
          out.errors.push(new ProtocolError('FRAME_TRUNCATED', 'stream ended inside a frame', { length: available, expected: total }));
          moveHead(head + 1, true);
          continue;
        }
        const q = this.lookAhead(data, head);
        if (q < 0) break;
        out.errors.push(
          new ProtocolError('FRAME_TRUNCATED', 'incomplete candidate abandoned: a valid frame starts inside it', { length: q - head, expected: total }),
        );
        moveHead(q, true);
        continue;
      }
      if (!crcOk(data, head, n)) {
        out.errors.push(new ProtocolError('FRAME_BAD_CRC', 'CRC mismatch; resynchronising', { payloadLength: n }));
        moveHead(head + 1, true);
        continue;
      }
      const res = decodeFrame(data.subarray(head, head + total));
      if (res.ok) {
        out.frames.push(res.frame);
        moveHead(head + total, false);
      } else {
        out.errors.push(res.error);
        moveHead(head + total, true);
      }
    }
    // A copy: the caller may reuse its chunk buffer (serialport does), and Buffer#slice would share memory.
    this.pending = head >= data.length ? new Uint8Array(0) : new Uint8Array(data.subarray(head));
    // Keep look-ahead state relative to the new pending[0] (head did not move since it was last reset).
    this.scanFrom -= head;
    for (const c of this.later) {
      c.at -= head;
      c.end -= head;
    }
    return out;
  }

  /**
   * The earliest position after `head` where a complete frame with a valid CRC starts, or −1. Each magic byte is
   * registered once and CRC-checked once, when its candidate is complete, so trickling a large frame in byte by
   * byte stays linear.
   */
  private lookAhead(data: Uint8Array, head: number): number {
    // Register magic bytes whose header has arrived.
    let p = Math.max(this.scanFrom, head + 1);
    for (;;) {
      const m = data.indexOf(FRAME_MAGIC, p);
      if (m < 0) {
        p = data.length;
        break;
      }
      if (data.length - m < FRAME_HEADER_SIZE) {
        p = m;
        break;
      }
      const n = payloadLengthAt(data, m);
      if (n <= MAX_PAYLOAD) this.later.push({ at: m, end: m + FRAME_OVERHEAD + n });
      p = m + 1;
    }
    this.scanFrom = p;
    // Check the candidates that are now complete; keep the rest.
    let best = -1;
    const still: { at: number; end: number }[] = [];
    for (const c of this.later) {
      if (c.end > data.length) still.push(c);
      else if ((best < 0 || c.at < best) && crcOk(data, c.at, c.end - c.at - FRAME_OVERHEAD)) best = c.at;
    }
    this.later = still;
    return best;
  }
}
