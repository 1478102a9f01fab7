/**
 * D147 What fills the event loop's longest gaps: a 10-ms interval timer (as `monitorEventLoopDelay({ resolution: 10 })`
 * samples) notes each gap between two of its runs; for every gap over 30 ms (a delay over 20 ms, issue 16 item 3) it
 * keeps which of the edge's timed stretches (src/core/loop-tasks.ts: dispatch slices, delta-preparer turns, planner
 * stretches, AP frames) ended inside it and, at report time, which GC pauses began inside it. What is left of the gap
 * is untimed work: the broker's socket reads and writes, the intake, timers, promise callbacks. The longest five gaps are
 * listed one by one, with when they came.
 *
 * The histogram beside it (bench/full-store-edge.ts `lag`) gives the percentiles; this gives their make-up, so the
 * next change goes where the gaps come from instead of where a profile's busy time is.
 */
import { performance } from 'node:perf_hooks';
import type { LoopTask } from '../src/core/loop-tasks.js';

const INTERVAL_MS = 10;
/** Gaps kept: over 30 ms (a delay over 20 ms) and, apart, over 60 ms. */
const LONG_MS = 30;
const VERY_LONG_MS = 60;

interface Gap {
  start: number;
  end: number;
  /** Stretches that ended inside the gap: [task, start, end]. */
  stretches: [LoopTask, number, number][];
}

export interface GapMakeup {
  /** Gaps over the threshold and their summed length (ms, timer to timer, as the delay histogram counts them). */
  gaps: number;
  gapMs: number;
  /** Summed ms per timed task (stretches ending inside the gaps), and stretch counts. */
  tasks: Record<string, [number, number]>;
  /** GC pauses that began inside the gaps outside every timed stretch: [count, ms]; inside a stretch: counted there. */
  gcOutside: [number, number];
  gcInside: [number, number];
  /** gapMs − the interval − tasks − gcOutside: untimed work (I/O callbacks, the broker, intake, timers). */
  otherMs: number;
}

/** One of the longest gaps: when (s after the last reset), how long, and its make-up as above. */
export interface LongestGap extends Omit<GapMakeup, 'gaps'> {
  atS: number;
}

/** How many of the longest gaps the report lists one by one. */
const LONGEST = 5;

export class LoopGapProbe {
  private prev = performance.now();
  private pending: [LoopTask, number, number][] = [];
  private gaps: Gap[] = [];
  private resetAt = performance.now();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => this.tick(), INTERVAL_MS);
    this.timer.unref();
  }

  /** A stretch of the edge's own work ended at `endMs` after `ms` (LoopTaskTiming's observer). */
  stretch(task: LoopTask, endMs: number, ms: number): void {
    this.pending.push([task, endMs - ms, endMs]);
  }

  private tick(): void {
    const now = performance.now();
    if (now - this.prev > LONG_MS) this.gaps.push({ start: this.prev, end: now, stretches: this.pending });
    this.pending = [];
    this.prev = now;
  }

  /** The make-up of the gaps since the last reset; `gc` are the GC pauses since then ([start, duration], ms). */
  report(gc: readonly [number, number][]): { over30: GapMakeup; over60: GapMakeup; longest: LongestGap[] } {
    const sorted = [...gc].sort((a, b) => a[0] - b[0]);
    const longest = [...this.gaps]
      .sort((a, b) => b.end - b.start - (a.end - a.start))
      .slice(0, LONGEST)
      .map((g) => {
        const { gaps: _n, ...m } = makeup([g], sorted, LONG_MS);
        return { atS: Math.round((g.start - this.resetAt) / 100) / 10, ...m };
      });
    return { over30: makeup(this.gaps, sorted, LONG_MS), over60: makeup(this.gaps, sorted, VERY_LONG_MS), longest };
  }

  reset(): void {
    this.gaps = [];
    this.resetAt = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function makeup(all: Gap[], gc: readonly [number, number][], over: number): GapMakeup {
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const out: GapMakeup = { gaps: 0, gapMs: 0, tasks: {}, gcOutside: [0, 0], gcInside: [0, 0], otherMs: 0 };
  let taskMs = 0;
  let lo = 0;
  for (const g of all) {
    const len = g.end - g.start;
    if (len <= over) continue;
    out.gaps++;
    out.gapMs += len;
    for (const [task, s, e] of g.stretches) {
      const t = (out.tasks[task] ??= [0, 0]);
      t[0] += e - s;
      t[1]++;
      taskMs += e - s;
    }
    while (lo < gc.length && gc[lo]![0] < g.start) lo++;
    for (let i = lo; i < gc.length && gc[i]![0] < g.end; i++) {
      const [gs, gd] = gc[i]!;
      const inside = g.stretches.some(([, s, e]) => gs >= s && gs < e);
      const bucket = inside ? out.gcInside : out.gcOutside;
      bucket[0]++;
      bucket[1] += gd;
    }
  }
  out.otherMs = r1(out.gapMs - out.gaps * INTERVAL_MS - taskMs - out.gcOutside[1]);
  out.gapMs = r1(out.gapMs);
  for (const t of Object.values(out.tasks)) t[0] = r1(t[0]);
  out.gcOutside[1] = r1(out.gcOutside[1]);
  out.gcInside[1] = r1(out.gcInside[1]);
  return out;
}
