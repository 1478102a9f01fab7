/**
 * The one event queue behind every simulator clock: timed events, popped in time order, equal times first-in,
 * first-out (so runs are reproducible).
 *
 * Two binary min-heaps (D164). A store's labels each hold one wake-up ~30 s ahead, so at 200,000 labels the queue
 * holds ~200,000 far events; every radio exchange adds a handful of events a few ms ahead (a frame's end, the
 * label's resend timer, the AP's silence timer) that run or are cancelled soon. In one heap each of those near
 * events climbs through and each pop sinks through all ~18 levels of the far ones, reading an object per level:
 * 13 % of the simulator's CPU in a fill (bench/results/sim-cpu-profile-20000x10-s10-2026-12-05-d164-before.txt).
 * Near events go to a small heap of their own, so most pushes and pops touch a few hot levels, and the big heap
 * is touched once per wake-up. Which heap holds an event changes nothing in the order: `pop` takes the earlier of
 * the two tops.
 *
 * Cancellation is lazy (the entry is flagged and skipped when it surfaces) because removing from the middle of a
 * heap would need an index per entry; cancelled entries are compacted away when they come to outnumber the live
 * ones, so a cancel-heavy workload cannot grow a heap without bound.
 */

/** A queued event; it is its own timer handle (no closure per scheduled event). */
export class HeapEvent {
  cancelled = false;
  constructor(
    /** When the event is due, in the clock's milliseconds. */
    readonly at: number,
    /** Insertion order: events due at the same instant run first-in, first-out, so runs are reproducible. */
    readonly order: number,
    readonly run: () => void,
    /** The heap that holds it (true: the near one). */
    readonly near: boolean,
    private readonly queue: EventHeap,
  ) {}

  cancel(): void {
    this.queue.cancel(this);
  }
}

/**
 * An event due within this many ms after the last event popped goes to the near heap. Above the ms of a radio
 * exchange's timers (frames, resends, the 2 s a label listens for a lost AP, §9.1), below a wake interval.
 */
export const NEAR_HORIZON_MS = 2_500;

function before(a: HeapEvent, b: HeapEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

/**
 * A binary min-heap whose keys sit in typed arrays beside the events: sifting compares numbers read from two
 * contiguous arrays instead of dereferencing an event object per level, which at 200,000 entries is a cache miss
 * per level (bench/event-heap).
 */
class BinaryHeap {
  private at = new Float64Array(64);
  private ord = new Float64Array(64);
  private ev: (HeapEvent | undefined)[] = [];
  private n = 0;
  cancelled = 0;

  get live(): number {
    return this.n - this.cancelled;
  }

  push(e: HeapEvent): void {
    if (this.n === this.at.length) this.grow();
    this.siftUp(this.n++, e);
  }

  /** The earliest live event, cancelled ones on top dropped on the way. */
  top(): HeapEvent | undefined {
    while (this.n > 0 && this.ev[0]!.cancelled) {
      this.removeTop();
      this.cancelled--;
    }
    return this.n > 0 ? this.ev[0] : undefined;
  }

  removeTop(): void {
    const last = --this.n;
    const e = this.ev[last]!;
    this.ev[last] = undefined;
    if (last > 0) this.siftDown(0, e);
  }

  cancel(): void {
    this.cancelled++;
    if (this.cancelled > 1024 && this.cancelled * 2 > this.n) {
      const live = this.ev.slice(0, this.n).filter((e): e is HeapEvent => e !== undefined && !e.cancelled);
      this.ev.length = 0;
      this.n = 0;
      this.cancelled = 0;
      for (const e of live) this.push(e);
    }
  }

  clear(): void {
    for (let i = 0; i < this.n; i++) this.ev[i]!.cancelled = true;
    this.ev = [];
    this.n = 0;
    this.cancelled = 0;
  }

  private grow(): void {
    const at = new Float64Array(this.at.length * 2);
    at.set(this.at);
    this.at = at;
    const ord = new Float64Array(this.ord.length * 2);
    ord.set(this.ord);
    this.ord = ord;
  }

  /** Places `e` at hole `i` or above. */
  private siftUp(i: number, e: HeapEvent): void {
    const { at, ord } = this;
    const a = e.at;
    const o = e.order;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! < a || (at[p] === a && ord[p]! < o)) break;
      this.move(p, i);
      i = p;
    }
    this.place(i, e);
  }

  /** Places `e` at hole `i` or below. */
  private siftDown(i: number, e: HeapEvent): void {
    const { at, ord, n } = this;
    const a = e.at;
    const o = e.order;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (at[r]! < at[c]! || (at[r] === at[c] && ord[r]! < ord[c]!))) c = r;
      if (at[c]! > a || (at[c] === a && ord[c]! > o)) break;
      this.move(c, i);
      i = c;
    }
    this.place(i, e);
  }

  private move(from: number, to: number): void {
    this.at[to] = this.at[from]!;
    this.ord[to] = this.ord[from]!;
    this.ev[to] = this.ev[from];
  }

  private place(i: number, e: HeapEvent): void {
    this.at[i] = e.at;
    this.ord[i] = e.order;
    this.ev[i] = e;
  }
}

export interface EventHeapOptions {
  /** See NEAR_HORIZON_MS; 0 keeps every event in one heap (the layout before D164, for bench/event-heap). */
  nearHorizonMs?: number;
}

export class EventHeap {
  private readonly near = new BinaryHeap();
  private readonly far = new BinaryHeap();
  private readonly horizon: number;
  private nextOrder = 0;
  /** Due time of the latest event popped: the queue's idea of now. */
  private floor = -Infinity;

  constructor(opts: EventHeapOptions = {}) {
    this.horizon = opts.nearHorizonMs ?? NEAR_HORIZON_MS;
  }

  get size(): number {
    return this.near.live + this.far.live;
  }

  push(at: number, run: () => void): HeapEvent {
    const near = this.horizon > 0 && at - this.floor < this.horizon;
    const event = new HeapEvent(at, this.nextOrder++, run, near, this);
    (near ? this.near : this.far).push(event);
    return event;
  }

  cancel(event: HeapEvent): void {
    if (event.cancelled) return;
    event.cancelled = true;
    (event.near ? this.near : this.far).cancel();
  }

  /** The earliest live event, without removing it. */
  peek(): HeapEvent | undefined {
    return this.earliest()?.top();
  }

  /** Removes and returns the earliest live event. */
  pop(): HeapEvent | undefined {
    return this.popDue(Infinity);
  }

  /** Removes and returns the earliest live event if it is due at or before `limit`. */
  popDue(limit: number): HeapEvent | undefined {
    const heap = this.earliest();
    const e = heap?.top();
    if (heap === undefined || e === undefined || e.at > limit) return undefined;
    heap.removeTop();
    if (e.at > this.floor) this.floor = e.at;
    return e;
  }

  /** The heap whose top is the earliest live event by (time, insertion); undefined when both are empty. */
  private earliest(): BinaryHeap | undefined {
    const n = this.near.top();
    const f = this.far.top();
    if (n === undefined) return f === undefined ? undefined : this.far;
    return f === undefined || before(n, f) ? this.near : this.far;
  }

  clear(): void {
    this.near.clear();
    this.far.clear();
  }
}
