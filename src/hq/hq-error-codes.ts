/**
 * Stable error codes of the HQ push tool (CSV validation and push). A code never changes meaning once released;
 * messages may be reworded. They are printed with every row error and listed in docs/hq-push.md.
 */
export const HqErrorCode = {
  // the file as a whole
  CSV_ENCODING: 'CSV_ENCODING',
  CSV_SYNTAX: 'CSV_SYNTAX',
  CSV_EMPTY: 'CSV_EMPTY',
  CSV_DELIMITER: 'CSV_DELIMITER',
  // header row
  CSV_MISSING_COLUMN: 'CSV_MISSING_COLUMN',
  CSV_DUPLICATE_COLUMN: 'CSV_DUPLICATE_COLUMN',
  // data rows
  CSV_FIELD_COUNT: 'CSV_FIELD_COUNT',
  CSV_REQUIRED: 'CSV_REQUIRED',
  CSV_GTIN: 'CSV_GTIN',
  CSV_AMOUNT: 'CSV_AMOUNT',
  CSV_PERCENT: 'CSV_PERCENT',
  CSV_DATE: 'CSV_DATE',
  CSV_STORE: 'CSV_STORE',
  CSV_CURRENCY: 'CSV_CURRENCY',
  CSV_DUPLICATE_ROW: 'CSV_DUPLICATE_ROW',
  CSV_PROMOTION_CONFLICT: 'CSV_PROMOTION_CONFLICT',
  /** The event contract (event-schemas.ts) refused a value the CSV checks let through. */
  CSV_SCHEMA: 'CSV_SCHEMA',
  // push
  HQ_BAD_OPTION: 'HQ_BAD_OPTION',
  HQ_STORES_FILE: 'HQ_STORES_FILE',
  HQ_INVALID_RECORD: 'HQ_INVALID_RECORD',
  HQ_EVENT_TOO_LARGE: 'HQ_EVENT_TOO_LARGE',
  HQ_CONNECT_FAILED: 'HQ_CONNECT_FAILED',
  HQ_REPLY_SUBSCRIBE_REFUSED: 'HQ_REPLY_SUBSCRIBE_REFUSED',
} as const;
export type HqErrorCode = (typeof HqErrorCode)[keyof typeof HqErrorCode];

/** A problem at one place of the input: row is the 1-based line number in the file, header included. */
export interface RowError {
  row: number;
  column: string;
  message: string;
  code: HqErrorCode;
}

export class HqError extends Error {
  override readonly name = 'HqError';
  constructor(
    readonly code: HqErrorCode,
    message: string,
  ) {
    super(message);
  }
}
