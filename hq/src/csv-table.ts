/**
 * A CSV file as spreadsheets export it → header + records, each record with the line of the file it starts on.
 *
 * - Encoding: UTF-8, with or without BOM. Excel's plain "CSV (Trennzeichen-getrennt)" writes Windows-1252 and
 *   "Unicode-Text" writes UTF-16; both are refused with the way out, because decoding them as UTF-8 would turn
 *   "Gültig ab" into a header nobody recognises (or worse, a badge text into mojibake on 5,000 labels).
 * - Delimiter: `;` (German Excel), `,` or tab, detected from the header row (which holds names, not decimal
 *   commas), or taken from an Excel `sep=;` first line.
 * - Line numbers: 1-based lines of the file, the header included, so an error points to the line a text editor
 *   shows. A quoted value may span lines; its record is reported at its first line.
 */
import { parse } from 'csv-parse/sync';
import { HqErrorCode, type RowError } from './hq-error-codes.js';

export type Delimiter = ';' | ',' | '\t';

export interface CsvRecord {
  /** 1-based line of the file where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvTable {
  delimiter: Delimiter;
  bom: boolean;
  header: CsvRecord;
  records: CsvRecord[];
}

export type CsvTableResult = { ok: true; table: CsvTable } | { ok: false; errors: RowError[] };

const fileError = (row: number, code: RowError['code'], message: string): CsvTableResult => ({
  ok: false,
  errors: [{ row, column: '(file)', message, code }],
});

/** Bytes → text, refusing what is not UTF-8. */
export function decodeCsvText(input: Uint8Array | string): { ok: true; text: string; bom: boolean } | { ok: false; error: RowError } {
  if (typeof input === 'string') {
    const bom = input.charCodeAt(0) === 0xfeff;
    return { ok: true, text: bom ? input.slice(1) : input, bom };
  }
  if ((input[0] === 0xff && input[1] === 0xfe) || (input[0] === 0xfe && input[1] === 0xff)) {
    return { ok: false, error: { row: 1, column: '(file)', code: HqErrorCode.CSV_ENCODING, message: 'the file is UTF-16 ("Unicode-Text"); save it as "CSV UTF-8 (durch Trennzeichen getrennt)"' } };
  }
  const bom = input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf;
  const body = bom ? input.subarray(3) : input;
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body), bom };
  } catch {
    // Find the line of the first byte that is not UTF-8 so the team can see what Excel did to it.
    const loose = new TextDecoder('utf-8').decode(body);
    const at = loose.indexOf('\ufffd');
    const line = loose.slice(0, Math.max(0, at)).split('\n').length;
    return {
      ok: false,
      error: {
        row: line,
        column: '(file)',
        code: HqErrorCode.CSV_ENCODING,
        message: 'the file is not UTF-8 (probably Windows-1252 from Excel\'s "CSV (Trennzeichen-getrennt)"); save it as "CSV UTF-8 (durch Trennzeichen getrennt)"',
      },
    };
  }
}

/** Counts of each candidate delimiter outside double quotes in one line. */
function countDelimiters(line: string): Record<Delimiter, number> {
  const counts: Record<Delimiter, number> = { ';': 0, ',': 0, '\t': 0 };
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ';' || ch === ',' || ch === '\t')) counts[ch]++;
  }
  return counts;
}

export function readCsvTable(input: Uint8Array | string): CsvTableResult {
  const decoded = decodeCsvText(input);
  if (!decoded.ok) return { ok: false, errors: [decoded.error] };
  let text = decoded.text;

  // Excel's "sep=;" hint line: honoured, skipped, and still counted as line 1.
  let skippedLines = 0;
  let delimiter: Delimiter | null = null;
  const sep = text.match(/^sep=([;,\t])\r?\n/i);
  if (sep) {
    delimiter = sep[1] as Delimiter;
    text = text.slice(sep[0].length);
    skippedLines = 1;
  }

  const lines = text.split('\n');
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) return fileError(1, HqErrorCode.CSV_EMPTY, 'the file is empty');
  if (!delimiter) {
    const counts = countDelimiters(lines[headerIndex]!);
    // Ties go to ";" (German exports) before tab before ",".
    const best = ([';', '\t', ','] as const).reduce((a, b) => (counts[b] > counts[a] ? b : a));
    if (counts[best] === 0) {
      return fileError(skippedLines + headerIndex + 1, HqErrorCode.CSV_DELIMITER, 'the header row has a single column; separate the columns with ";" or ","');
    }
    delimiter = best;
  }

  type Info = { record: string[]; raw: string; info: { lines: number } };
  let parsed: Info[];
  try {
    parsed = parse(text, {
      delimiter,
      info: true,
      raw: true,
      bom: false,
      relax_column_count: true,
      // A stray quote inside an unquoted value (12" pizza) is kept as text, as spreadsheets mean it.
      relax_quotes: true,
      skip_empty_lines: true,
    }) as unknown as Info[];
  } catch (err) {
    const line = typeof (err as { lines?: unknown }).lines === 'number' ? (err as { lines: number }).lines : 1;
    const message = err instanceof Error ? err.message.replace(/^Invalid Closing Quote: |^Quote Not Closed: /, '') : String(err);
    return fileError(line + skippedLines, HqErrorCode.CSV_SYNTAX, `cannot read the CSV: ${message}`);
  }

  const records: CsvRecord[] = [];
  for (const p of parsed) {
    // info.lines is the line the record ends on; a value spanning lines moves its start up.
    const body = p.raw.replace(/^(?:\r?\n)+/, '').replace(/\r?\n$/, '');
    const newlinesInside = (body.match(/\n/g) ?? []).length;
    const fields = p.record.map((f) => f.trim());
    if (fields.every((f) => f === '')) continue; // ";;;" rows Excel writes below the data
    records.push({ line: p.info.lines - newlinesInside + skippedLines, fields });
  }
  const [header, ...rest] = records;
  if (!header) return fileError(1, HqErrorCode.CSV_EMPTY, 'the file is empty');
  return { ok: true, table: { delimiter, bom: decoded.bom, header, records: rest } };
}
