/**
 * Rendered images by content hash: durable in the `images` table, and in memory once per distinct picture while a
 * label needs it (issue 16 item 5, D19). Planes are kept zlib-compressed in both (a 2.9" label: ~9.5 kB raw, <1 kB
 * stored); the memory cache is bounded by bytes (least recently used first) and a sweep drops every picture no label
 * refers to (desired, confirmed, in transfer, next), so a repricing does not leave the previous prices in memory.
 * The dispatcher reads a transfer's target and delta base here instead of queueing two reads on sqlite per transfer.
 *
 * D86: a cached picture is one record of a ByteArena (byte-arena.ts) — its label type, its compressed planes and its
 * content as JSON, packed into shared 1 MB slabs — and the cache maps its hash (the label store's interned string) to
 * the record's number. As a Buffer plus a parsed content object each, a picture cost ~1.6 kB of memory for ~0.5 kB of
 * zlib and ~0.3 kB of JSON; now it costs its bytes and a Map entry. The content is parsed when asked for (the planner's
 * change priority, the shelf feed, the audit): it was validated when it entered the cache.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Database, Tx } from '../../persistence/database.js';
import type { LoopSlices } from '../../core/loop-tasks.js';
import { LabelContentSchema, type LabelContent } from '#contracts';
import { BLANK_HASH } from '#protocol';
import { ByteArena } from './byte-arena.js';

export interface StoredImage {
  hash: string;
  labelType: number;
  planes: Uint8Array;
  content: LabelContent;
}

/** A cached record: u16 label type, u32 length of the zlib planes, the zlib planes, the content's JSON (UTF-8). */
const HEADER = 6;

/** What a cached picture costs beside its record's bytes: its Map entry (the hash string is shared). */
const ENTRY_OVERHEAD = 48;

/**
 * Default memory budget of the cache, bytes. A picture of the reference store's label mix is ~1.2 kB (D86): 32 MB hold
 * ~26,000, about half of its 50,000 labels' pictures; what is not held is read back in batches (fetch, contents), so a
 * miss costs a share of one statement, not a read of its own.
 */
export const IMAGE_CACHE_BYTES = 32 * 1024 * 1024;

/**
 * zlib's sync API returns a slice of a 16 kB output chunk (Node's default chunkSize): a 1 kB picture kept as that
 * slice would hold 16 kB of memory that the cache's byte count never sees (D40). Kept pictures get a buffer of their
 * own, exactly their size.
 */
function compact(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const own = Buffer.allocUnsafeSlow(b.length);
  b.copy(own);
  return own;
}

function header(labelType: number, planesLength: number): Buffer {
  const h = Buffer.allocUnsafe(HEADER);
  h.writeUInt16LE(labelType, 0);
  h.writeUInt32LE(planesLength, 2);
  return h;
}

export async function saveImage(tx: Tx, img: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }, now: number): Promise<Buffer> {
  const z = compact(deflateSync(img.planes));
  await tx.run('INSERT OR IGNORE INTO images (hash, label_type, planes, content, created_at) VALUES (?, ?, ?, ?, ?)', [
    img.hash,
    img.labelType,
    z,
    JSON.stringify(img.content),
    now,
  ]);
  return z;
}

export async function loadImage(db: Pick<Database, 'get'> | Pick<Tx, 'get'>, hash: string): Promise<StoredImage | undefined> {
  const row = await db.get<{ hash: string; label_type: number; planes: Buffer; content: string }>(
    'SELECT hash, label_type, planes, content FROM images WHERE hash = ?',
    [hash],
  );
  if (!row) return undefined;
  return {
    hash: row.hash,
    labelType: row.label_type,
    planes: new Uint8Array(inflateSync(row.planes)),
    content: LabelContentSchema.parse(JSON.parse(row.content)),
  };
}

export async function loadContent(db: Pick<Database, 'get'>, hash: string): Promise<LabelContent | undefined> {
  const row = await db.get<{ content: string }>('SELECT content FROM images WHERE hash = ?', [hash]);
  return row ? LabelContentSchema.parse(JSON.parse(row.content)) : undefined;
}

/** Pictures ready to store: by hash, the label type, the zlib planes and the content's JSON (ImageStore.pack). */
export type PackedImages = Map<string, { labelType: number; planes: Buffer; json: string }>;

/** Pictures per INSERT of saveMany: 5 parameters each, far below sqlite's limit of 32,766. */
const SAVE_ROWS = 128;

export class ImageStore {
  /** Hash → arena record, least recently used first. */
  private readonly cache = new Map<string, number>();
  private readonly arena = new ByteArena();
  /** Misses waiting for this turn's batched read (fetch). */
  private pendingReads: Map<string, { resolve: (v: Buffer | undefined) => void; reject: (e: unknown) => void; promise?: Promise<Buffer | undefined> }> | null = null;
  readonly stats = { hits: 0, misses: 0, evicted: 0 };

  constructor(private readonly deps: { db: Database; budgetBytes?: number }) {}

  /** What the cache's pictures cost: their records and their entries. */
  get cachedBytes(): number {
    return this.arena.liveBytes + this.cache.size * ENTRY_OVERHEAD;
  }
  get cachedImages(): number {
    return this.cache.size;
  }
  /** The arena's slabs (what the cached pictures hold of memory, dead space between compactions included). */
  get arenaBytes(): number {
    return this.arena.allocatedBytes;
  }

  /** Stores an image in the caller's transaction; memory has it once the transaction commits. */
  async save(tx: Tx, img: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }, now: number): Promise<void> {
    if (this.cache.has(img.hash)) {
      this.touch(img.hash);
      return;
    }
    const z = await saveImage(tx, img, now);
    tx.onCommit(() => this.put(img.hash, img.labelType, z, JSON.stringify(img.content)));
  }

  /**
   * save() for many pictures in one statement per SAVE_ROWS (D60): a planner chunk's images cost a few statements on
   * the one sqlite queue instead of one each. Pictures already in memory (hence stored) are only touched.
   */
  async saveMany(tx: Tx, imgs: readonly { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }[], now: number): Promise<void> {
    await this.savePacked(tx, await this.pack(imgs), now);
  }

  /**
   * The compressed form of the pictures not in memory, for savePacked. D127: the planner compresses a chunk's
   * pictures before its transaction, not while holding the one queue.
   */
  async pack(imgs: readonly { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }[], slices?: LoopSlices): Promise<PackedImages> {
    // D116: each picture's zlib output gets a buffer of its own size now, not at commit: a slice of deflateSync's
    // 16 kB output chunk held 16 kB for ~1 kB until then, two planner chunks of 256 pictures ~8 MB in all.
    // D143: between two pictures it yields to the event loop when the caller's slice is spent (a chunk's ~40 ms).
    const fresh: PackedImages = new Map();
    for (const img of imgs) {
      if (slices?.due()) await slices.next();
      if (this.cache.has(img.hash)) this.touch(img.hash);
      else if (!fresh.has(img.hash)) fresh.set(img.hash, { labelType: img.labelType, planes: compact(deflateSync(img.planes)), json: JSON.stringify(img.content) });
    }
    return fresh;
  }

  /** Stores packed pictures in the caller's transaction (SAVE_ROWS per statement); memory has them once it commits. */
  async savePacked(tx: Tx, packed: PackedImages, now: number): Promise<void> {
    const rows = [...packed];
    for (let i = 0; i < rows.length; i += SAVE_ROWS) {
      const part = rows.slice(i, i + SAVE_ROWS);
      await tx.run(
        `INSERT OR IGNORE INTO images (hash, label_type, planes, content, created_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        part.flatMap(([hash, c]) => [hash, c.labelType, c.planes, c.json, now]),
      );
    }
    tx.onCommit(() => {
      for (const [hash, c] of rows) if (!this.cache.has(hash)) this.put(hash, c.labelType, c.planes, c.json);
    });
  }

  async load(hash: string): Promise<StoredImage | undefined> {
    const rec = await this.entry(hash);
    if (rec === undefined) return undefined;
    const planesLength = rec.readUInt32LE(2);
    return {
      hash,
      labelType: rec.readUInt16LE(0),
      planes: new Uint8Array(inflateSync(rec.subarray(HEADER, HEADER + planesLength))),
      content: this.parse(rec, planesLength),
    };
  }

  async content(hash: string): Promise<LabelContent | undefined> {
    const rec = await this.entry(hash);
    if (rec === undefined) return undefined;
    return this.parse(rec, rec.readUInt32LE(2));
  }

  /**
   * Contents of many pictures (the audit, the planner's change priorities): cached ones at once, the rest in a few
   * reads, which do not enter the cache (a store-wide audit would otherwise push out what the dispatcher needs); in
   * the caller's transaction when given.
   */
  async contents(hashes: Iterable<string>, tx?: Tx): Promise<Map<string, LabelContent>> {
    const out = new Map<string, LabelContent>();
    for (const [h, r] of await this.records(hashes, false, tx ?? this.deps.db)) out.set(h, r.content);
    return out;
  }

  /**
   * Many pictures with their planes, read like contents() (D126: the planner hands the pictures labels show now to the
   * dispatcher, which encodes each label's delta while both pictures are at hand), in the caller's transaction (D127:
   * the planner's, which saves the chunk's new pictures: one turn of the queue for both).
   */
  async pictures(hashes: Iterable<string>, tx: Tx): Promise<Map<string, StoredImage>> {
    const out = new Map<string, StoredImage>();
    for (const [hash, r] of await this.records(hashes, true, tx)) out.set(hash, { hash, labelType: r.labelType, planes: new Uint8Array(inflateSync(r.planes!)), content: r.content });
    return out;
  }

  /** Cached records at once, the rest in reads of 500 that do not enter the cache; stored contents are validated. */
  private async records(hashes: Iterable<string>, withPlanes: boolean, via: Pick<Tx, 'all'>): Promise<Map<string, { labelType: number; planes?: Uint8Array; content: LabelContent }>> {
    const out = new Map<string, { labelType: number; planes?: Uint8Array; content: LabelContent }>();
    const missing: string[] = [];
    for (const h of new Set(hashes)) {
      if (h === BLANK_HASH) continue;
      const id = this.cache.get(h);
      if (id !== undefined) {
        this.stats.hits++;
        const rec = this.arena.view(id);
        const planesLength = rec.readUInt32LE(2);
        out.set(h, { labelType: rec.readUInt16LE(0), ...(withPlanes ? { planes: rec.subarray(HEADER, HEADER + planesLength) } : {}), content: this.parse(rec, planesLength) });
      } else missing.push(h);
    }
    this.stats.misses += missing.length;
    const columns = withPlanes ? 'hash, label_type, planes, content' : 'hash, label_type, content';
    for (let i = 0; i < missing.length; i += 500) {
      const part = missing.slice(i, i + 500);
      const rows = await via.all<{ hash: string; label_type: number; planes?: Buffer; content: string }>(`SELECT ${columns} FROM images WHERE hash IN (${part.map(() => '?').join(',')})`, part);
      for (const r of rows) {
        const parsed = LabelContentSchema.safeParse(JSON.parse(r.content));
        if (parsed.success) out.set(r.hash, { labelType: r.label_type, ...(r.planes ? { planes: r.planes } : {}), content: parsed.data });
      }
    }
    return out;
  }

  /** Drops from memory every picture no label refers to any more. */
  sweep(referenced: ReadonlySet<string>): number {
    let n = 0;
    for (const [h, id] of this.cache) {
      if (referenced.has(h)) continue;
      this.cache.delete(h);
      this.arena.free(id);
      n++;
    }
    this.stats.evicted += n;
    return n;
  }

  /** Deletes the stored pictures no label refers to (at start, before anything is planned). */
  async prune(referenced: ReadonlySet<string>): Promise<number> {
    const all = await this.deps.db.all<{ hash: string }>('SELECT hash FROM images');
    const gone = all.map((r) => r.hash).filter((h) => !referenced.has(h));
    if (gone.length === 0) return 0;
    await this.deps.db.transaction(async (tx) => {
      const del = tx.prepare('DELETE FROM images WHERE hash = ?');
      for (const h of gone) await del.run([h]);
    });
    return gone.length;
  }

  /** The content of a cached record: validated when it entered the cache, so only parsed. */
  private parse(rec: Buffer, planesLength: number): LabelContent {
    return JSON.parse(rec.toString('utf8', HEADER + planesLength)) as LabelContent;
  }

  /**
   * The picture's record, a view taken at once: an arena never writes over a record's bytes (a freed record's space
   * is only reclaimed by releasing its slab, which the view keeps alive), so what a caller reads after its await is
   * this picture's, even if the cache evicted it meanwhile and reused its number.
   */
  private async entry(hash: string): Promise<Buffer | undefined> {
    // BLANK (protocol §3.4) is what a label shows before its first picture, never a stored picture: every label's
    // first plan asked for it, one sqlite read each on the shared queue (50,000 in a reference fill, D63's trace).
    if (hash === BLANK_HASH) return undefined;
    const hit = this.cache.get(hash);
    if (hit !== undefined) {
      this.stats.hits++;
      this.touch(hash);
      return this.arena.view(hit);
    }
    this.stats.misses++;
    return this.fetch(hash);
  }

  /**
   * D86 Misses of one turn of the event loop are read together: a dispatch pass starts up to an AP's window of
   * transfers at once, each loading its target and delta base, so with a cache smaller than the store's pictures
   * their misses cost one statement on the sqlite queue per pass, not one each.
   */
  private fetch(hash: string): Promise<Buffer | undefined> {
    let batch = this.pendingReads;
    if (!batch) {
      const b = new Map<string, { resolve: (v: Buffer | undefined) => void; reject: (e: unknown) => void; promise?: Promise<Buffer | undefined> }>();
      batch = this.pendingReads = b;
      setImmediate(() => {
        this.pendingReads = null;
        this.readBatch(b).catch((err: unknown) => {
          for (const w of b.values()) w.reject(err);
        });
      });
    }
    const waiting = batch.get(hash);
    if (waiting?.promise) return waiting.promise;
    let w!: { resolve: (v: Buffer | undefined) => void; reject: (e: unknown) => void; promise?: Promise<Buffer | undefined> };
    const promise = new Promise<Buffer | undefined>((resolve, reject) => {
      w = { resolve, reject };
    });
    w.promise = promise;
    batch.set(hash, w);
    return promise;
  }

  private async readBatch(batch: ReadonlyMap<string, { resolve: (v: Buffer | undefined) => void }>): Promise<void> {
    const hashes = [...batch.keys()];
    const found = new Map<string, { label_type: number; planes: Buffer; content: string }>();
    for (let i = 0; i < hashes.length; i += 500) {
      const part = hashes.slice(i, i + 500);
      // D119 In the urgent lane: a transfer waits for these pictures, its claimed AP slot idle meanwhile; behind a
      // planner chunk and a rule pass it waited up to seconds (bench/full-store's repricing at 50,000 labels).
      const rows = await this.deps.db.all<{ hash: string; label_type: number; planes: Buffer; content: string }>(
        `SELECT hash, label_type, planes, content FROM images WHERE hash IN (${part.map(() => '?').join(',')})`,
        part,
        { lane: 'urgent' },
      );
      for (const r of rows) found.set(r.hash, r);
    }
    for (const [hash, w] of batch) {
      const row = found.get(hash);
      if (!row) {
        w.resolve(undefined);
        continue;
      }
      // Validated once, here; the cache then keeps the JSON as it was stored.
      LabelContentSchema.parse(JSON.parse(row.content));
      // A save may have filled it meanwhile.
      const again = this.cache.get(hash);
      w.resolve(this.arena.view(again ?? this.put(hash, row.label_type, row.planes, row.content)));
    }
  }

  private touch(hash: string): void {
    const id = this.cache.get(hash);
    if (id === undefined) return;
    this.cache.delete(hash);
    this.cache.set(hash, id);
  }

  private put(hash: string, labelType: number, planes: Uint8Array, json: string): number {
    const old = this.cache.get(hash);
    if (old !== undefined) {
      this.cache.delete(hash);
      this.arena.free(old);
    }
    const id = this.arena.add([header(labelType, planes.length), planes, Buffer.from(json, 'utf8')]);
    this.cache.set(hash, id);
    const budget = this.deps.budgetBytes ?? IMAGE_CACHE_BYTES;
    for (const [h, e] of this.cache) {
      if (this.cachedBytes <= budget || h === hash) break;
      this.cache.delete(h);
      this.arena.free(e);
      this.stats.evicted++;
    }
    return id;
  }
}
