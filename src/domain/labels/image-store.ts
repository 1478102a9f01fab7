/**
 * Rendered images by content hash. Planes are kept zlib-compressed (a 2.9" label: ~9.5 kB raw, <1 kB stored), so a
 * 50,000-label store keeps its current and desired images in tens of MB.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import type { Database, Tx } from '../../persistence/database.js';
import { LabelContentSchema, type LabelContent } from '../rendering/label-content.js';

export interface StoredImage {
  hash: string;
  labelType: number;
  planes: Uint8Array;
  content: LabelContent;
}

export async function saveImage(tx: Tx, img: { hash: string; labelType: number; planes: Uint8Array; content: LabelContent }, now: number): Promise<void> {
  await tx.run('INSERT OR IGNORE INTO images (hash, label_type, planes, content, created_at) VALUES (?, ?, ?, ?, ?)', [
    img.hash,
    img.labelType,
    deflateSync(img.planes),
    JSON.stringify(img.content),
    now,
  ]);
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
