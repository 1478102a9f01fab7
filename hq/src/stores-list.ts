/**
 * A chain's list of stores for `esl-edge hq push --stores-file / --all-stores`: one store id per line; blank lines
 * and `#` comments are ignored, and anything after the id (separated by whitespace, ";" or ",") is a free note
 * such as the store's name. Store ids become MQTT topic levels (esl/{chain}/{store}/…), so they are held to the
 * same rule as the edge's config: 1–32 of [A-Za-z0-9_-] (firmware-protocol/README.md §11.1).
 */
import { HqErrorCode, type RowError } from './hq-error-codes.js';

export const STORE_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export type StoresListResult = { ok: true; stores: string[] } | { ok: false; errors: RowError[] };

export function parseStoresList(text: string): StoresListResult {
  const stores: string[] = [];
  const firstLine = new Map<string, number>();
  const errors: RowError[] = [];
  text
    .replace(/^\ufeff/, '')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*$/, '').trim();
      if (line === '') return;
      const id = line.split(/[\s;,]+/)[0]!;
      const at = i + 1;
      if (!STORE_ID_PATTERN.test(id)) {
        errors.push({ row: at, column: 'store', code: HqErrorCode.HQ_STORES_FILE, message: `"${id}" is not a store id (letters, digits, "_" or "-", at most 32)` });
      } else if (firstLine.has(id)) {
        errors.push({ row: at, column: 'store', code: HqErrorCode.HQ_STORES_FILE, message: `store ${id} is already on line ${firstLine.get(id)}` });
      } else {
        firstLine.set(id, at);
        stores.push(id);
      }
    });
  if (errors.length > 0) return { ok: false, errors };
  if (stores.length === 0) return { ok: false, errors: [{ row: 1, column: 'store', code: HqErrorCode.HQ_STORES_FILE, message: 'the stores list names no store' }] };
  return { ok: true, stores };
}
