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
 *
 * D148 With a DeltaEncoder (the render worker pool) the encoding leaves the event loop: the labels go to it in
 * batches, at most ENCODER_BATCHES at a time so the planner's renders wait little behind them, and each payload is
 * kept when it comes back if its label still wants it. A label staged while its batch is away waits for that
 * batch's answer (one encoding, not two). A job the encoder fails (its worker died twice, the pool closed) is
 * encoded when staged. Without an encoder (`rendering.workers: 0`) the labels are encoded here, a few per turn.
 */
import { chooseEncoding, labelTypeById, type EncodedImage } from '#protocol';
import { LoopSlices, type LoopTaskTiming } from '../../core/loop-tasks.js';
import type { ApRegistry } from '../aps/ap-registry.js';
import type { DeltaEncoder } from '../ports.js';
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
/** D148 Labels sent to the encoder in one batch: ~10 ms of a worker's time at ~0.3 ms each. */
const ENCODER_BATCH = 32;
/** D148 Batches at the encoder at once: a worker answers in order, so more would only wait there, before renders. */
const ENCODER_BATCHES = 2;

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

/** D148 A label whose delta is at the encoder: its batch's answer and its place in it. */
interface AtEncoder {
  w: Waiting;
  batch: Promise<PromiseSettledResult<EncodedImage>[]>;
  index: number;
}

export class DeltaPreparer {
  /** By label, in the order planned (a newer plan of a label replaces its entry). */
  private readonly waiting = new Map<string, Waiting>();
  /** D148 By label, those whose batch is at the encoder. */
  private readonly atEncoder = new Map<string, AtEncoder>();
  private batchesOut = 0;
  private scheduled = false;
  private refusedSincePrune = 0;
  /**
   * prepared: encoded and kept; early: taken by a staging before it was kept (encoded at once, or its batch's answer
   * awaited); skipped: not encoded or not kept (the label moved on, the budget, or the encoder failed it).
   */
  readonly stats = { prepared: 0, early: 0, skipped: 0 };

  constructor(private readonly deps: { labels: LabelStore; aps: ApRegistry; encodings: EncodingCache; loopTasks?: LoopTaskTiming; encoder?: DeltaEncoder }) {}

  get queued(): number {
    return this.waiting.size + this.atEncoder.size;
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
  encodeWaiting(labelId: string, key: EncodingKey): EncodedImage | Promise<EncodedImage> | null {
    const away = this.atEncoder.get(labelId);
    if (away && sameEncodingKey(away.w.key, key)) {
      // D148 Its batch is at the encoder: its answer, or (the encoder failed it) an encoding here.
      this.stats.early++;
      return away.batch.then((r) => {
        const s = r[away.index]!;
        return s.status === 'fulfilled' ? s.value : this.encode(away.w);
      });
    }
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
    return chooseEncoding({ ap: w.key.apCapabilities, label: w.key.decoders }, labelTypeById(w.key.labelType)!, w.target, w.base, {
      target: w.key.targetHash,
      base: w.key.baseHash!,
    });
  }

  /** Whether the label still wants what `w` encodes: it may have moved on (staged, delivered, re-planned, roamed). */
  private wanted(w: Waiting): boolean {
    const l = this.deps.labels.get(w.labelId);
    const now = l ? this.keyOf(l) : null;
    return !!now && !!labelTypeById(w.key.labelType) && sameEncodingKey(now, w.key) && !(l!.transferId !== null && l!.transferHash === w.key.targetHash);
  }

  /** Keeps a label's payload until it has it (EncodingCache.prepare); false when the budget refused it. */
  private keep(w: Waiting, encoded: EncodedImage): boolean {
    const { encodings, labels } = this.deps;
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
      if (!encodings.prepare(w.labelId, w.key, encoded)) return false;
    }
    return true;
  }

  /** D148 Sends waiting labels to the encoder, ENCODER_BATCH at a time, while fewer than ENCODER_BATCHES are away. */
  private send(encoder: DeltaEncoder): void {
    while (this.batchesOut < ENCODER_BATCHES && this.waiting.size > 0) {
      const batch: Waiting[] = [];
      for (const w of this.waiting.values()) {
        if (batch.length >= ENCODER_BATCH) break;
        this.waiting.delete(w.labelId);
        if (this.wanted(w)) batch.push(w);
        else this.stats.skipped++;
      }
      if (batch.length === 0) continue;
      this.batchesOut++;
      const answer = encoder.encodeDeltas(batch.map((w) => ({ ...w.key, baseHash: w.key.baseHash!, target: w.target, base: w.base })));
      batch.forEach((w, index) => this.atEncoder.set(w.labelId, { w, batch: answer, index }));
      void answer.then((results) => {
        this.batchesOut--;
        for (let i = 0; i < batch.length; i++) {
          const w = batch[i]!;
          const r = results[i]!;
          if (this.atEncoder.get(w.labelId)?.w === w) this.atEncoder.delete(w.labelId);
          if (r.status === 'fulfilled' && this.wanted(w) && this.keep(w, r.value)) this.stats.prepared++;
          else this.stats.skipped++;
        }
        this.send(encoder);
      });
    }
  }

  private schedule(): void {
    if (this.deps.encoder) {
      this.send(this.deps.encoder);
      return;
    }
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
    let n = 0;
    for (const w of this.waiting.values()) {
      // D143 At most PER_TURN labels, and no more once the turn has run SLICE_MS (a full panel's encode is slower);
      // D147 nor once the loop's turn has spent its budget on other tasks.
      if (n++ >= PER_TURN || slice.due()) break;
      this.waiting.delete(w.labelId);
      // Encode only what the label's next transfer will ask for.
      if (this.wanted(w) && this.keep(w, this.encode(w))) this.stats.prepared++;
      else this.stats.skipped++;
    }
    this.schedule();
  }
}
