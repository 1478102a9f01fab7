/**
 * Label PNGs by content hash, least recently used out. A hash names one picture for ever, so nothing here goes
 * stale; the bound keeps a 50,000-label wall from holding every picture (2,000 × ~2 kB ≈ 4 MB). Concurrent requests
 * for one picture share one render.
 */
export class PngCache {
  private readonly entries = new Map<string, Promise<Buffer | undefined>>();
  constructor(private readonly max: number) {}

  get(key: string, make: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const p = make().then((png) => {
      if (!png) this.entries.delete(key); // an image not (yet) stored may come later
      return png;
    });
    p.catch(() => this.entries.delete(key));
    this.entries.set(key, p);
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
    return p;
  }
}
