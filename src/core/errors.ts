/**
 * One error class for the edge, with stable codes grouped by layer (docs/error-codes.md lists them all).
 * A code never changes meaning once released; messages may be reworded.
 */
export const EdgeErrorCode = {
  // config / start-up
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  // event intake
  EVENT_MALFORMED_JSON: 'EVENT_MALFORMED_JSON',
  EVENT_SCHEMA: 'EVENT_SCHEMA',
  EVENT_TOO_LARGE: 'EVENT_TOO_LARGE',
  EVENT_TOPIC_MISMATCH: 'EVENT_TOPIC_MISMATCH',
  EVENT_UNKNOWN_PRODUCT: 'EVENT_UNKNOWN_PRODUCT',
  EVENT_WRONG_STORE: 'EVENT_WRONG_STORE',
  /** A printed field has a character no bundled font has (content-plausibility.ts); the reason names it. */
  CONTENT_UNSUPPORTED_CHARACTER: 'CONTENT_UNSUPPORTED_CHARACTER',
  /** A price of 0 not marked `intended` (content-plausibility.ts); raises a price-implausible alert. */
  PRICE_IMPLAUSIBLE: 'PRICE_IMPLAUSIBLE',
  // persistence
  DB_ERROR: 'DB_ERROR',
  // outbox (what the edge publishes)
  OUTBOX_TOO_LARGE: 'OUTBOX_TOO_LARGE',
  // AP link
  AP_OFFLINE: 'AP_OFFLINE',
  AP_ACK_TIMEOUT: 'AP_ACK_TIMEOUT',
  AP_NACK: 'AP_NACK',
  // domain
  LABEL_NOT_FOUND: 'LABEL_NOT_FOUND',
  LABEL_TYPE_UNKNOWN: 'LABEL_TYPE_UNKNOWN',
  RENDER_FAILED: 'RENDER_FAILED',
  /** A render worker thread died under a job in every attempt, or none could be started (render-pool.ts). */
  RENDER_WORKER_FAILED: 'RENDER_WORKER_FAILED',
  /** A label rule's price crossed a price guard and was not applied (issue 14; the code of a rule-refused alert). */
  RULE_PRICE_GUARD: 'RULE_PRICE_GUARD',
  // lifecycle
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;
export type EdgeErrorCode = (typeof EdgeErrorCode)[keyof typeof EdgeErrorCode];

export class EdgeError extends Error {
  override readonly name = 'EdgeError';
  constructor(
    readonly code: EdgeErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
