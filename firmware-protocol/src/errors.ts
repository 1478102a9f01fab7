/**
 * Errors of the protocol codec (firmware-protocol/README.md §13). Every failure carries a stable string code,
 * grouped by the layer that detected it, so transports, metrics and tests can act on the code and never on the
 * human-readable message.
 */
import { z } from 'zod';

export const ProtocolErrorCodeSchema = z.enum([
  // §3 framing (stage 1): the bytes do not form a frame.
  'FRAME_TRUNCATED',
  'FRAME_BAD_MAGIC',
  'FRAME_BAD_CRC',
  'FRAME_OVERSIZE',
  'FRAME_BAD_FLAGS',
  'FRAME_TRAILING_BYTES',
  // §4–§9 message (stage 2): a well-formed frame whose payload is not a valid message.
  'MSG_UNKNOWN_TYPE',
  'MSG_BAD_VERSION',
  'MSG_BAD_LENGTH',
  'MSG_INVALID_FIELD',
  'MSG_INVALID',
  // §12 serial line encoding.
  'LINE_BAD_ENCODING',
  // §11 MQTT topics.
  'TOPIC_BAD_ID',
  // §6 image payloads.
  'IMAGE_DECODE_FAILED',
  'IMAGE_SIZE_MISMATCH',
  'IMAGE_BASE_MISMATCH',
  'IMAGE_HASH_MISMATCH',
  'IMAGE_UNSUPPORTED',
]);
export type ProtocolErrorCode = z.infer<typeof ProtocolErrorCodeSchema>;
/** `ProtocolErrorCode.FRAME_BAD_CRC === 'FRAME_BAD_CRC'`, for call sites that prefer a constant to a literal. */
export const ProtocolErrorCode = ProtocolErrorCodeSchema.enum;

export type ProtocolErrorLayer = 'frame' | 'message' | 'line' | 'topic' | 'image';

/** The layer a code belongs to (its prefix), e.g. to label a metric. */
export function protocolErrorLayer(code: ProtocolErrorCode): ProtocolErrorLayer {
  const prefix = code.slice(0, code.indexOf('_'));
  switch (prefix) {
    case 'FRAME':
      return 'frame';
    case 'MSG':
      return 'message';
    case 'LINE':
      return 'line';
    case 'TOPIC':
      return 'topic';
    default:
      return 'image';
  }
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly code: ProtocolErrorCode;
  readonly details?: Record<string, unknown>;
  /** The message without the code prefix. */
  readonly reason: string;

  constructor(code: ProtocolErrorCode, reason: string, details?: Record<string, unknown>) {
    super(`${code}: ${reason}`);
    this.code = code;
    this.reason = reason;
    if (details !== undefined) this.details = details;
  }

  /** The same error with more details (e.g. the frame header added by the frame codec). */
  withDetails(extra: Record<string, unknown>): ProtocolError {
    return new ProtocolError(this.code, this.reason, { ...this.details, ...extra });
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError;
}
