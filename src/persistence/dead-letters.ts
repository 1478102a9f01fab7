/**
 * Dead letters: input the edge could not apply (a rejected event) and messages it could not deliver (an outbox
 * message too large for the broker), each with a stable code, the reason and a bounded prefix of the bytes, so an
 * operator can see what was lost and why (GET /api/v1/dead-letters, metric esl_edge_dead_letters).
 *
 * Any publisher can send junk, so what one row may hold is bounded here (payload prefix, topic, reason) and the
 * table as a whole by the storage pruner (src/domain/storage/storage-pruner.ts, docs/decisions.md D26).
 */
import type { Database, Tx } from './database.js';

/** At most this much of the payload is kept unless the caller asks for less (storage.deadLetters.maxPayloadBytes). */
export const DEAD_LETTER_MAX_BYTES = 64 * 1024;
/** A topic may be 65,535 bytes long (MQTT 3.1.1 §1.5.3); a dead letter keeps its start. */
const MAX_TOPIC_CHARS = 512;
const MAX_REASON_CHARS = 2048;

/** The bytes a dead-letter row is counted at against storage.deadLetters.maxBytes (SQL over the table's columns). */
export const DEAD_LETTER_ROW_BYTES_SQL = "(64 + ifnull(length(payload), 0) + length(reason) + ifnull(length(topic), 0) + ifnull(length(event_id), 0) + ifnull(length(source), 0) + length(channel) + length(code))";

export interface DeadLetter {
  at: number;
  channel: string;
  topic: string | null;
  source: string | null;
  id: string | null;
  code: string;
  reason: string;
  payload: Buffer;
}

/** Records one dead letter; returns the bytes it is counted at (for the pruner's budget). */
export async function recordDeadLetter(db: Database | Tx, d: DeadLetter, opts: { maxPayloadBytes?: number } = {}): Promise<number> {
  const payload = d.payload.subarray(0, Math.min(opts.maxPayloadBytes ?? DEAD_LETTER_MAX_BYTES, DEAD_LETTER_MAX_BYTES));
  const topic = d.topic === null ? null : d.topic.slice(0, MAX_TOPIC_CHARS);
  const reason = d.reason.slice(0, MAX_REASON_CHARS);
  await db.run('INSERT INTO dead_letters (received_at, channel, topic, source, event_id, code, reason, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    d.at,
    d.channel,
    topic,
    d.source,
    d.id,
    d.code,
    reason,
    payload,
  ]);
  return 64 + payload.length + Buffer.byteLength(reason) + Buffer.byteLength(topic ?? '') + d.channel.length + d.code.length + (d.id?.length ?? 0) + (d.source?.length ?? 0);
}
