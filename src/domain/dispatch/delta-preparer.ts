/**
 * D126 Encodes a label's delta when its picture is planned, while both pictures are at hand, and keeps the payload
 * until the label has it (encoding-cache.ts `prepare`).
 *
 * Staging a delta needs two pictures: the one to send and the one the label shows (protocol §6.2, the delta's base).
 * The image store's memory holds about half of the reference store's pictures (image-store.ts, 32 MB); a repricing
 * makes 50,000 new pictures beside the 50,000 shown ones, and the dispatcher stages them in wake order, not in the
 * planner's catalogue order. So by the time a label was staged its pictures had mostly left the cache: the reference
 * repricing read 160,685 pictures back from sqlite (bench/results/…-d123-…, edge_image_cache_delta), each staging
 * waiting in the one queue, and the planner's own reads waited behind them (a chunk 0.5–0.7 s per read late in the
 * repricing, against 0.05 s in its first seconds). The payload of a delta is ~150 B; the two pictures are ~2.4 kB.
 *
 * The planner reads the shown pictures of a chunk in one statement anyway (for its change priorities) and has the new
 * ones from the renderer; it hands both here. Each label is encoded exactly as send() would (same key, same
 * chooseEncoding), a few labels per turn of the event loop so a chunk does not hold it. What is encoded for a label
 * whose AP, decoders or shown picture changed before it is staged no longer matches its key and is not used: the label
 * is then encoded when staged, as before. Full images (no base) are not prepared: ~800 B each, and a fill reads only
 * one picture per label.
 */
import { chooseEncoding, labelTypeById, type EncodedImage } from '#protocol';
import { LoopSlices, type LoopTaskTiming } from '../../core/loop-tasks.js';
import type { ApRegistry } from '../aps/ap-registry.js';
import { expectsDelta, type LabelRecord, type LabelStore } from '../labels/label-store.js';
import type { PlannedPicture } from '../labels/label-planner.js';
import { sameEncodingKey, type EncodingCache, type EncodingKey } from './encoding-cache.js';

/** Labels encoded per turn of the event loop: ~0.3 ms each (a region delta of a 2.9" panel, D41). */
const PER_TURN = 8;
/**
 * Labels waiting to be encoded at most; beyond it a label is encoded when staged. Each holds two pictures' planes
 * (~9.5 kB each on a 2.9" panel): 1,024, four planner chunks, are ~20 MB at worst.
 */
const MAX_WAITING = 1_024;
/** Labels the budget refused between two walks over the kept payloads for stale ones. */
const PRUNE_EVERY = 512;

/**
 * The picture a label's next transfer is a delta against (§6.3): the one it shows, unless that is unknown or blank
 * or the label must get a full image (forceFull, §6.4); null means a full image.
 */
export function deltaBase(l: Readonly<LabelRecord>): string | null {
  return expectsDelta(l) ? l.confirmedHash : null;
}

/** What a transfer of `targetHash` to the label through its AP is encoded for (D102's key); null when it cannot be. */
export function encodingKeyOf(l: Readonly<LabelRecord>, apCapabilities: number, targetHash: string): EncodingKey | null {
  if (l.labelType === null) return null;
  return { targetHash, baseHash: deltaBase(l), labelType: l.labelType, apCapabilities, decoders: l.decoders };
}

interface Waiting {
  labelId: string;
  target: Uint8Array;
  base: Uint8Array;
  key: EncodingKey;
}

export class DeltaPreparer {
  /** By label, in the order planned (a newer plan of a label replaces its entry). */
  private readonly waiting = new Map<string, Waiting>();
  private scheduled = false;
  private refusedSincePrune = 0;
  /** prepared: encoded and kept; early: encoded at once because the label was staged before its turn; skipped. */
  readonly stats = { prepared: 0, early: 0, skipped: 0 };

  constructor(private readonly deps: { labels: LabelStore; aps: ApRegistry; encodings: EncodingCache; loopTasks?: LoopTaskTiming }) {}

  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Queues the planned labels whose next transfer is a delta: `pictureOf` gives a picture by hash (the chunk's new
   * pictures and the ones its labels show).
   */
  prepare(labelIds: readonly string[], pictureOf: (hash: string) => PlannedPicture | undefined): void {
    for (const id of labelIds) {
      const l = this.deps.labels.get(id);
      const key = l ? this.keyOf(l) : null;
      if (!key || key.baseHash === null || this.deps.encodings.hasPrepared(id, key)) continue;
      const target = pictureOf(key.targetHash);
      const base = pictureOf(key.baseHash);
      // A base drawn for another panel type (the label was re-typed) is not a delta base: send() sends it full.
      if (!target || !base || target.labelType !== key.labelType || base.labelType !== key.labelType || this.waiting.size >= MAX_WAITING) {
        this.stats.skipped++;
        continue;
      }
      this.waiting.delete(id);
      this.waiting.set(id, { labelId: id, target: target.planes, base: base.planes, key });
    }
    this.schedule();
  }

  /**
   * The payload for a label staged while it still waits here (the dispatcher took it before its turn): encoded now
   * from the pictures held, so staging does not read them back. Null when the label does not wait for this key.
   */
  encodeWaiting(labelId: string, key: EncodingKey): EncodedImage | null {
    const w = this.waiting.get(labelId);
    if (!w || !sameEncodingKey(w.key, key)) return null;
    this.waiting.delete(labelId);
    this.stats.early++;
    return this.encode(w);
  }

  private keyOf(l: Readonly<LabelRecord>): EncodingKey | null {
    const ap = l.apId !== null ? this.deps.aps.get(l.apId) : undefined;
    return ap && l.desiredHash !== null ? encodingKeyOf(l, ap.capabilities, l.desiredHash) : null;
  }

  private encode(w: Waiting): EncodedImage {
    // §6.6.1 the smallest payload both the AP and the label decode, exactly as the dispatcher's send() chooses.
    return chooseEncoding({ ap: w.key.apCapabilities, label: w.key.decoders }, labelTypeById(w.key.labelType)!, w.target, w.base);
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const slice = new LoopSlices(this.deps.loopTasks, 'delta_turn');
      this.turn(slice);
      slice.end();
    });
  }

  private turn(slice: LoopSlices): void {
    const { encodings, labels } = this.deps;
    let n = 0;
    for (const w of this.waiting.values()) {
      // D143 At most PER_TURN labels, and no more once the turn has run SLICE_MS (a full panel's encode is slower);
      // D147 nor once the loop's turn has spent its budget on other tasks.
      if (n++ >= PER_TURN || slice.due()) break;
      this.waiting.delete(w.labelId);
      // The label may have moved on since it was planned (staged, delivered, re-planned, roamed): encode only what
      // its next transfer will ask for.
      const l = labels.get(w.labelId);
      const now = l ? this.keyOf(l) : null;
      if (!now || !labelTypeById(w.key.labelType) || !sameEncodingKey(now, w.key) || (l!.transferId !== null && l!.transferHash === w.key.targetHash)) {
        this.stats.skipped++;
        continue;
      }
      const encoded = this.encode(w);
      if (!encodings.prepare(w.labelId, w.key, encoded)) {
        // Spent: drop what no longer matches its label and try once more — a walk over every kept payload, so at
        // most once per PRUNE_EVERY labels refused (a store larger than the budget would otherwise walk it per label).
        if (this.refusedSincePrune++ % PRUNE_EVERY === 0) {
          encodings.prune((id, k) => {
            const cur = labels.get(id);
            const ck = cur ? this.keyOf(cur) : null;
            return !ck || !sameEncodingKey(ck, k);
          });
        }
        if (!encodings.prepare(w.labelId, w.key, encoded)) {
          this.stats.skipped++;
          continue;
        }
      }
      this.stats.prepared++;
    }
    this.schedule();
  }
}
