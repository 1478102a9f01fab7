/**
 * Measurement of the simulated store for the full-store benchmark: per label the radio frames and bytes of its
 * transfers, and the exact simulated time at which each new picture appears on its panel; per AP the lower bound of
 * /work/shared/reference-store.md; and whether the simulator itself keeps up with its clock.
 *
 * The simulator counts a label's transfer bytes (LabelStats.bytesOnAir) but not its frames, and tells nobody when a
 * panel refresh ends. Both are observed here by wrapping two public methods of each simulated label:
 * `accountAir(bytes, inTransfer)` (called for every frame to or from the label) and `display.store(…, kind)`
 * (called when an image goes to the panel; the panel shows it `refreshMs(kind)` later). The wrappers only count.
 */
import { FRAME_OVERHEAD, type ContentHash } from '#protocol';
import type { RadioModel } from '../simulator/src/radio-model.js';
import type { SimClock, TimerHandle } from '../simulator/src/sim-clock.js';
import type { StoreSimulator } from '../simulator/src/store-simulator.js';
import type { VirtualLabel } from '../simulator/src/virtual-label.js';

export interface Snapshot {
  at: number;
  bytes: Float64Array;
  frames: Float64Array;
  stores: Float64Array;
  /** Every radio frame of the store (check-ins and sleeps too), from the simulated medium. */
  radioBytes: number;
}

export interface ApBound {
  apId: string;
  labels: number;
  /** Σ (b_i + overhead × rate × frames_i) / rate: the AP's air time for the update. */
  airS: number;
  /** Refresh of the last label: at best the quickest of the AP's labels in the update. */
  lastRefreshS: number;
  /** One wake interval plus the longest refresh among the AP's labels in the update. */
  floorS: number;
  boundS: number;
}

export interface UpdateRadio {
  /** Labels whose panel got at least one new image in the window. */
  labelsUpdated: number;
  /** Labels with transfer frames on air in the window. */
  labelsOnAir: number;
  bytesOnAir: number;
  frames: number;
  radioBytes: number;
  boundS: number;
  perAp: ApBound[];
}

/** One sample per simulated second (the AP queues, and how far the watched update has come). */
export interface QueueSample {
  at: number;
  /** Transfers staged over all APs / their total queue capacity. */
  fill: number;
  starved: boolean;
  wakeIn: number[];
  /** Labels of the watched update whose panel got a new picture by now. */
  shown: number;
  /** APs with a transfer on air at this instant. */
  onAir: number;
}

/** D156 The watched update's waiting labels' wake-ups (simulated ms), and those that found their AP free with nothing staged. */
export interface WakeTally {
  waiting: number[];
  starved: number[];
}

export class StoreProbe {
  readonly ids: string[];
  readonly index = new Map<string, number>();
  private readonly labels: VirtualLabel[];
  private readonly apIds: string[];
  private readonly home: Int32Array;
  readonly frames: Float64Array;
  readonly stores: Float64Array;
  /** Per label: the hash of the image last put on the panel, when the panel shows it, and its refresh time. */
  readonly lastHash: (ContentHash | undefined)[];
  readonly shownAt: Float64Array;
  readonly refreshMs: Float64Array;
  private lateness: number[] = [];
  private queueFill: QueueSample[] = [];
  private wakes: WakeTally = { waiting: [], starved: [] };
  private readonly byId = new Map<string, VirtualLabel>();
  /** The update being measured: its labels, their stores when it began, and when each became sendable. */
  private watched: { labels: readonly number[]; member: Uint8Array; start: Float64Array; refAt: (i: number) => number } | undefined;
  private ticker: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly sim: StoreSimulator,
    private readonly clock: SimClock,
    private readonly queueCapacity: number,
    /** D156 Hook every label's wake-up for the starved-wake tally (bench --starved-wakes on). */
    tallyWakes = false,
  ) {
    this.ids = sim.labelIds();
    this.labels = this.ids.map((id) => sim.label(id));
    this.labels.forEach((l, i) => this.byId.set(this.ids[i]!, l));
    this.apIds = [...new Set(this.labels.map((l) => l.homeApId))].sort();
    const apIndex = new Map(this.apIds.map((a, i) => [a, i]));
    const n = this.ids.length;
    this.home = new Int32Array(n);
    this.frames = new Float64Array(n);
    this.stores = new Float64Array(n);
    this.shownAt = new Float64Array(n);
    this.refreshMs = new Float64Array(n);
    this.lastHash = new Array<ContentHash | undefined>(n);
    this.labels.forEach((label, i) => {
      this.index.set(label.id, i);
      this.home[i] = apIndex.get(label.homeApId)!;
      const account = label.accountAir.bind(label);
      label.accountAir = (bytes: number, inTransfer: boolean) => {
        if (inTransfer) this.frames[i]!++;
        account(bytes, inTransfer);
      };
      // D156 Each wake-up (virtual-label.ts wake(): private, so reached by name; not one that only waits for a refresh).
      if (tallyWakes) {
        const own = label as unknown as { wake: () => void };
        const wake = own.wake.bind(label);
        own.wake = () => {
          if (label.display.refreshUntil <= clock.now()) this.onWake(i);
          wake();
        };
      }
      const display = label.display;
      const store = display.store.bind(display);
      display.store = (page, planes, hash, kind) => {
        store(page, planes, hash, kind);
        // Only the page on show refreshes the panel (page 0 throughout this benchmark).
        if (page !== display.page) return;
        this.stores[i]!++;
        this.lastHash[i] = hash;
        this.refreshMs[i] = display.refreshMs(kind);
        this.shownAt[i] = clock.now() + this.refreshMs[i]!;
      };
      // §6.5.1 A timed picture whose refresh started early: the panel shows it from panelAt.
      const commit = display.commitTimed.bind(display);
      display.commitTimed = (page, planes, hash, kind, panelAt) => {
        commit(page, planes, hash, kind, panelAt);
        if (page !== display.page) return;
        this.stores[i]!++;
        this.lastHash[i] = hash;
        this.refreshMs[i] = display.refreshMs(kind);
        this.shownAt[i] = panelAt;
      };
    });
    this.tick();
  }

  /** Every simulated second: how late the clock runs this event (the simulator keeping up), and AP queue fill. */
  private tick(): void {
    if (this.stopped) return;
    const due = this.clock.now() + 1_000;
    this.ticker = this.clock.schedule(due, () => {
      // D118 Inside an event the simulator's clock reads the event's due time: its lateness is the wall clock's.
      const wall = this.clock.wallNow?.() ?? this.clock.now();
      this.lateness.push(wall - due);
      let staged = 0;
      const stagedOf = this.apIds.map((ap) => this.sim.apStats(ap).staged);
      for (const n of stagedOf) staged += n;
      const onAir = this.apIds.filter((ap) => this.sim.ap(ap).radio.transferOnAir !== undefined).length;
      this.queueFill.push({ at: due, fill: staged / (this.apIds.length * this.queueCapacity), starved: this.starved(due, stagedOf), wakeIn: this.stagedWakeIn(due), shown: this.shownOfWatched(), onAir });
      this.tick();
    });
  }

  /**
   * D91 Ground truth on the edge's picks: the labels with a transfer staged on their APs now, by how soon they will
   * wake (< 1 s, 1–3 s, 3–10 s, ≥ 10 s): a scheduler that stages well has its slots in the first two.
   */
  private stagedWakeIn(now: number): number[] {
    // [< 1 s, 1–3 s, 3–10 s, ≥ 10 s, of these ≥ 10 s: an attempt was cut off, told a normal sleep, never told]
    const n = [0, 0, 0, 0, 0, 0, 0];
    for (const ap of this.apIds) {
      const a = this.sim.ap(ap);
      for (const id of a.transfers.labelIds()) {
        const l = this.byId.get(id);
        if (l === undefined) continue;
        const s = (l.nextWakeAt - now) / 1000;
        n[s < 1 ? 0 : s < 3 ? 1 : s < 10 ? 2 : 3]!++;
        if (s >= 10) {
          const told = a.radio.lastToldS(id);
          if (a.transfers.forLabel(id).some((t) => t.radioAttempts > 0)) n[4]!++;
          else if (told >= 30) n[5]!++;
          else if (told === 0) n[6]!++;
        }
      }
    }
    return n;
  }

  private shownOfWatched(): number {
    const w = this.watched;
    if (w === undefined) return 0;
    let n = 0;
    for (const i of w.labels) if (this.stores[i]! > w.start[i]!) n++;
    return n;
  }

  /** Measures the update of `labels` from now on (edge_keeps_up, bench/full-store-report.ts): see starved(). */
  watch(labels: readonly number[], refAt: (i: number) => number): void {
    const member = new Uint8Array(this.ids.length);
    for (const i of labels) member[i] = 1;
    this.watched = { labels, member, start: this.stores.slice(), refAt };
    this.wakes = { waiting: [], starved: [] };
  }

  /**
   * D156 A wake-up of a label of the update that has waited more than 2 s (as in starved()) and is not shown yet. It
   * is *starved* when its AP's channel is free, the AP has a free slot and nothing is staged for the label: the radio
   * offered the edge this label now and the edge had nothing there. starved() asks the same of a sampled instant, so
   * any of 25 channels between two transfers while a label sleeps unstaged counts; this asks it of the wake-ups,
   * the only moments a transfer could have started.
   */
  private onWake(i: number): void {
    const w = this.watched;
    const now = this.clock.now();
    if (w === undefined || w.member[i] === 0 || !this.waitingLong(w, i, now)) return;
    this.wakes.waiting.push(now);
    const ap = this.sim.ap(this.apIds[this.home[i]!]!);
    if (ap.radio.transferOnAir !== undefined || ap.transfers.size >= this.queueCapacity) return;
    if (this.nothingStaged(i)) this.wakes.starved.push(now);
  }

  /** A label of the watched update not shown yet, sendable for more than 2 s (starved() and onWake() ask this). */
  private waitingLong(w: NonNullable<StoreProbe['watched']>, i: number, now: number): boolean {
    return this.stores[i]! <= w.start[i]! && w.refAt(i) <= now - 2_000;
  }

  /** No transfer for the label on its home AP. */
  private nothingStaged(i: number): boolean {
    return this.sim.ap(this.apIds[this.home[i]!]!).transfers.forLabel(this.ids[i]!).length === 0;
  }

  /**
   * An AP is starved at this instant when a label of the update has waited more than 2 s since its change (time to
   * plan it), is neither shown nor staged on its AP, and that AP has a free slot and no transfer on air: the edge,
   * not the radio, holds the update back (D37 edge_keeps_up).
   */
  private starved(now: number, stagedOf: readonly number[]): boolean {
    const w = this.watched;
    if (w === undefined) return false;
    const idleAp = this.apIds.map((ap, a) => stagedOf[a]! < this.queueCapacity && this.sim.ap(ap).radio.transferOnAir === undefined);
    if (!idleAp.some(Boolean)) return false;
    for (const i of w.labels) {
      if (!idleAp[this.home[i]!] || !this.waitingLong(w, i, now)) continue;
      if (this.nothingStaged(i)) return true;
    }
    return false;
  }

  stop(): void {
    this.stopped = true;
    this.ticker?.cancel();
  }

  /** Lateness of the simulator's clock since the last call (simulated ms), and the AP queue samples. */
  takeSamples(): { latenessP99Ms: number; latenessMaxMs: number; queueFill: QueueSample[]; wakes: WakeTally } {
    const l = this.lateness.sort((a, b) => a - b);
    const out = { latenessP99Ms: percentile(l, 0.99), latenessMaxMs: l.at(-1) ?? 0, queueFill: this.queueFill, wakes: this.wakes };
    this.lateness = [];
    this.queueFill = [];
    this.wakes = { waiting: [], starved: [] };
    return out;
  }

  /** The home AP of label i. */
  homeAp(i: number): string {
    return this.apIds[this.home[i]!]!;
  }

  panelHash(i: number): ContentHash {
    return this.labels[i]!.display.panelHash;
  }

  snapshot(): Snapshot {
    return {
      at: this.clock.now(),
      bytes: Float64Array.from(this.labels, (l) => l.stats.bytesOnAir),
      frames: this.frames.slice(),
      stores: this.stores.slice(),
      radioBytes: this.sim.radioStats().bytesSent,
    };
  }

  /**
   * Bytes on air between two snapshots, and the reference-store lower bound computed from them: per AP,
   * Σ(b_i + frameOverhead × rate × frames_i) / rate + the refresh of the last label, never less than one wake
   * interval plus the longest refresh; the store's bound is the largest over its APs. b_i are the payload bytes of
   * label i's transfer frames as they were actually sent (after the edge's compression or delta, re-sent parts
   * and block requests included); the frame header and CRC are part of the fixed per-frame cost (radio-model.ts).
   */
  radio(model: RadioModel, before: Snapshot, after: Snapshot): UpdateRadio {
    const nAps = this.apIds.length;
    const payload = new Float64Array(nAps);
    const frames = new Float64Array(nAps);
    const labels = new Float64Array(nAps);
    const minRefresh = new Float64Array(nAps).fill(Infinity);
    const maxRefresh = new Float64Array(nAps);
    let bytesOnAir = 0;
    let totalFrames = 0;
    let labelsUpdated = 0;
    let labelsOnAir = 0;
    for (let i = 0; i < this.ids.length; i++) {
      const a = this.home[i]!;
      const db = after.bytes[i]! - before.bytes[i]!;
      const df = after.frames[i]! - before.frames[i]!;
      if (df > 0) {
        labelsOnAir++;
        bytesOnAir += db;
        totalFrames += df;
        payload[a]! += db - FRAME_OVERHEAD * df;
        frames[a]! += df;
      }
      if (after.stores[i]! > before.stores[i]!) {
        labelsUpdated++;
        labels[a]!++;
        minRefresh[a] = Math.min(minRefresh[a]!, this.refreshMs[i]!);
        maxRefresh[a] = Math.max(maxRefresh[a]!, this.refreshMs[i]!);
      }
    }
    const perAp: ApBound[] = [];
    for (let a = 0; a < nAps; a++) {
      if (labels[a] === 0 && frames[a] === 0) continue;
      const airS = (payload[a]! + (model.frameOverheadMs / 1000) * model.apBytesPerSecond * frames[a]!) / model.apBytesPerSecond;
      const lastRefreshS = labels[a]! > 0 ? minRefresh[a]! / 1000 : 0;
      const floorS = model.wakeIntervalMs / 1000 + maxRefresh[a]! / 1000;
      perAp.push({ apId: this.apIds[a]!, labels: labels[a]!, airS, lastRefreshS, floorS, boundS: Math.max(airS + lastRefreshS, floorS) });
    }
    return {
      labelsUpdated,
      labelsOnAir,
      bytesOnAir,
      frames: totalFrames,
      radioBytes: after.radioBytes - before.radioBytes,
      boundS: perAp.reduce((m, p) => Math.max(m, p.boundS), 0),
      perAp,
    };
  }
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
