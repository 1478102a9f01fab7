/**
 * Learns when each label wakes, from what the edge itself sees, so a transfer is staged on the AP shortly before
 * its label wakes (issue 16 item 4, D19). An AP serves `staged transfers ÷ mean wait until the label wakes`
 * (Little's law): staged at random in a wake cycle, each of its queue slots waits half an interval; staged just
 * before the wake, the queue holds the labels that wake soonest and the air, not the queue, bounds the AP.
 *
 * Observations are the instants labels were seen awake: forwarded check-ins (protocol §5.3; non-TIMER ones —
 * TRANSFER_DONE, FIRST_CONTACT, BOOT — come at once, TIMER ones at most once per report interval) and transfer
 * results (the label was awake to take the image; late by the transfer's air time). Short spacings (a result, then
 * the TRANSFER_DONE check-in one interval later) give a first estimate; the long spacings of TIMER reports refine it
 * precisely once the number of intervals between two sightings is unambiguous. Nothing about the simulator or a
 * firmware's nominal interval is assumed.
 *
 * A prediction is trusted only when it can be: an interval of at least half the check-in report interval may be a
 * multiple of the real one (TIMER check-ins are forwarded at most once per report interval), and a phase many
 * intervals old is blurred by the wake jitter; then the label is "unknown" and staged at once, as before. A wrong
 * prediction therefore costs at most one wake interval: the transfer is staged at the next predicted wake, or stays
 * staged on the AP until the label wakes.
 */

// What the predictor keeps per label is part of the label's record (the label store owns it): defined in labels/, so
// the label store needs nothing of dispatch (no cycle between domain folders, D78).
import type { WakeState } from '../labels/label-record.js';
export type { WakeState };

export interface WakePredictorOptions {
  /** How long before the predicted wake a transfer is staged (the pass delay and the sends to the AP). */
  leadMs: number;
  /** Observations closer than this are the same wake (a check-in and the transfer result of one exchange). */
  sameWakeMs?: number;
  /** Intervals at or above this are not trusted (see the header): half the check-in report interval. */
  maxIntervalMs: number;
}

/** Off-grid tolerance: an observation within this fraction of an interval of the grid confirms it. */
const GRID_TOLERANCE = 0.25;
/** Weight of a new sample in the jitter estimate. */
const EWMA = 0.2;
/** A sighting r intervals away refines the interval only if its implied interval is within this/r of the estimate. */
const UNAMBIGUOUS = 0.4;

export class WakePredictor {
  /** Store-wide wake jitter per interval, relative (learnt from residuals; starts conservative). */
  jitter = 0.15;
  private readonly sameWakeMs: number;

  constructor(private readonly opts: WakePredictorOptions) {
    this.sameWakeMs = opts.sameWakeMs ?? 2_000;
  }

  /** The label was seen awake at `at`. */
  observe(s: WakeState, at: number): void {
    if (s.wakeAt < 0 || at < s.wakeAt) {
      s.wakeAt = at;
      return;
    }
    const delta = at - s.wakeAt;
    if (delta < this.sameWakeMs) {
      // The same wake seen twice (e.g. the transfer result, then the check-in): keep the earlier instant.
      return;
    }
    const est = s.wakeIntervalMs;
    if (est === 0) {
      s.wakeIntervalMs = delta;
      s.wakeSamples = 1;
    } else {
      const r = Math.round(delta / est);
      const implied = r >= 1 ? delta / r : delta;
      if (r >= 1 && Math.abs(implied - est) <= (UNAMBIGUOUS * est) / r) {
        // On the grid, and the count of intervals is unambiguous: a long baseline measures the interval precisely
        // (its error is divided by r), so it weighs more. The residual teaches the jitter.
        const residual = delta - r * est;
        s.wakeIntervalMs = est + (implied - est) * (r / (r + 1 + s.wakeSamples));
        s.wakeSamples = Math.min(1_000, s.wakeSamples + r);
        const rel = Math.abs(residual) / (est * Math.sqrt(r));
        this.jitter += EWMA * (rel - this.jitter);
      } else if (delta < (1 - GRID_TOLERANCE) * est) {
        // Shorter than the estimate: the estimate was a multiple of the real interval.
        s.wakeIntervalMs = delta;
        s.wakeSamples = 1;
      } else {
        // Off the grid: both may be multiples of a shorter interval; otherwise the sighting says nothing about it.
        const g = approxGcd(est, delta, GRID_TOLERANCE / 2, this.sameWakeMs);
        if (g < (1 - GRID_TOLERANCE) * est) {
          s.wakeIntervalMs = g;
          s.wakeSamples = 1;
        }
      }
    }
    s.wakeAt = at;
  }

  /** The next instant the label is expected awake at or after `now`, or null when it cannot be predicted. */
  nextWake(s: WakeState, now: number): number | null {
    const p = this.predict(s, now);
    return p ? p.at : null;
  }

  /**
   * When to stage a transfer for this label: before its predicted wake by the lead plus twice the phase
   * uncertainty, or `now` when the wake cannot be predicted (or may be happening now).
   */
  stageAt(s: WakeState, now: number): number {
    const p = this.predict(s, now);
    if (!p) return now;
    return Math.max(now, p.at - this.opts.leadMs - 2 * p.sigma);
  }

  private predict(s: WakeState, now: number): { at: number; sigma: number } | null {
    const interval = s.wakeIntervalMs;
    if (s.wakeAt < 0 || interval <= 0 || interval >= this.opts.maxIntervalMs) return null;
    const n = Math.max(1, Math.ceil((now - s.wakeAt) / interval));
    // The jitter of n wakes adds up as √n; an error of the interval itself (about one interval's jitter over the
    // intervals it was measured on) adds up n times.
    const sigma = this.jitter * interval * (Math.sqrt(n) + n / Math.max(1, s.wakeSamples));
    // Beyond this the phase is blurred over the whole interval: no better than not knowing.
    if (4 * sigma + this.opts.leadMs >= interval) return null;
    // The previous predicted wake may still be happening (within its uncertainty): the label may wake any moment.
    if (n >= 2 && s.wakeAt + (n - 1) * interval + 2 * this.jitter * interval * (Math.sqrt(n - 1) + (n - 1) / Math.max(1, s.wakeSamples)) > now) return { at: now, sigma: 0 };
    return { at: s.wakeAt + n * interval, sigma };
  }
}

/** The largest interval of which both are near multiples (Euclid with a tolerance); at least `floor`. */
export function approxGcd(a: number, b: number, tolerance: number, floor: number): number {
  let x = Math.max(a, b);
  let y = Math.min(a, b);
  for (let i = 0; i < 16 && y >= floor; i++) {
    const r = x % y;
    if (r <= tolerance * y || y - r <= tolerance * y) return y;
    x = y;
    y = r;
  }
  return Math.max(floor, Math.min(a, b));
}
