/**
 * Timeouts and retries of ACK-requested frames (README.md §7.3), shared by the edge's transports and the
 * simulated AP so that both sides agree on timing.
 */

/** Wait for the ACK of the first transmission. */
export const ACK_TIMEOUT_MS = 2000;
/** Retransmissions after the first transmission; the frame is given up after the last one times out. */
export const MAX_RETRIES = 5;
export const BACKOFF_FACTOR = 2;
/** ±20 % uniform jitter, so that many senders that lost the same link do not retry in lock-step. */
export const JITTER = 0.2;

/**
 * How long to wait for the ACK of transmission `attempt` (0 = first, 1..MAX_RETRIES = retries):
 * ACK_TIMEOUT_MS × 2^attempt × (1 + JITTER × (2r − 1)) with r = random() in [0, 1).
 * Without jitter the waits are 2, 4, 8, 16, 32, 64 s: a frame is given up after about 126 s.
 */
export function ackTimeoutMs(attempt: number, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 0 || attempt > MAX_RETRIES) throw new RangeError(`attempt ${attempt} out of 0..${MAX_RETRIES}`);
  const r = random();
  return Math.round(ACK_TIMEOUT_MS * BACKOFF_FACTOR ** attempt * (1 + JITTER * (2 * r - 1)));
}
