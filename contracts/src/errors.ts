/**
 * The error catalogue: one error class, EslError, for every program of the repository (the edge, the HQ push tool,
 * the simulator), with stable codes grouped by the layer that raises them (as zwave-js's ZWaveError; D75). Every
 * code is listed in docs/error-codes.md, and test/core/error-catalogue.test.ts checks that the two lists are equal.
 * A code never changes meaning once released; messages may be reworded. The protocol codec keeps its own
 * ProtocolError (firmware-protocol/src/errors.ts, codes in the same style, listed in firmware-protocol/README.md §13)
 * because that package imports nothing of ours.
 *
 * Add a code at the end of its layer's list (merges stay small), and a row to docs/error-codes.md.
 */
export const ERROR_CATALOGUE = {
  /** Configuration, start-up and shutdown (src/config, src/daemon.ts). */
  config: ['CONFIG_INVALID', 'CONFIG_NOT_FOUND', 'SHUTTING_DOWN'],
  /** Event intake: replies on the reply topic, HTTP 400 bodies, `dead_letters.code` (src/domain/events). */
  intake: [
    'EVENT_MALFORMED_JSON',
    'EVENT_SCHEMA',
    'EVENT_TOO_LARGE',
    'EVENT_TOPIC_MISMATCH',
    'EVENT_UNKNOWN_PRODUCT',
    'EVENT_WRONG_STORE',
    /** A printed field has a character no bundled font has (content-plausibility.ts); the renderer refuses it with the same code. */
    'CONTENT_UNSUPPORTED_CHARACTER',
    /** A price of 0 not marked `intended` (content-plausibility.ts); raises a price-implausible alert. */
    'PRICE_IMPLAUSIBLE',
    'REPLY_TO_FOREIGN',
  ],
  /** MQTT requests `…/req/{kind}` (src/transport/mqtt-request-source.ts) and the store's MQTT clients. */
  mqtt: ['REQUEST_SCHEMA', 'REQUEST_FAILED', 'REQUEST_TOO_LARGE', 'MQTT_CONNECT_FAILED'],
  /** The HTTP API (src/api): the `error` of a `{ error, message }` body. */
  http: ['HTTP_UNAUTHORIZED', 'HTTP_AUTH_RATE_LIMITED', 'HTTP_BAD_QUERY', 'HTTP_BAD_LABEL_ID', 'HTTP_BAD_REQUEST', 'HTTP_NOT_FOUND', 'HTTP_ERROR', 'IMAGE_NOT_FOUND'],
  /** The store dashboard (src/api/dashboard). */
  dashboard: ['DASHBOARD_UNAUTHORIZED', 'DASHBOARD_LOGIN_FAILED', 'DASHBOARD_CSRF', 'DASHBOARD_FORBIDDEN'],
  /** Persistence and the outbox (src/persistence, src/domain/outbox). */
  persistence: ['DB_ERROR', 'OUTBOX_TOO_LARGE'],
  /** AP links (src/transport/ap-hub.ts, protocol §7). */
  ap: ['AP_OFFLINE', 'AP_ACK_TIMEOUT', 'AP_NACK', 'AP_HUB_NOT_STARTED'],
  /** Labels, rules and prices (src/domain). */
  domain: ['LABEL_NOT_FOUND', 'LABEL_TYPE_UNKNOWN', 'RULE_PRICE_GUARD', 'UNIT_PRICE_INVALID_INPUT', 'LOWEST_PRIOR_PRICE_INVALID_INPUT'],
  /** Templates and rendering (src/domain/rendering). */
  rendering: [
    'RENDER_FAILED',
    /** A render worker thread died under a job in every attempt, or none could be started (render-pool.ts). */
    'RENDER_WORKER_FAILED',
    'TEMPLATE_INVALID',
    'TEMPLATE_PANGV_4',
    'TEMPLATE_PANGV_11',
    'TEMPLATE_DIR_UNREADABLE',
    'TEMPLATE_NOT_FOUND',
    'TEMPLATE_NO_LAYOUT',
    'TEMPLATE_NOT_EXEMPT',
    'CONTENT_INVALID',
    'CONTENT_INCOHERENT',
    'PAGE_OUT_OF_RANGE',
    'LAYOUT_OVERFLOW',
    'PLANES_INVALID',
    'PNG_INVALID',
    'BARCODE_ENCODING',
    'GLYPH_RASTER_MISSING',
    'PACKAGE_ROOT_NOT_FOUND',
  ],
  /** The HQ push tool (hq/src): CSV validation and the push; also in docs/hq-push.md. */
  hq: [
    'CSV_ENCODING',
    'CSV_SYNTAX',
    'CSV_EMPTY',
    'CSV_DELIMITER',
    'CSV_MISSING_COLUMN',
    'CSV_DUPLICATE_COLUMN',
    'CSV_FIELD_COUNT',
    'CSV_REQUIRED',
    'CSV_GTIN',
    'CSV_AMOUNT',
    'CSV_PERCENT',
    'CSV_DATE',
    'CSV_STORE',
    'CSV_CURRENCY',
    'CSV_DUPLICATE_ROW',
    'CSV_PROMOTION_CONFLICT',
    /** The event contract (event-schemas.ts) refused a value the CSV checks let through. */
    'CSV_SCHEMA',
    'HQ_BAD_OPTION',
    'HQ_STORES_FILE',
    'HQ_INVALID_RECORD',
    'HQ_EVENT_TOO_LARGE',
    'HQ_CONNECT_FAILED',
    'HQ_REPLY_SUBSCRIBE_REFUSED',
    'HQ_UNREADABLE_REPLY',
    'HQ_USAGE',
  ],
  /** The store simulator (simulator/src). */
  simulator: [
    'SCENARIO_NOT_FOUND',
    'SCENARIO_MALFORMED_JSON',
    'SCENARIO_INVALID',
    'SCENARIO_EVENT_REJECTED',
    'SCENARIO_EVENT_TIMEOUT',
    'SCENARIO_EDGE_ERROR',
    'SCENARIO_CREDENTIALS',
    'SCENARIO_ABORTED',
    'SIM_UNKNOWN_LABEL',
    'SIM_UNKNOWN_AP',
    'SIM_INVALID_OPTIONS',
    'CREDENTIAL_MISSING',
    'CREDENTIAL_BAD_SYNTAX',
    'LINK_CONNECT_FAILED',
    'LINK_NOT_OPEN',
    'CLOCK_BUSY',
    'CLOCK_STOPPED',
    'CLOCK_INVALID_ARGUMENT',
  ],
} as const;

export type ErrorLayer = keyof typeof ERROR_CATALOGUE;
export type ErrorCode = (typeof ERROR_CATALOGUE)[ErrorLayer][number];
/** The codes of some layers, e.g. `LayerCode<'hq'>`. */
export type LayerCode<L extends ErrorLayer> = (typeof ERROR_CATALOGUE)[L][number];

/** Every code of the catalogue, in catalogue order. */
export const ERROR_CODES: readonly ErrorCode[] = Object.values(ERROR_CATALOGUE).flat();

/** `ErrorCode.DB_ERROR === 'DB_ERROR'`, for call sites that prefer a constant to a literal. */
export const ErrorCode = Object.fromEntries(ERROR_CODES.map((c) => [c, c])) as { readonly [C in ErrorCode]: C };

/** The same constants for some layers only (a tool's own view of the catalogue, e.g. HqErrorCode). */
export function layerCodes<L extends ErrorLayer>(...layers: L[]): { readonly [C in LayerCode<L>]: C } {
  return Object.fromEntries(layers.flatMap((l) => ERROR_CATALOGUE[l]).map((c) => [c, c])) as { readonly [C in LayerCode<L>]: C };
}

/** The layer a code belongs to. */
export function errorLayer(code: ErrorCode): ErrorLayer {
  return (Object.keys(ERROR_CATALOGUE) as ErrorLayer[]).find((l) => (ERROR_CATALOGUE[l] as readonly string[]).includes(code))!;
}

export function isErrorCode(s: unknown): s is ErrorCode {
  return typeof s === 'string' && (ERROR_CODES as readonly string[]).includes(s);
}

/** The one error class: a catalogued code, a message for people, and details for logs and callers. */
export class EslError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'EslError';
  constructor(
    readonly code: C,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isEslError(err: unknown, ...codes: ErrorCode[]): err is EslError {
  return err instanceof EslError && (codes.length === 0 || codes.includes(err.code));
}

/** Anything with a catalogued code: an EslError, or an error that crossed a thread or process boundary with its code. */
export function isCodedError(err: unknown): err is Error & { code: ErrorCode } {
  return err instanceof Error && isErrorCode((err as { code?: unknown }).code);
}

/**
 * The names the edge's code used before the catalogue covered every program (EdgeError, EdgeErrorCode): the same
 * class and constants, kept so that this change leaves the files of other work untouched.
 */
export const EdgeError = EslError;
export type EdgeError = EslError;
export const EdgeErrorCode = ErrorCode;
export type EdgeErrorCode = ErrorCode;

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
