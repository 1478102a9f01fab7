/**
 * The durable outbox: what the edge must tell others (restock alerts, audit reports) is written in the same
 * transaction as the change that caused it, and delivered later by a publisher per destination (local broker, HQ
 * broker) that marks each message sent only after the broker acknowledged it. A lost uplink delays messages; it
 * never loses them. Every message has a stable id, so receivers de-duplicate redeliveries.
 */
import type { Tx, Database } from '../../persistence/database.js';

export type OutboxDestination = 'local' | 'hq';

export interface OutboxMessage {
  seq: number;
  id: string;
  topic: string;
  payload: string;
}

/** Relative topics, under esl/{chain}/{store}/: the same on the local and the HQ broker. */
export async function enqueue(tx: Tx, msg: { id: string; topic: string; payload: unknown }, now: number): Promise<void> {
  await tx.run('INSERT OR IGNORE INTO outbox (id, topic, payload, created_at) VALUES (?, ?, ?, ?)', [msg.id, msg.topic, JSON.stringify(msg.payload), now]);
}

/**
 * Enqueues many messages with the transaction's next write or its COMMIT, in one statement and no trip of its own
 * (D82, D122): a feed that appends thousands of rows in one transaction does not wait for sqlite per message. In
 * array order, so `seq` follows it.
 */
export function enqueueManyLater(tx: Tx, msgs: readonly { id: string; topic: string; payload: unknown }[], now: number): void {
  if (msgs.length === 0) return;
  tx.runLater('INSERT OR IGNORE INTO outbox (id, topic, payload, created_at) SELECT value->>0, value->>1, value->>2, ? FROM json_each(?)', [
    now,
    JSON.stringify(msgs.map((m) => [m.id, m.topic, JSON.stringify(m.payload)])),
  ]);
}

/**
 * The oldest undelivered messages after `afterSeq`. Without it, `WHERE sent IS NULL ORDER BY seq` walks every
 * delivered row still kept (a repricing leaves tens of thousands) on every call; the publisher passes the last seq
 * it delivered, so the walk starts there (a range on the rowid). Safe because every write goes through the one
 * queue (D3) and seq is AUTOINCREMENT: a row committed later always has a larger seq (D66).
 */
export async function pending(db: Database, dest: OutboxDestination, limit: number, afterSeq = 0): Promise<OutboxMessage[]> {
  const col = dest === 'local' ? 'sent_local' : 'sent_hq';
  return db.all<OutboxMessage>(`SELECT seq, id, topic, payload FROM outbox WHERE seq > ? AND ${col} IS NULL ORDER BY seq LIMIT ?`, [afterSeq, limit]);
}

export async function markSent(db: Database | Tx, dest: OutboxDestination, seq: number, now: number): Promise<void> {
  const col = dest === 'local' ? 'sent_local' : 'sent_hq';
  await db.run(`UPDATE outbox SET ${col} = ? WHERE seq = ?`, [now, seq]);
}

/** Marks several messages delivered in one statement (one commit for a publisher's batch, D66). */
export async function markSentMany(db: Database | Tx, dest: OutboxDestination, seqs: readonly number[], now: number): Promise<void> {
  if (seqs.length === 0) return;
  const col = dest === 'local' ? 'sent_local' : 'sent_hq';
  await db.run(`UPDATE outbox SET ${col} = ? WHERE seq IN (SELECT value FROM json_each(?))`, [now, JSON.stringify(seqs)]);
}

/** Messages no destination still needs, older than `olderThan`, are dropped (housekeeping). */
export async function prune(db: Database, olderThan: number, hqConfigured: boolean): Promise<number> {
  const r = await db.run(
    `DELETE FROM outbox WHERE created_at < ? AND sent_local IS NOT NULL ${hqConfigured ? 'AND sent_hq IS NOT NULL' : ''}`,
    [olderThan],
  );
  return r.changes;
}
