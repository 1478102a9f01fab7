/**
 * The payloads of recent transfers, so that a transfer staged again is not encoded again (D102).
 *
 * A staged transfer whose label slept without it is cancelled and staged again before the label's next window
 * (D35, D57, D91): in a repricing of 10,000 labels on 5 APs the edge started 14,753 transfers for 10,000 deliveries
 * (bench/results/…-cpu-base-…), and each start loaded (inflated) the target and base pictures and ran
 * `chooseEncoding` (protocol §6.6.1) again — the same bytes as the time before. The payload depends only on what is
 * encoded and for whom: the target picture, the base it is a delta against (none for a full image), the panel type,
 * the AP's capabilities and the label's decoders (pictures are named by content hash, §6.1, so a hash always means
 * the same pixels). Two labels of the same product with the same base share an entry too.
 *
 * Bounded by payload bytes (least recently used out): a repricing's payloads are ~150 B, a fill's ~800 B, so the
 * default 2 MB holds a few thousand — more than the transfers an edge has under way or just missed.
 */
import type { EncodedImage } from '#protocol';

/** Payload bytes kept at most (see above). */
export const ENCODING_CACHE_BYTES = 2 * 1024 * 1024;

export interface EncodingKey {
  targetHash: string;
  /** The hash of the picture the delta is against, or null when no base is used (a full image). */
  baseHash: string | null;
  labelType: number;
  apCapabilities: number;
  /** The label's §5.3 decoder bits (null: never announced). */
  decoders: number | null;
}

export class EncodingCache {
  private readonly entries = new Map<string, EncodedImage>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes = ENCODING_CACHE_BYTES) {}

  get size(): number {
    return this.entries.size;
  }

  /** The payload for `k`, encoded by `encode` only when it is not kept. */
  async obtain(k: EncodingKey, encode: () => Promise<EncodedImage>): Promise<EncodedImage> {
    const key = `${k.targetHash}|${k.baseHash ?? '-'}|${k.labelType}|${k.apCapabilities}|${k.decoders ?? '-'}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      // Most recently used last (Map keeps insertion order).
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.misses++;
    const encoded = await encode();
    if (encoded.payload.length > this.maxBytes / 16) return encoded;
    if (!this.entries.has(key)) {
      this.entries.set(key, encoded);
      this.bytes += encoded.payload.length;
      for (const [old, e] of this.entries) {
        if (this.bytes <= this.maxBytes) break;
        this.entries.delete(old);
        this.bytes -= e.payload.length;
      }
    }
    return encoded;
  }
}
