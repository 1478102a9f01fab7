/**
 * The last value an AUTOINCREMENT key of `table` has handed out (0 before its first row), read inside the caller's
 * transaction so that the caller can number its own rows and write them without a trip per row (D122).
 *
 * Safe because every writer of the file goes through the one database queue (D3): nothing else inserts between this
 * read and the caller's COMMIT. sqlite_sequence keeps the largest key ever used, also after the newest rows were
 * deleted, and an explicit larger key moves it on — so numbers stay increasing and are never handed out twice, the
 * property the feeds' `seq` cursors rely on.
 */
import type { Tx } from './database.js';

export type AutoincrementTable = 'price_feed' | 'shelf_feed' | 'outbox';

export async function lastAutoincrement(tx: Tx, table: AutoincrementTable): Promise<number> {
  const r = await tx.get<{ seq: number | null }>(`SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), coalesce((SELECT max(seq) FROM ${table}), 0)) AS seq`, [table]);
  return r?.seq ?? 0;
}
