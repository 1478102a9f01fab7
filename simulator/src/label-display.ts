/**
 * The display side of a simulated label: what its memory holds per page, what the e-paper panel physically
 * shows, panel refreshes that take seconds, timed display (§6.5) and page switching.
 *
 * Two copies are kept on purpose. `memory` is what the label's firmware knows and hashes in its check-in;
 * `panel` is what a shopper sees (the simulator's ground truth). They differ while a refresh runs (the panel
 * still shows the old picture) and after a reboot (the e-paper keeps the old picture, but the label lost its RAM
 * copy and cannot prove what it shows, so it reports BLANK_HASH and the edge must send the image again).
 * Plane arrays are never modified in place once stored, so `panel` may share them with `memory`.
 */
import { BLANK_HASH, contentHash, type ContentHash, type LabelType } from '#protocol';
import type { SimClock, TimerHandle } from './sim-clock.js';

export type RefreshKind = 'full' | 'partial';

interface TimedImage {
  page: number;
  planes: Uint8Array;
  hash: ContentHash;
  kind: RefreshKind;
  /** Switches memory (and the reported hash) at displayAt. */
  timer: TimerHandle;
  /** §6.5.1 Starts the panel refresh so that it ends at displayAt. */
  refreshStart: TimerHandle | undefined;
  /** The early refresh has started. */
  refreshed: boolean;
}

export interface DisplayHooks {
  /** Called when a refresh completes and the panel shows the new picture; `newImage` when a stored image caused it. */
  onRefreshed(kind: RefreshKind, newImage: boolean): void;
}

export class LabelDisplay {
  /** Per page: the planes the label's memory holds (null = blank / lost). */
  private memory: (Uint8Array | null)[];
  private memoryHash: ContentHash[];
  /** The page the label displays (memory side). */
  page = 0;
  /** What the panel physically shows, and its page. */
  panel: Uint8Array | null = null;
  panelHash: ContentHash = BLANK_HASH;
  panelPage = 0;
  /** Simulated time at which the running refresh completes (0 = none running). */
  refreshUntil = 0;
  private refreshTimer: TimerHandle | undefined;
  private refreshForImage = false;
  private timed: TimedImage | undefined;
  private pageReturn: TimerHandle | undefined;

  constructor(
    readonly type: LabelType,
    private readonly clock: SimClock,
    private readonly hooks: DisplayHooks,
  ) {
    this.memory = new Array<Uint8Array | null>(type.pages).fill(null);
    this.memoryHash = new Array<ContentHash>(type.pages).fill(BLANK_HASH);
  }

  /** §5.3 The hash the label reports: over its memory of the page it displays. */
  reportedHash(): ContentHash {
    return this.memoryHash[this.page] ?? BLANK_HASH;
  }

  hashOfPage(page: number): ContentHash {
    return this.memoryHash[page] ?? BLANK_HASH;
  }

  planesOfPage(page: number): Uint8Array | null {
    return this.memory[page] ?? null;
  }

  /** Hash of the image waiting for its display time, if any. */
  timedHash(page: number): ContentHash | undefined {
    return this.timed !== undefined && this.timed.page === page ? this.timed.hash : undefined;
  }

  get refreshing(): boolean {
    return this.refreshUntil > this.clock.now();
  }

  /** Stores an image for `page`; refreshes the panel if that page is displayed. */
  store(page: number, planes: Uint8Array, hash: ContentHash, kind: RefreshKind): void {
    if (this.timed !== undefined && this.timed.page === page) this.cancelTimed();
    this.memory[page] = planes;
    this.memoryHash[page] = hash;
    if (page === this.page) this.startRefresh(kind, true);
  }

  /**
   * §6.5 Keeps an image and stores it at simulated time `atMs` (the label's clock reached displayAt). §6.5.1: when
   * the page is the one displayed, the panel refresh starts R before `atMs` so the new picture is legible exactly
   * from `atMs` (during a refresh nothing is legible, so no new price shows before it); memory and the reported hash
   * still switch at `atMs`, so nobody counts the picture as shown early.
   */
  storeAt(atMs: number, page: number, planes: Uint8Array, hash: ContentHash, kind: RefreshKind): void {
    this.cancelTimed();
    const timer = this.clock.schedule(atMs, () => {
      // The early refresh ran (or runs) to this picture and nothing else refreshed the panel since.
      const early = this.timed?.refreshed === true && page === this.page && (this.refreshingTimed || this.panelHash === hash);
      this.timed = undefined;
      if (early) {
        this.commitTimed(page, planes, hash, kind, this.refreshingTimed ? this.refreshUntil : this.clock.now());
        return;
      }
      this.refreshingTimed = false;
      this.store(page, planes, hash, kind);
    });
    const startAt = Math.max(this.clock.now(), atMs - this.refreshMs(kind));
    const refreshStart =
      page === this.page && startAt < atMs
        ? this.clock.schedule(startAt, () => {
            if (this.timed === undefined || page !== this.page) return;
            this.timed.refreshStart = undefined;
            this.timed.refreshed = true;
            this.startRefreshTo(kind, planes, hash, page);
          })
        : undefined;
    this.timed = { page, planes, hash, kind, timer, refreshStart, refreshed: false };
  }

  /**
   * §6.5.1 displayAt of a timed picture whose refresh started early: only memory (and the reported hash) switch now;
   * the panel shows it from `panelAt` (the end of that refresh). Benchmarks hook it like store().
   */
  commitTimed(page: number, planes: Uint8Array, hash: ContentHash, _kind: RefreshKind, _panelAt: number): void {
    this.memory[page] = planes;
    this.memoryHash[page] = hash;
  }

  /** A refresh towards a timed picture is running (§6.5.1): memory has not switched yet. */
  private refreshingTimed = false;

  /** §6.5.1 A refresh that ends with `planes` on the panel, before memory holds them. */
  private startRefreshTo(kind: RefreshKind, planes: Uint8Array, hash: ContentHash, page: number): void {
    this.refreshTimer?.cancel();
    const duration = this.refreshMs(kind);
    this.refreshUntil = this.clock.now() + duration;
    this.refreshForImage = true;
    this.refreshingTimed = true;
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      this.refreshUntil = 0;
      this.refreshingTimed = false;
      this.panel = planes;
      this.panelHash = hash;
      this.panelPage = page;
      this.refreshForImage = false;
      this.hooks.onRefreshed(kind, true);
    }, duration);
  }

  /** Forgets an image waiting for its display time on `page` (superseded by a newer transfer). */
  dropTimed(page: number): void {
    if (this.timed !== undefined && this.timed.page === page) this.cancelTimed();
  }

  /** §4.5 PAGE_SWITCH: shows `page`; with durationS > 0 goes back to page 0 afterwards. */
  switchPage(page: number, durationS: number): boolean {
    if (!Number.isInteger(page) || page < 0 || page >= this.type.pages) return false;
    this.pageReturn?.cancel();
    this.pageReturn = undefined;
    if (page !== this.page) {
      this.page = page;
      this.startRefresh('full', false);
    }
    if (durationS > 0 && page !== 0) {
      this.pageReturn = this.clock.setTimeout(() => {
        this.pageReturn = undefined;
        this.page = 0;
        this.startRefresh('full', false);
      }, durationS * 1000);
    }
    return true;
  }

  /** LABEL_COMMAND REFRESH: redraws the panel from memory. */
  refreshNow(): void {
    this.startRefresh('full', false);
  }

  /** Reboot: RAM is lost (memory, timed image, page state); the e-paper keeps showing its last picture. */
  wipeMemory(): void {
    this.cancelTimed();
    this.pageReturn?.cancel();
    this.pageReturn = undefined;
    this.refreshTimer?.cancel();
    this.refreshTimer = undefined;
    this.refreshUntil = 0;
    this.refreshForImage = false;
    this.refreshingTimed = false;
    this.memory.fill(null);
    this.memoryHash.fill(BLANK_HASH);
    this.page = 0;
  }

  refreshMs(kind: RefreshKind): number {
    return kind === 'partial' && this.type.partialRefresh ? this.type.partialRefreshMs : this.type.fullRefreshMs;
  }

  private startRefresh(kind: RefreshKind, newImage: boolean): void {
    this.refreshingTimed = false;
    // A refresh that interrupts another one for a new image still ends with that new image shown.
    const forImage = newImage || this.refreshForImage;
    this.refreshForImage = forImage;
    this.refreshTimer?.cancel();
    const duration = this.refreshMs(kind);
    this.refreshUntil = this.clock.now() + duration;
    this.refreshTimer = this.clock.setTimeout(() => {
      this.refreshTimer = undefined;
      this.refreshUntil = 0;
      this.panel = this.memory[this.page] ?? null;
      this.panelHash = this.panel === null ? BLANK_HASH : (this.memoryHash[this.page] ?? contentHash(this.panel));
      this.panelPage = this.page;
      this.refreshForImage = false;
      this.hooks.onRefreshed(kind, forImage);
    }, duration);
  }

  private cancelTimed(): void {
    this.timed?.timer.cancel();
    this.timed?.refreshStart?.cancel();
    this.timed = undefined;
  }
}
