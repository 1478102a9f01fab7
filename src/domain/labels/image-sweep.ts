/**
 * The image cache keeps a picture in memory only while a label refers to it (desired, confirmed, in transfer, next;
 * issue 16 item 5): every SWEEP_INTERVAL_MS the label store's references are gathered and the cache and the label
 * store's interned hashes drop the rest.
 *
 * D147 The walk over the labels runs in slices of the event loop (task `image_sweep`): on the reference store it was
 * one synchronous stretch of two walks over 50,000 labels, a 4-element array per label each, which a CPU profile of a
 * repricing caught at ~600 ms (with the profiler; the loop's longest delays were 300–470 ms in the runs without it).
 * A label that changes during the walk is harmless: a picture it now needs that the sweep drops is read back from
 * sqlite on its next use (the cache is a cache), and an interned hash dropped in use is interned again.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { LoopSlices, type LoopTaskTiming } from '../../core/loop-tasks.js';
import type { ImageStore } from './image-store.js';
import type { LabelStore } from './label-store.js';

export const SWEEP_INTERVAL_MS = 60_000;

export class ImageSweep {
  private timer: TimerHandle | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Sweeps done and pictures dropped from memory since start. */
  readonly stats = { sweeps: 0, evicted: 0 };

  constructor(private readonly deps: { clock: Clock; labels: LabelStore; images: ImageStore; loopTasks?: LoopTaskTiming; intervalMs?: number }) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** One sweep now (the timer's, and tests'). */
  sweep(): Promise<void> {
    this.running ??= this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      void this.sweep().then(() => this.schedule());
    }, this.deps.intervalMs ?? SWEEP_INTERVAL_MS);
  }

  private async run(): Promise<void> {
    const used = await this.deps.labels.referencedHashes(new LoopSlices(this.deps.loopTasks, 'image_sweep'));
    if (this.stopped) return;
    this.stats.evicted += this.deps.images.sweep(used);
    this.deps.labels.pruneHashes(used);
    this.stats.sweeps++;
  }
}
