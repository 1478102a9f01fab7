/**
 * The k smallest of n items under a comparator, in order, without sorting all n (D101).
 *
 * A dispatch pass looks at every label with work on an AP (2,000 per AP in the reference store during a repricing)
 * but gives out only the AP's free slots — usually a few, at most its queue capacity. Sorting all candidates each
 * pass was the edge's largest single cost in a repricing (bench/results/…-d101-…); a bounded max-heap of k keeps the
 * pass at O(n log k). Items are indices 0..n−1 and the comparator must be a total order (callers end it with the
 * index), so the result equals `sort(cmp).slice(0, k)` of a stable sort exactly.
 */
export class TopK {
  private heap: number[] = [];

  constructor(
    private readonly k: number,
    /** Negative when item a comes before item b. */
    private readonly cmp: (a: number, b: number) => number,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Offers item i; kept when it is among the k first so far. */
  offer(i: number): void {
    const h = this.heap;
    if (this.k <= 0) return;
    if (h.length < this.k) {
      h.push(i);
      this.up(h.length - 1);
      return;
    }
    // h[0] is the last of the k kept: an item that comes after it is not among them.
    if (this.cmp(i, h[0]!) >= 0) return;
    h[0] = i;
    this.down(0);
  }

  /** The kept items, first first. */
  sorted(): number[] {
    return this.heap.slice().sort(this.cmp);
  }

  private up(j: number): void {
    const h = this.heap;
    while (j > 0) {
      const p = (j - 1) >> 1;
      if (this.cmp(h[j]!, h[p]!) <= 0) return;
      [h[j], h[p]] = [h[p]!, h[j]!];
      j = p;
    }
  }

  private down(j: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * j + 1;
      const r = l + 1;
      let m = j;
      if (l < h.length && this.cmp(h[l]!, h[m]!) > 0) m = l;
      if (r < h.length && this.cmp(h[r]!, h[m]!) > 0) m = r;
      if (m === j) return;
      [h[j], h[m]] = [h[m]!, h[j]!];
      j = m;
    }
  }
}
