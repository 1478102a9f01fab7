/**
 * Stable error codes of the HQ push tool (CSV validation and push). A code never changes meaning once released;
 * messages may be reworded. They are printed with every row error and listed in docs/hq-push.md and
 * docs/error-codes.md; the list itself is the `hq` layer of the error catalogue (contracts/src/errors.ts).
 */
import { layerCodes, type LayerCode } from '#contracts';

export const HqErrorCode = layerCodes('hq');
export type HqErrorCode = LayerCode<'hq'>;

/** A problem at one place of the input: row is the 1-based line number in the file, header included. */
export interface RowError {
  row: number;
  column: string;
  message: string;
  code: HqErrorCode;
}
