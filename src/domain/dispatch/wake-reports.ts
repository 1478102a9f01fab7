/**
 * Wake windows from the APs' wake reports (firmware-protocol/README.md §5.6, issue 16 item 4, D34–D35).
 *
 * An AP with capability WAKE_REPORT tells the edge, about once a second, every label exchange that ended with a
 * RADIO_SLEEP: when the label went to sleep (relative to the report), how long it was awake, and the nextWakeS the
 * AP told it (§9.7). The label's next wake is then expected at sleep + nextWakeS × (1 + j), where j is the labels'
 * sleep jitter. Its distribution is not assumed: it is learnt store-wide from the residuals of consecutive reports of
 * the same label (the actual wake against the wake told), and the window [A, B] spans its 1st to 99th percentile.
 *
 * The cost of staging a label now is the expected time its transfer holds an AP slot per label served: the wait
 * until it wakes, plus, when it may already have woken unseen (the edge knows wakes only up to the AP's last
 * report, and the AP holds the transfer only after the staging latency), the slot time lost on such a miss.
 * Little's law: an AP's throughput is its slots ÷ the mean hold, so the dispatcher fills slots in ascending cost.
 */
import type { WakeState } from './wake-predictor.js';

/** Residuals kept for the quantiles (a ring; 16 KB). */
const RESIDUALS = 4096;
/** Quantiles are recomputed after this many new residuals. */
const RECOMPUTE_EVERY = 256;
/** Until this many residuals are in, the window is the prior below (wide: a wrong guess costs slot time only). */
const MIN_RESIDUALS = 64;
const PRIOR_LO = -0.25;
const PRIOR_HI = 0.25;
/** A residual beyond ±0.5 interval is not the next wake (a report was lost, or the label woke for a button). */
const MAX_RESIDUAL = 0.5;

/** Store-wide sleep jitter, relative to the sleep told: the distribution of (actual − told) / told. */
export class WakeJitter {
  private readonly ring = new Float32Array(RESIDUALS);
  private count = 0;
  private sinceRecompute = 0;
  /** 1st and 99th percentile of the residuals (the prior until MIN_RESIDUALS are in). */
  lo = PRIOR_LO;
  hi = PRIOR_HI;
  /** The most common nextWakeS told (ms): a shorter one is a deferral. */
  nominalToldMs = 0;

  get samples(): number {
    return this.count;
  }

  add(residual: number): void {
    if (!Number.isFinite(residual) || Math.abs(residual) > MAX_RESIDUAL) return;
    this.ring[this.count % RESIDUALS] = residual;
    this.count++;
    if (++this.sinceRecompute >= RECOMPUTE_EVERY || this.count === MIN_RESIDUALS) this.recompute();
  }

  noteTold(toldMs: number): void {
    // A slow-moving maximum: deferrals are shorter than the normal sleep, never longer.
    this.nominalToldMs = toldMs >= this.nominalToldMs ? toldMs : this.nominalToldMs - (this.nominalToldMs - toldMs) * 0.001;
  }

  private recompute(): void {
    this.sinceRecompute = 0;
    const n = Math.min(this.count, RESIDUALS);
    if (n < MIN_RESIDUALS) return;
    const sorted = this.ring.slice(0, n).sort();
    this.lo = sorted[Math.floor(0.01 * (n - 1))]!;
    this.hi = sorted[Math.ceil(0.99 * (n - 1))]!;
  }
}

/** A label's predicted wake window, edge epoch ms. */
export interface WakeWindow {
  a: number;
  b: number;
}

/**
 * Applies one report entry to the label's wake state: the residual of the previous prediction teaches the jitter;
 * the state then holds this sleep (start, ms told). `sleptAt` and `wokeAt` are edge times (report arrival − agoMs,
 * − awakeMs).
 */
export function observeReport(s: WakeState, jitter: WakeJitter, e: { sleptAt: number; wokeAt: number; toldMs: number }): void {
  const prevTold = s.wakeToldMs ?? 0;
  if (prevTold > 0 && s.wakeAt >= 0 && e.wokeAt > s.wakeAt) {
    jitter.add((e.wokeAt - s.wakeAt) / prevTold - 1);
  }
  jitter.noteTold(e.toldMs);
  s.wakeAt = e.sleptAt;
  s.wakeToldMs = e.toldMs;
}

/** The window of the label's next wake, or null when the label has no report. */
export function wakeWindow(s: WakeState, jitter: WakeJitter): WakeWindow | null {
  const told = s.wakeToldMs ?? null;
  if (told === null || s.wakeAt < 0) return null;
  return { a: s.wakeAt + told * (1 + jitter.lo), b: s.wakeAt + told * (1 + jitter.hi) };
}

export interface CostContext {
  now: number;
  /** When the AP's last wake report arrived: wakes after it are not known yet. */
  knownUntil: number;
  /** Claim → the AP holds every block (measured). */
  stageLatencyMs: number;
  /** A miss is seen at the next report and cancelled: the slot time it costs beyond the staging. */
  missCostMs: number;
  /** Cost of a label without a usable report (about half a sleep). */
  unknownMs: number;
  /** A window closed this long ago without a report: the label is not where we think (roamed, offline). */
  staleAfterMs: number;
}

/**
 * Expected slot time per label served when the label is staged now (ms); Infinity when it has most likely woken
 * unseen already (its report is on the way: stage it at its next window).
 */
export function stagingCost(w: WakeWindow | null, c: CostContext): number {
  return w === null ? c.unknownMs : windowCost(w.a, w.b, c);
}

/**
 * stagingCost of the label's own wake window (wakeWindow), without building it: a dispatch pass asks this for every
 * candidate of an AP, ~2,000 at a time on the reference store, and each window and context object was ~130 bytes
 * to scavenge (D149, heap sampling of a repricing).
 */
export function labelStagingCost(s: WakeState, jitter: WakeJitter, c: CostContext): number {
  const told = s.wakeToldMs ?? null;
  if (told === null || s.wakeAt < 0) return c.unknownMs;
  return windowCost(s.wakeAt + told * (1 + jitter.lo), s.wakeAt + told * (1 + jitter.hi), c);
}

/**
 * D161 The label's next wake is known: it has a report whose window has not gone stale (labelStagingCost is its
 * expected wait, not the guess for a label it knows nothing of).
 */
export function labelWakeKnown(s: WakeState, jitter: WakeJitter, c: CostContext): boolean {
  const told = s.wakeToldMs ?? null;
  if (told === null || s.wakeAt < 0) return false;
  return c.now - (s.wakeAt + told * (1 + jitter.hi)) <= c.staleAfterMs;
}

/** stagingCost of the window [a, b]. */
function windowCost(a: number, b: number, c: CostContext): number {
  const ready = c.now + c.stageLatencyMs;
  if (b < c.now) return c.now - b > c.staleAfterMs ? c.unknownMs : Infinity;
  // Not reported awake up to knownUntil: the wake is (about) uniform on [lo, b].
  const lo = Math.max(a, Math.min(c.knownUntil, b));
  if (ready <= lo) return (lo + b) / 2 - c.now;
  const span = b - lo;
  const pMiss = span <= 0 ? 1 : Math.min(1, (ready - lo) / span);
  if (pMiss >= 0.95) return Infinity;
  const waitIfHit = Math.max(0, (b - ready) / 2) + c.stageLatencyMs;
  return waitIfHit + (pMiss / (1 - pMiss)) * c.missCostMs;
}

/** D57 Why a label with a transfer on its AP slept without it (all but a deferral are cancelled). */
export type MissCause = 'deferral' | 'missUnseen' | 'missStaging' | 'missEarly' | 'missHeld';

/**
 * D57 Classifies a report entry (§5.6) of a label whose transfer is being sent to or staged on the AP it was
 * heard by: a nextWakeS shorter than the usual one is a deferral (the channel was busy, §5.6.1: the AP keeps the
 * transfer and serves it at that short wake — never a miss); else the label woke before the claim, unseen because
 * its report was still on the way (`claimedAt`, D91: the staging cost's gamble lost), or after it but before the AP
 * held every block (`heldAt`, Infinity while sending) — before its predicted window opened (`windowA`, a wrong
 * prediction) or inside it (the staging latency) — or while the AP held it, which only a deferral as long as a
 * sleep explains.
 */
export function missCause(
  e: { wokeAt: number; toldMs: number },
  nominalToldMs: number,
  staging?: { heldAt: number; windowA: number },
  claimedAt = -Infinity,
): MissCause {
  if (nominalToldMs > 0 && e.toldMs < 0.9 * nominalToldMs) return 'deferral';
  if (e.wokeAt < claimedAt) return 'missUnseen';
  const heldAt = staging?.heldAt ?? Infinity;
  if (e.wokeAt >= heldAt) return 'missHeld';
  if (staging && e.wokeAt < staging.windowA) return 'missEarly';
  return 'missStaging';
}
