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
import type { DeltaJob } from '../ports.js';

/** Payload bytes kept at most (see above). */
export const ENCODING_CACHE_BYTES = 2 * 1024 * 1024;

/**
 * D126 Bytes the payloads prepared when planned may hold (payload plus PREPARED_OVERHEAD each): a repricing's deltas
 * are ~150 B, so 20 MB hold the reference store's 50,000 at once. Beyond it a label is encoded when staged, as before.
 */
export const PREPARED_BYTES = 20 * 1024 * 1024;
/** What a prepared entry costs beside its payload: its Map entry and key object (the hashes are shared strings). */
const PREPARED_OVERHEAD = 160;

/** What a payload is encoded for: the pictures by hash, and for whom (the fields a DeltaJob carries, D148). */
export interface EncodingKey extends Pick<DeltaJob, 'labelType' | 'apCapabilities' | 'decoders' | 'targetHash'> {
  /** The hash of the picture the delta is against, or null when no base is used (a full image). */
  baseHash: string | null;
}

/** Whether two keys name the same payload. */
export function sameEncodingKey(a: EncodingKey, b: EncodingKey): boolean {
  return a.targetHash === b.targetHash && a.baseHash === b.baseHash && a.labelType === b.labelType && a.apCapabilities === b.apCapabilities && a.decoders === b.decoders;
}

export class EncodingCache {
  private readonly entries = new Map<string, EncodedImage>();
  private bytes = 0;
  /**
   * D126 Per label, the payload encoded when its picture was planned, kept until the label has it (release) or a newer
   * plan replaces it. Not least-recently-used: a repricing plans every label before most of them wake, and a payload
   * evicted before its label's wake costs two picture reads on the sqlite queue when it is staged.
   */
  private readonly prepared = new Map<string, { key: EncodingKey; encoded: EncodedImage }>();
  private preparedBytes = 0;
  hits = 0;
  misses = 0;
  preparedHits = 0;

  constructor(
    private readonly maxBytes = ENCODING_CACHE_BYTES,
    private readonly maxPreparedBytes = PREPARED_BYTES,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get preparedCount(): number {
    return this.prepared.size;
  }

  /** Whether a payload for the label's `k` is kept already (so it need not be encoded again). */
  hasPrepared(labelId: string, k: EncodingKey): boolean {
    const p = this.prepared.get(labelId);
    return p !== undefined && sameEncodingKey(p.key, k);
  }

  /**
   * Keeps the label's payload for `k` until release(); replaces what the label had. False when the budget is spent
   * (the label is then encoded when staged).
   */
  prepare(labelId: string, k: EncodingKey, encoded: EncodedImage): boolean {
    this.release(labelId);
    const cost = encoded.payload.length + PREPARED_OVERHEAD;
    if (this.preparedBytes + cost > this.maxPreparedBytes) return false;
    this.prepared.set(labelId, { key: k, encoded });
    this.preparedBytes += cost;
    return true;
  }

  /** Forgets the label's prepared payload (it has its picture, or will need another). */
  release(labelId: string): void {
    const p = this.prepared.get(labelId);
    if (!p) return;
    this.prepared.delete(labelId);
    this.preparedBytes -= p.encoded.payload.length + PREPARED_OVERHEAD;
  }

  /** Drops prepared payloads `stale` says are no longer wanted (their label changed or is gone); returns how many. */
  prune(stale: (labelId: string, k: EncodingKey) => boolean): number {
    let n = 0;
    for (const [labelId, p] of this.prepared) {
      if (!stale(labelId, p.key)) continue;
      this.release(labelId);
      n++;
    }
    return n;
  }

  /**
   * The payload for `k`: the label's prepared one when its key matches (D126), else a recent one (D102), else
   * encoded by `encode`.
   */
  async obtain(k: EncodingKey, encode: () => Promise<EncodedImage>, labelId?: string): Promise<EncodedImage> {
    const mine = labelId !== undefined ? this.prepared.get(labelId) : undefined;
    if (mine && sameEncodingKey(mine.key, k)) {
      this.preparedHits++;
      return mine.encoded;
    }
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
