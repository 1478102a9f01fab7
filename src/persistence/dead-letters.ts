/**
 * Dead letters: input the edge could not apply (a rejected event) and messages it could not deliver (an outbox
 * message too large for the broker), each with a stable code, the reason and a bounded prefix of the bytes, so an
 * operator can see what was lost and why (GET /api/v1/dead-letters, metric esl_edge_dead_letters).
 */
import type { Database, Tx } from './database.js';

/** At most this much of the payload is kept. */
export const DEAD_LETTER_MAX_BYTES = 64 * 1024;

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

export async function recordDeadLetter(db: Database | Tx, d: DeadLetter): Promise<void> {
  await db.run('INSERT INTO dead_letters (received_at, channel, topic, source, event_id, code, reason, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
    d.at,
    d.channel,
    d.topic,
    d.source,
    d.id,
    d.code,
    d.reason,
    d.payload.subarray(0, DEAD_LETTER_MAX_BYTES),
  ]);
}
