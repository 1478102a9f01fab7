/**
 * Rendered images by content hash: durable in the `images` table, and in memory once per distinct picture while a
 * label needs it (issue 16 item 5, D19). Planes are kept zlib-compressed in both (a 2.9" label: ~9.5 kB raw, <1 kB
 * stored); the memory cache is bounded by bytes (least recently used first) and a sweep drops every picture no label
 * refers to (desired, confirmed, in transfer, next), so a repricing does not leave the previous prices in memory.
 * The dispatcher reads a transfer's target and delta base here instead of queueing two reads on sqlite per transfer.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Database, Tx } from '../../persistence/database.js';
import { LabelContentSchema, type LabelContent } from '#contracts';
import { BLANK_HASH } from '#protocol';

export interface StoredImage {
  hash: string;
  labelType: number;
  planes: Uint8Array;
  content: LabelContent;
}

interface CachedImage {
  labelType: number;
  /** zlib-compressed planes. */
  planes: Buffer;
  content: LabelContent;
  bytes: number;
}

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

/** Pictures per INSERT of saveMany: 5 parameters each, far below sqlite's limit of 32,766. */
const SAVE_ROWS = 128;

/** Rough memory of a content object (its JSON is a fair proxy). */
const CONTENT_OVERHEAD = 600;

export class ImageStore {
  private readonly cache = new Map<string, CachedImage>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0, evicted: 0 };

  constructor(private readonly deps: { db: Database; budgetBytes?: number }) {}

  get cachedBytes(): number {
    return this.bytes;
  }
  get cachedImages(): number {
    return this.cache.size;
  }

  /** Stores an image in the caller's transaction; memory has it once the transaction commits. */
  async save(tx: Tx, img: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }, now: number): Promise<void> {
    if (this.cache.has(img.hash)) {
      this.touch(img.hash);
      return;
    }
    const z = await saveImage(tx, img, now);
    tx.onCommit(() => this.put(img.hash, { labelType: img.labelType, planes: z, content: img.content, bytes: z.length + CONTENT_OVERHEAD }));
  }

  /**
   * save() for many pictures in one statement per SAVE_ROWS (D60): a planner chunk's images cost a few statements on
   * the one sqlite queue instead of one each. Pictures already in memory (hence stored) are only touched.
   */
  async saveMany(tx: Tx, imgs: readonly { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }[], now: number): Promise<void> {
    const fresh = new Map<string, { labelType: number; planes: Buffer; content: LabelContent }>();
    for (const img of imgs) {
      if (this.cache.has(img.hash)) this.touch(img.hash);
      else if (!fresh.has(img.hash)) fresh.set(img.hash, { labelType: img.labelType, planes: compact(deflateSync(img.planes)), content: img.content });
    }
    const rows = [...fresh];
    for (let i = 0; i < rows.length; i += SAVE_ROWS) {
      const part = rows.slice(i, i + SAVE_ROWS);
      await tx.run(
        `INSERT OR IGNORE INTO images (hash, label_type, planes, content, created_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}`,
        part.flatMap(([hash, c]) => [hash, c.labelType, c.planes, JSON.stringify(c.content), now]),
      );
    }
    tx.onCommit(() => {
      for (const [hash, c] of rows) this.put(hash, { ...c, bytes: c.planes.length + CONTENT_OVERHEAD });
    });
  }

  async load(hash: string): Promise<StoredImage | undefined> {
    const c = await this.entry(hash);
    return c ? { hash, labelType: c.labelType, planes: new Uint8Array(inflateSync(c.planes)), content: c.content } : undefined;
  }

  async content(hash: string): Promise<LabelContent | undefined> {
    return (await this.entry(hash))?.content;
  }

  /** Contents of many pictures (the audit): cached ones at once, the rest in a few reads. */
  async contents(hashes: Iterable<string>): Promise<Map<string, LabelContent>> {
    const out = new Map<string, LabelContent>();
    const missing: string[] = [];
    for (const h of new Set(hashes)) {
      const c = this.cache.get(h);
      if (c) out.set(h, c.content);
      else missing.push(h);
    }
    for (let i = 0; i < missing.length; i += 500) {
      const part = missing.slice(i, i + 500);
      const rows = await this.deps.db.all<{ hash: string; content: string }>(`SELECT hash, content FROM images WHERE hash IN (${part.map(() => '?').join(',')})`, part);
      for (const r of rows) {
        const parsed = LabelContentSchema.safeParse(JSON.parse(r.content));
        if (parsed.success) out.set(r.hash, parsed.data);
      }
    }
    return out;
  }

  /** Drops from memory every picture no label refers to any more. */
  sweep(referenced: ReadonlySet<string>): number {
    let n = 0;
    for (const [h, c] of this.cache) {
      if (referenced.has(h)) continue;
      this.cache.delete(h);
      this.bytes -= c.bytes;
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

  private async entry(hash: string): Promise<CachedImage | undefined> {
    // BLANK (protocol §3.4) is what a label shows before its first picture, never a stored picture: every label's
    // first plan asked for it, one sqlite read each on the shared queue (50,000 in a reference fill, D63's trace).
    if (hash === BLANK_HASH) return undefined;
    const hit = this.cache.get(hash);
    if (hit) {
      this.stats.hits++;
      this.touch(hash);
      return hit;
    }
    this.stats.misses++;
    const row = await this.deps.db.get<{ label_type: number; planes: Buffer; content: string }>('SELECT label_type, planes, content FROM images WHERE hash = ?', [hash]);
    if (!row) return undefined;
    const c: CachedImage = { labelType: row.label_type, planes: compact(row.planes), content: LabelContentSchema.parse(JSON.parse(row.content)), bytes: row.planes.length + CONTENT_OVERHEAD };
    this.put(hash, c);
    return c;
  }

  private touch(hash: string): void {
    const c = this.cache.get(hash);
    if (!c) return;
    this.cache.delete(hash);
    this.cache.set(hash, c);
  }

  private put(hash: string, c: CachedImage): void {
    const old = this.cache.get(hash);
    if (old) this.bytes -= old.bytes;
    this.cache.delete(hash);
    this.cache.set(hash, c);
    this.bytes += c.bytes;
    const budget = this.deps.budgetBytes ?? 64 * 1024 * 1024;
    for (const [h, e] of this.cache) {
      if (this.bytes <= budget) break;
      this.cache.delete(h);
      this.bytes -= e.bytes;
      this.stats.evicted++;
    }
  }
}
