/**
 * D120 The order in which a planning pass takes its dirty labels: the wake wave.
 *
 * An AP can send a label its picture only while the label is awake (protocol §5.2: it listens for a few ms after each
 * check-in, every sleep of ~30 s), and it holds at most its queue's worth of transfers (§7.1, 64 on the reference
 * AP). When a repricing is planned in catalogue order, the labels planned in its first minute wake at random over
 * the next sleep, so each AP's 64 slots hold labels that wake seconds later and its channel idles while the rest are
 * still being planned (bench/full-store, 10,000 labels: about half the air rate until planning ended).
 *
 * So the planner follows the wave: it takes next the labels whose next wake comes soonest after the time their
 * picture can be on the AP (`leadMs` ahead). Each label's phase in its sleep is computed once at the start of the
 * pass; a cursor walks the labels sorted by phase and jumps ahead to where the wave is when planning falls behind it
 * (the labels it skips are taken on the next lap, one sleep later, as they would have been anyway). Labels whose
 * wake is unknown go along in catalogue order, a share of each chunk in proportion to their number. A product's
 * labels stay in one chunk (D61).
 *
 * D129 Only labels whose next transfer is a delta ride the wave; full images go along in catalogue order. The wave
 * helps when the planner is the bottleneck: a repricing's deltas take ~70 ms of air each (~16 labels a second per
 * AP), about the rate the planner makes them, so what is planned first decides who can be served first. A full image
 * takes ~170 ms of air (~6 a second per AP) while the planner makes ~35 a second per AP: a fill is planned in its
 * first minute, and the dispatcher's cost order then picks the soonest wakers from the whole store. In wake order the
 * planned labels stay bunched at the wave's front, more of them than the air can take before they sleep again: a
 * reference fill missed 34,452 wakes against ~19,500 and took 1.37 × its bound against 1.22 (D129).
 *
 * Pure: labels and times in, label ids out.
 */

import { expectsDelta } from './label-record.js';

/** What the wave order reads of a label (a LabelRecord is one). */
export interface WaveLabel {
  readonly id: string;
  readonly gtin: string | null;
  /** Start of the label's last known sleep (ms), or < 0: unknown. */
  readonly wakeAt: number;
  /** §5.6 The sleep the AP told the label at that wake (ms), when its AP reports wakes. */
  readonly wakeToldMs: number | null;
  /** The interval learnt from its check-ins (ms), 0 when unknown (wake-predictor.ts). */
  readonly wakeIntervalMs: number;
  /** What the label shows (BLANK_HASH or null: nothing known), and whether it must get a full image (§6.4). */
  readonly confirmedHash: string | null;
  readonly forceFull: boolean;
}

/** The label's sleep length (ms), or null when its wake cannot be placed. */
export function sleepMs(l: WaveLabel): number | null {
  if (l.wakeAt < 0) return null;
  const p = l.wakeToldMs ?? (l.wakeIntervalMs > 0 ? l.wakeIntervalMs : null);
  return p !== null && p > 0 ? p : null;
}

interface Group {
  ids: string[];
  /** Phase of the group's first label to wake, as a fraction of the nominal sleep from the pass's start: [0, 1). */
  phase: number;
}

/** Phases closer than this are equal (the fraction is computed two ways, with rounding). */
const EPS = 1e-9;

export class WaveOrder {
  /** Products with a known wake, by phase. */
  private readonly wave: Group[];
  /**
   * Products without a known wake, or whose labels all expect a full image (D129): in catalogue order, taken alongside
   * the wave in proportion to their number.
   */
  private readonly unknown: Group[];
  private readonly taken: Uint8Array;
  private waveLeft: number;
  private unknownPos = 0;
  private pos = 0;
  /** The sleep the cursor's laps are measured in (ms): the median of the labels' sleeps. */
  readonly periodMs: number;

  constructor(
    labels: readonly WaveLabel[],
    private readonly startAt: number,
    private readonly size: number,
  ) {
    const byProduct = new Map<string, WaveLabel[]>();
    const loose: WaveLabel[][] = [];
    for (const l of labels) {
      if (l.gtin === null) loose.push([l]);
      else {
        const g = byProduct.get(l.gtin);
        if (g) g.push(l);
        else byProduct.set(l.gtin, [l]);
      }
    }
    const all = [...byProduct.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, ls]) => ls);
    all.push(...loose);
    const sleeps = labels.map(sleepMs).filter((p): p is number => p !== null);
    sleeps.sort((a, b) => a - b);
    this.periodMs = sleeps.length > 0 ? sleeps[sleeps.length >> 1]! : 30_000;
    this.wave = [];
    this.unknown = [];
    for (const ls of all) {
      ls.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      let soonest = Infinity;
      for (const l of ls) {
        const p = sleepMs(l);
        if (p === null || !expectsDelta(l)) continue;
        // The next wake at or after the start of the pass.
        const k = Math.max(0, Math.ceil((startAt - l.wakeAt - p) / p));
        soonest = Math.min(soonest, l.wakeAt + p * (k + 1) - startAt);
      }
      const ids = ls.map((l) => l.id);
      if (Number.isFinite(soonest)) this.wave.push({ ids, phase: (soonest % this.periodMs) / this.periodMs });
      else this.unknown.push({ ids, phase: 0 });
    }
    this.wave.sort((a, b) => a.phase - b.phase);
    this.taken = new Uint8Array(this.wave.length);
    this.waveLeft = this.wave.length;
  }

  /** No label left. */
  get done(): boolean {
    return this.waveLeft === 0 && this.unknownPos >= this.unknown.length;
  }

  /**
   * The next chunk (about `size` labels, whole products) at `now`: the labels that wake soonest after now + leadMs,
   * or null when every label has been taken.
   */
  next(now: number, leadMs: number): string[] | null {
    if (this.done) return null;
    const out: string[] = [];
    // Unknown wakes ride along in proportion, so they are neither first nor last.
    const unknownLeft = this.unknown.length - this.unknownPos;
    const quota = Math.ceil((this.size * unknownLeft) / (unknownLeft + this.waveLeft));
    while (out.length < quota && this.unknownPos < this.unknown.length) out.push(...this.unknown[this.unknownPos++]!.ids);
    const n = this.wave.length;
    if (this.waveLeft > 0) {
      const target = ((((now + leadMs - this.startAt) / this.periodMs) % 1) + 1) % 1;
      // The cursor jumps forward to the wave when it is behind it by less than half a lap; ahead of it, it goes on.
      const at = this.wave[this.pos % n]!.phase;
      const behind = (((target - at) % 1) + 1) % 1;
      if (behind > EPS && behind < 0.5) this.pos = this.lowerBound(target - EPS);
    }
    let scanned = 0;
    while (out.length < this.size && this.waveLeft > 0 && scanned < n) {
      const i = this.pos % n;
      this.pos = i + 1;
      scanned++;
      if (this.taken[i]) continue;
      this.taken[i] = 1;
      this.waveLeft--;
      out.push(...this.wave[i]!.ids);
    }
    return out;
  }

  private lowerBound(phase: number): number {
    let lo = 0;
    let hi = this.wave.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.wave[mid]!.phase < phase) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
