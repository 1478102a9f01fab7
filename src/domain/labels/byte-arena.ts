/**
 * Small byte records packed into large shared slabs (D86). The image cache keeps ~50,000 pictures of ~0.8 kB each;
 * as one Buffer each, every picture also cost a JSArrayBuffer, a Uint8Array view and a backing-store record (~400 B
 * of V8 heap, measured) and a malloc block, about as much again as its bytes. Here a record is a number: its slab,
 * offset and length live in typed-array columns, its bytes inside a 1 MB slab.
 *
 * Freed space is reclaimed by moving: when more than a quarter of the slabs' bytes (and at least two slabs) are dead,
 * every slab less than three quarters full has its live records copied to the tail and is released. After that pass
 * every slab left is at least three quarters full, so a pass runs again only after as many bytes were freed again:
 * the copying costs at most three bytes per byte freed. A view returned earlier stays valid (it keeps its old slab
 * alive until dropped).
 */

const NONE = -1;

export class ByteArena {
  private slabs: (Buffer | null)[] = [];
  /** Live bytes per slab. */
  private live: number[] = [];
  private current = NONE;
  private tail = 0;
  private slabOf = new Int32Array(0);
  private offOf = new Int32Array(0);
  private lenOf = new Int32Array(0);
  private readonly freeIds: number[] = [];
  private used = 0;
  private liveTotal = 0;
  private slabTotal = 0;
  /** Bytes copied by compaction so far (tests, traces). */
  moved = 0;

  constructor(private readonly slabBytes = 1 << 20) {}

  /** Bytes held by live records. */
  get liveBytes(): number {
    return this.liveTotal;
  }
  /** Bytes of the slabs allocated (what the arena costs). */
  get allocatedBytes(): number {
    return this.slabTotal;
  }
  get records(): number {
    return this.used - this.freeIds.length;
  }

  /** Stores the concatenation of `parts`; returns the record's id. */
  add(parts: readonly Uint8Array[]): number {
    let len = 0;
    for (const p of parts) len += p.length;
    const id = this.newId();
    const [slab, off] = this.place(len);
    let at = off;
    for (const p of parts) {
      this.slabs[slab]!.set(p, at);
      at += p.length;
    }
    this.slabOf[id] = slab;
    this.offOf[id] = off;
    this.lenOf[id] = len;
    this.live[slab]! += len;
    this.liveTotal += len;
    return id;
  }

  /** The record's bytes, a view into its slab (copy it to keep it beyond the next add or free). */
  view(id: number): Buffer {
    const slab = this.slabs[this.slabOf[id]!]!;
    return slab.subarray(this.offOf[id], this.offOf[id]! + this.lenOf[id]!);
  }

  length(id: number): number {
    return this.lenOf[id]!;
  }

  free(id: number): void {
    const slab = this.slabOf[id]!;
    if (slab === NONE) return;
    const len = this.lenOf[id]!;
    this.live[slab]! -= len;
    this.liveTotal -= len;
    this.slabOf[id] = NONE;
    this.freeIds.push(id);
    if (this.live[slab] === 0 && slab !== this.current) this.release(slab);
    const dead = this.slabTotal - this.liveTotal - (this.current === NONE ? 0 : this.slabs[this.current]!.length - this.tail);
    if (dead > 2 * this.slabBytes && dead > this.slabTotal / 4) this.compact();
  }

  private newId(): number {
    const reuse = this.freeIds.pop();
    if (reuse !== undefined) return reuse;
    if (this.used >= this.slabOf.length) {
      const cap = Math.max(1024, this.used * 2);
      const grow = (a: Int32Array) => {
        const b = new Int32Array(cap);
        b.set(a);
        return b;
      };
      this.slabOf = grow(this.slabOf);
      this.offOf = grow(this.offOf);
      this.lenOf = grow(this.lenOf);
    }
    return this.used++;
  }

  /** Room for `len` bytes: the current slab's tail, a fresh slab, or a slab of its own for an outsized record. */
  private place(len: number): [number, number] {
    if (len > this.slabBytes / 4) return [this.newSlab(len, false), 0];
    if (this.current === NONE || this.tail + len > this.slabs[this.current]!.length) {
      if (this.current !== NONE && this.live[this.current] === 0) this.release(this.current);
      this.current = this.newSlab(this.slabBytes, true);
      this.tail = 0;
    }
    const off = this.tail;
    this.tail += len;
    return [this.current, off];
  }

  private newSlab(bytes: number, asCurrent: boolean): number {
    // allocUnsafeSlow: a slab of its own, not a slice of Node's shared pool; its bytes are always written before read.
    const buf = Buffer.allocUnsafeSlow(bytes);
    let i = this.slabs.indexOf(null);
    if (i < 0 || (asCurrent && i === this.current)) i = this.slabs.length;
    this.slabs[i] = buf;
    this.live[i] = 0;
    this.slabTotal += bytes;
    return i;
  }

  private release(slab: number): void {
    this.slabTotal -= this.slabs[slab]!.length;
    this.slabs[slab] = null;
    this.live[slab] = 0;
  }

  private compact(): void {
    const victims = new Set<number>();
    for (let s = 0; s < this.slabs.length; s++) {
      const b = this.slabs[s];
      if (b && s !== this.current && this.live[s]! < 0.75 * b.length) victims.add(s);
    }
    if (victims.size === 0) return;
    for (let id = 0; id < this.used; id++) {
      const s = this.slabOf[id]!;
      if (s === NONE || !victims.has(s)) continue;
      const len = this.lenOf[id]!;
      const from = this.slabs[s]!;
      const [to, off] = this.place(len);
      from.copy(this.slabs[to]!, off, this.offOf[id]!, this.offOf[id]! + len);
      this.slabOf[id] = to;
      this.offOf[id] = off;
      this.live[to]! += len;
      this.live[s]! -= len;
      this.moved += len;
    }
    for (const s of victims) this.release(s);
  }
}
