/**
 * A binary min-heap of timed events: the one event queue behind every simulator clock.
 *
 * 50,000 labels each hold one pending wake-up; a heap keeps insertion and removal at O(log n) without one
 * host timer per label. Cancellation is lazy (the entry is flagged and skipped when it surfaces) because removing
 * from the middle of a heap would need an index per entry; cancelled entries are compacted away when they come to
 * outnumber the live ones, so a cancel-heavy workload cannot grow the heap without bound.
 */

export interface HeapEvent {
  /** When the event is due, in the clock's milliseconds. */
  at: number;
  /** Insertion order: events due at the same instant run first-in, first-out, so runs are reproducible. */
  order: number;
  run: () => void;
  cancelled: boolean;
}

export class EventHeap {
  private items: HeapEvent[] = [];
  private nextOrder = 0;
  private cancelledCount = 0;

  get size(): number {
    return this.items.length - this.cancelledCount;
  }

  push(at: number, run: () => void): HeapEvent {
    const event: HeapEvent = { at, order: this.nextOrder++, run, cancelled: false };
    this.items.push(event);
    this.siftUp(this.items.length - 1);
    return event;
  }

  cancel(event: HeapEvent): void {
    if (event.cancelled) return;
    event.cancelled = true;
    this.cancelledCount++;
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.items.length) this.compact();
  }

  /** The earliest live event, without removing it. */
  peek(): HeapEvent | undefined {
    this.dropCancelledTop();
    return this.items[0];
  }

  /** Removes and returns the earliest live event. */
  pop(): HeapEvent | undefined {
    this.dropCancelledTop();
    return this.removeTop();
  }

  clear(): void {
    for (const e of this.items) e.cancelled = true;
    this.items = [];
    this.cancelledCount = 0;
  }

  private dropCancelledTop(): void {
    while (this.items.length > 0 && this.items[0]!.cancelled) {
      this.removeTop();
      this.cancelledCount--;
    }
  }

  private removeTop(): HeapEvent | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private compact(): void {
    this.items = this.items.filter((e) => !e.cancelled);
    this.cancelledCount = 0;
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private static before(a: HeapEvent, b: HeapEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.order < b.order);
  }

  private siftUp(i: number): void {
    const items = this.items;
    const e = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (!EventHeap.before(e, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = e;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && EventHeap.before(items[r]!, items[l]!) ? r : l;
      if (!EventHeap.before(items[child]!, e)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = e;
  }
}
