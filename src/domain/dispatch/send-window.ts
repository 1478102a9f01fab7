/**
 * How many transfers may be sending to one AP at once: a congestion window (D133) that halves when the AP's ACKs do
 * not come in time and grows back as transfers go through, as TCP's does on loss (RFC 5681 §3.1 congestion
 * avoidance, §3.2 one decrease per window of data).
 *
 * Why: a transfer that is *sending* has one frame on its way to the AP and waits for its ACK (protocol §7.3) before
 * the next block. Its slot in the AP's queue (§4.3) is taken from IMAGE_BEGIN on, but the AP cannot serve it until the
 * last block arrived. When everything between the edge and the APs is slow (the 2 cores shared to the full, the
 * embedded broker holding the APs' frames while 2,048 of the edge's wait, D98), 64 transfers sending to each of 100
 * APs put 6,400 frames in the pipe, ACKs come later than `dispatch.ackTimeoutMs`, the transfers fail, are retried, and
 * the queues fill with transfers that never finish (D132). Halving on each timeout keeps the pipe short enough for
 * ACKs to come back in time; where ACKs never time out (the reference store) the window stays at the AP's queue
 * capacity and changes nothing. A late ACK alone is no signal: a slow AP is not a congested one (D133, measured).
 *
 * Pure: times are passed in (the dispatcher's injected clock).
 */

export interface SendWindowOptions {
  /** The AP's usable slots (min of its queue capacity and `dispatch.maxInFlightPerAp`): the window's ceiling. */
  capacity: number;
  /** Told each time the window shrinks (metrics, benchmarks). */
  onShrink?: () => void;
}

export class SendWindow {
  private cwnd: number;
  private capacity: number;
  /**
   * When the window last shrank: a frame sent before then tells of the congestion that shrank it, so it does not
   * shrink the window again (one decrease per round trip, RFC 5681 §3.2's "once per window of data").
   */
  private shrankAt = -Infinity;

  constructor(private readonly opts: SendWindowOptions) {
    this.capacity = Math.max(1, opts.capacity);
    this.cwnd = this.capacity;
  }

  /** Transfers that may be sending at once to this AP now, its usable slots being `capacity`. */
  limit(capacity: number): number {
    this.resize(capacity);
    return Math.max(1, Math.floor(this.cwnd));
  }

  /** A frame sent at `sentAt` was not acknowledged in time (§7.3). */
  timedOut(sentAt: number, now: number): void {
    if (sentAt < this.shrankAt) return;
    this.cwnd = Math.max(1, this.cwnd / 2);
    this.shrankAt = now;
    this.opts.onShrink?.();
  }

  /** A transfer went through (the AP acknowledged its last block): RFC 5681 §3.1 one more per window's worth. */
  transferDone(): void {
    this.cwnd = Math.min(this.capacity, this.cwnd + 1 / this.cwnd);
  }

  /** The AP said hello with another queue capacity, or the configuration bounds it lower. */
  private resize(capacity: number): void {
    const c = Math.max(1, capacity);
    if (c === this.capacity) return;
    // A window that never shrank follows the capacity up and down; a shrunk one only down.
    if (this.cwnd >= this.capacity) this.cwnd = c;
    this.capacity = c;
    this.cwnd = Math.min(this.cwnd, c);
  }
}
