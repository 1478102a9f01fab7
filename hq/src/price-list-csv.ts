/**
 * Price lists and promotion lists as HQ pricing teams export them from spreadsheets (docs/hq-push.md) → validated
 * records (hq-records.ts), or every problem in the file with its line and column — never part of a list: a price
 * list half applied is a store where half the shelf shows last week's prices.
 *
 * Columns are found by name, German or English (`PRICE_COLUMNS`, `PROMOTION_COLUMNS`), in any order; columns the
 * tool does not know (product name, category, …) are ignored and reported. Values are read by csv-values.ts and
 * then checked against the event contract itself (event-schemas.ts), so a list that validates here is a list the
 * edge accepts.
 */
import type { z } from 'zod';
import { GtinSchema, PriceDataSchema, PromotionDataSchema } from '#contracts';
import { readCsvTable, type CsvRecord, type Delimiter } from './csv-table.js';
import { parseDateTime, parseEuroCents, parsePercent } from './csv-values.js';
import { HqErrorCode, type RowError } from './hq-error-codes.js';
import { storesNamed, type HqListKind, type HqRecord, type PriceData, type PromotionData } from './hq-records.js';
import { isKnownTimeZone } from './local-time.js';
import { STORE_ID_PATTERN } from './stores-list.js';

export interface ColumnSpec {
  key: string;
  required: boolean;
  /** Header names accepted, in normalised form (see normalizeHeader); the first is the documented name. */
  aliases: readonly string[];
}

const GTIN_ALIASES = ['gtin', 'ean', 'ean13', 'ean_13', 'gtin13', 'gtin_13', 'ean_code', 'ean_gtin', 'gtin_ean', 'barcode'];
const STORE_ALIASES = ['store', 'store_id', 'filiale', 'filial_nr', 'filialnummer', 'markt', 'markt_nr'];

export const PRICE_COLUMNS: readonly ColumnSpec[] = [
  { key: 'gtin', required: true, aliases: GTIN_ALIASES },
  { key: 'price', required: true, aliases: ['price', 'preis', 'price_eur', 'preis_eur', 'vk', 'vk_preis', 'verkaufspreis', 'sales_price', 'regular_price'] },
  { key: 'valid_from', required: false, aliases: ['valid_from', 'gueltig_ab', 'gultig_ab', 'gueltig_von', 'ab', 'ab_datum', 'effective_from'] },
  { key: 'currency', required: false, aliases: ['currency', 'waehrung', 'wahrung'] },
  { key: 'store', required: false, aliases: STORE_ALIASES },
];

export const PROMOTION_COLUMNS: readonly ColumnSpec[] = [
  { key: 'promotion_id', required: true, aliases: ['promotion_id', 'promo_id', 'promotion', 'aktion_id', 'aktion', 'aktionsnummer', 'aktions_nr', 'aktion_nr'] },
  { key: 'gtin', required: true, aliases: GTIN_ALIASES },
  { key: 'promo_price', required: false, aliases: ['promo_price', 'promotion_price', 'aktionspreis', 'angebotspreis', 'promo_preis', 'sonderpreis'] },
  { key: 'percent_off', required: false, aliases: ['percent_off', 'percent', 'discount_percent', 'rabatt', 'rabatt_prozent', 'rabatt_in_prozent', 'prozent'] },
  { key: 'start', required: true, aliases: ['start', 'start_date', 'from', 'beginn', 'von', 'gueltig_ab', 'aktionsbeginn'] },
  { key: 'end', required: true, aliases: ['end', 'end_date', 'until', 'ende', 'bis', 'gueltig_bis', 'aktionsende'] },
  { key: 'badge', required: false, aliases: ['badge', 'stoerer', 'badge_text'] },
  { key: 'name', required: false, aliases: ['name', 'promotion_name', 'promo_name', 'aktionsname', 'aktion_name'] },
  { key: 'store', required: false, aliases: STORE_ALIASES },
];

export const DEFAULT_TIME_ZONE = 'Europe/Berlin';

/** "Gültig ab" → gueltig_ab, "Preis (EUR)" → preis_eur, "EAN/GTIN" → ean_gtin. */
export function normalizeHeader(name: string): string {
  return name
    .normalize('NFC')
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export interface ParseOptions {
  /** Default: promotions when the header has a promotion id column, else prices. */
  kind?: HqListKind;
  /** Zone of dates written without an offset. Default Europe/Berlin. */
  timeZone?: string;
}

export interface ParsedHqList {
  kind: HqListKind;
  records: HqRecord[];
  /** Data rows read (blank rows not counted). */
  dataRows: number;
  delimiter: Delimiter;
  /** Header names of columns the tool does not use, as written in the file. */
  ignoredColumns: string[];
  /** Stores named in the store column. */
  stores: string[];
}

export type HqCsvResult = { ok: true; list: ParsedHqList } | { ok: false; kind?: HqListKind; errors: RowError[] };

interface Columns {
  /** key → index of the field and the header text as written. */
  byKey: Map<string, { index: number; name: string }>;
  ignored: string[];
}

function mapColumns(header: CsvRecord, specs: readonly ColumnSpec[], errors: RowError[]): Columns {
  const byKey = new Map<string, { index: number; name: string }>();
  const ignored: string[] = [];
  header.fields.forEach((name, index) => {
    const norm = normalizeHeader(name);
    if (norm === '') return;
    const spec = specs.find((s) => s.aliases.includes(norm));
    if (!spec) {
      ignored.push(name);
      return;
    }
    const seen = byKey.get(spec.key);
    if (seen) {
      errors.push({ row: header.line, column: name, code: HqErrorCode.CSV_DUPLICATE_COLUMN, message: `"${seen.name}" and "${name}" both mean ${spec.key}; keep one` });
      return;
    }
    byKey.set(spec.key, { index, name });
  });
  for (const spec of specs) {
    if (spec.required && !byKey.has(spec.key)) {
      errors.push({
        row: header.line,
        column: spec.key,
        code: HqErrorCode.CSV_MISSING_COLUMN,
        message: `missing column "${spec.key}" (also accepted: ${spec.aliases.slice(1).join(', ')})`,
      });
    }
  }
  return { byKey, ignored };
}

class RowReader {
  constructor(
    private readonly cols: Columns,
    readonly record: CsvRecord,
    private readonly errors: RowError[],
  ) {}
  private failed = false;
  get ok(): boolean {
    return !this.failed;
  }
  /** The header text of a column as the file writes it (what the team sees), or the key when absent. */
  column(key: string): string {
    return this.cols.byKey.get(key)?.name ?? key;
  }
  cell(key: string): string {
    const c = this.cols.byKey.get(key);
    return c ? (this.record.fields[c.index] ?? '') : '';
  }
  error(key: string, code: RowError['code'], message: string): void {
    this.failed = true;
    this.errors.push({ row: this.record.line, column: this.column(key), code, message });
  }
  /** Errors from a zod schema, each at the column its path starts with. */
  schemaErrors(issues: readonly z.core.$ZodIssue[], columnOf: (field: string) => string): void {
    for (const i of issues) this.error(columnOf(String(i.path[0] ?? '')), HqErrorCode.CSV_SCHEMA, i.message);
  }
}

/** Same-length field count as the header, else the values are shifted and nothing on the row can be trusted. */
function checkFieldCount(r: RowReader, headerLength: number, delimiter: Delimiter): boolean {
  const extra = r.record.fields.slice(headerLength).filter((f) => f !== '');
  if (extra.length === 0) return true;
  const hint = delimiter === ',' ? '; a decimal comma splits a value when "," separates the columns: quote it ("1,99") or separate with ";"' : '';
  r.error('(row)', HqErrorCode.CSV_FIELD_COUNT, `${headerLength + extra.length} values but the header has ${headerLength} columns${hint}`);
  return false;
}

function readGtin(r: RowReader): string | undefined {
  const raw = r.cell('gtin');
  if (raw === '') return void r.error('gtin', HqErrorCode.CSV_REQUIRED, 'GTIN is empty');
  if (/^\d+(?:[.,]\d+)?e\+?\d+$/i.test(raw)) return void r.error('gtin', HqErrorCode.CSV_GTIN, `"${raw}" is in scientific notation: the spreadsheet rounded the GTIN; format the column as text and export again`);
  const gtin = raw.replace(/\s/g, '');
  const parsed = GtinSchema.safeParse(gtin);
  if (!parsed.success) {
    const lostZeros = /^\d{7}$|^\d{9,11}$/.test(gtin) ? ' (did the spreadsheet drop leading zeros? format the column as text)' : '';
    // The first issue says it: a wrong length makes the check-digit issue noise.
    return void r.error('gtin', HqErrorCode.CSV_GTIN, `"${raw}": ${parsed.error.issues[0]!.message}${lostZeros}`);
  }
  return gtin;
}

function readStore(r: RowReader): string | undefined {
  const store = r.cell('store');
  if (store === '') return undefined;
  if (!STORE_ID_PATTERN.test(store)) r.error('store', HqErrorCode.CSV_STORE, `"${store}" is not a store id (letters, digits, "_" or "-", at most 32)`);
  return store;
}

function priceRecords(cols: Columns, header: CsvRecord, records: CsvRecord[], delimiter: Delimiter, timeZone: string, errors: RowError[]): HqRecord[] {
  const out: HqRecord[] = [];
  const firstRowOf = new Map<string, number>();
  for (const record of records) {
    const r = new RowReader(cols, record, errors);
    if (!checkFieldCount(r, header.fields.length, delimiter)) continue;
    const gtin = readGtin(r);
    const price = parseEuroCents(r.cell('price'));
    if (!price.ok) {
      if (price.message === 'is empty') r.error('price', HqErrorCode.CSV_REQUIRED, 'price is empty');
      else r.error('price', HqErrorCode.CSV_AMOUNT, price.message);
    }
    else if (price.value === 0) r.error('price', HqErrorCode.CSV_AMOUNT, 'price 0,00 €: an empty or broken cell? A price list cannot make a product free');
    let validFrom: string | undefined;
    if (r.cell('valid_from') !== '') {
      const d = parseDateTime(r.cell('valid_from'), { timeZone, dateOnly: 'start-of-day' });
      if (d.ok) validFrom = d.value;
      else r.error('valid_from', HqErrorCode.CSV_DATE, d.message);
    }
    const currency = r.cell('currency');
    if (currency !== '' && !/^(?:eur|€)$/i.test(currency)) r.error('currency', HqErrorCode.CSV_CURRENCY, `"${currency}": the edge takes prices in EUR only`);
    const store = readStore(r);
    if (!r.ok || gtin === undefined || !price.ok) continue;

    // The contract is the last word: whatever it refuses, the edge would refuse.
    const candidate = PriceDataSchema.safeParse({ gtin, priceCents: price.value, currency: 'EUR', ...(validFrom ? { validFrom } : {}) });
    if (!candidate.success) {
      r.schemaErrors(candidate.error.issues, (f) => ({ gtin: 'gtin', priceCents: 'price', validFrom: 'valid_from', currency: 'currency' })[f] ?? 'price');
      continue;
    }
    const key = `${store ?? '*'}|${gtin}|${validFrom ?? ''}`;
    const first = firstRowOf.get(key);
    if (first !== undefined) {
      r.error('gtin', HqErrorCode.CSV_DUPLICATE_ROW, `GTIN ${gtin} ${validFrom ? `from ${validFrom} ` : ''}${store ? `for store ${store} ` : ''}is already on row ${first}`);
      continue;
    }
    firstRowOf.set(key, record.line);
    const data: PriceData = candidate.data;
    out.push({ type: 'price', rows: [record.line], ...(store !== undefined ? { store } : {}), data });
  }
  return out;
}

/** Promotion-level values: the rows of one promotion may leave them empty after the first, but must not differ. */
interface PromotionHead {
  firstRow: number;
  promotionId: string;
  fields: Map<string, { value: string | number; row: number; text: string }>;
  /** store scope ('*' = every store) → gtins with their rows. */
  scopes: Map<string, Map<string, number>>;
}

function promotionRecords(cols: Columns, header: CsvRecord, records: CsvRecord[], delimiter: Delimiter, timeZone: string, errors: RowError[]): HqRecord[] {
  const heads = new Map<string, PromotionHead>();
  for (const record of records) {
    const r = new RowReader(cols, record, errors);
    if (!checkFieldCount(r, header.fields.length, delimiter)) continue;
    const promotionId = r.cell('promotion_id');
    if (promotionId === '') r.error('promotion_id', HqErrorCode.CSV_REQUIRED, 'promotion id is empty');
    // Text fields are checked per row against the contract's own field schemas, so the error lands on its row.
    for (const key of ['promotion_id', 'badge', 'name'] as const) {
      const field = { promotion_id: 'promotionId', badge: 'badge', name: 'name' } as const;
      const value = r.cell(key);
      if (value === '') continue;
      const checked = PromotionDataSchema.shape[field[key]].safeParse(value);
      if (!checked.success) r.error(key, HqErrorCode.CSV_SCHEMA, `"${value}": ${checked.error.issues[0]!.message}`);
    }
    const gtin = readGtin(r);
    const store = readStore(r);

    const values: [string, string | number, string][] = [];
    const take = (key: string, parsed: { ok: true; value: string | number } | { ok: false; message: string }, code: RowError['code']) => {
      if (parsed.ok) values.push([key, parsed.value, r.cell(key)]);
      else r.error(key, code, parsed.message);
    };
    if (r.cell('promo_price') !== '') {
      const p = parseEuroCents(r.cell('promo_price'));
      if (p.ok && p.value === 0) r.error('promo_price', HqErrorCode.CSV_AMOUNT, 'promotion price 0,00 €: an empty or broken cell?');
      else take('promo_price', p, HqErrorCode.CSV_AMOUNT);
    }
    if (r.cell('percent_off') !== '') take('percent_off', parsePercent(r.cell('percent_off')), HqErrorCode.CSV_PERCENT);
    if (r.cell('promo_price') !== '' && r.cell('percent_off') !== '') {
      r.error('percent_off', HqErrorCode.CSV_PROMOTION_CONFLICT, 'give a promotion price or a percent off, not both');
    }
    if (r.cell('start') !== '') take('start', parseDateTime(r.cell('start'), { timeZone, dateOnly: 'start-of-day' }), HqErrorCode.CSV_DATE);
    if (r.cell('end') !== '') take('end', parseDateTime(r.cell('end'), { timeZone, dateOnly: 'end-of-day' }), HqErrorCode.CSV_DATE);
    if (r.cell('badge') !== '') values.push(['badge', r.cell('badge'), r.cell('badge')]);
    if (r.cell('name') !== '') values.push(['name', r.cell('name'), r.cell('name')]);
    if (!r.ok || gtin === undefined) continue;

    let head = heads.get(promotionId);
    if (!head) {
      head = { firstRow: record.line, promotionId, fields: new Map(), scopes: new Map() };
      heads.set(promotionId, head);
    }
    for (const [key, value, text] of values) {
      const seen = head.fields.get(key);
      if (!seen) head.fields.set(key, { value, row: record.line, text });
      else if (seen.value !== value) {
        r.error(key, HqErrorCode.CSV_PROMOTION_CONFLICT, `"${text}" differs from "${seen.text}" on row ${seen.row} of promotion ${promotionId}`);
      }
    }
    const scope = store ?? '*';
    let gtins = head.scopes.get(scope);
    if (!gtins) head.scopes.set(scope, (gtins = new Map()));
    const firstRow = gtins.get(gtin);
    if (firstRow !== undefined) r.error('gtin', HqErrorCode.CSV_DUPLICATE_ROW, `GTIN ${gtin} is already in promotion ${promotionId}${store ? ` for store ${store}` : ''} on row ${firstRow}`);
    else if (r.ok) gtins.set(gtin, record.line);
  }

  const out: HqRecord[] = [];
  for (const head of heads.values()) {
    const f = (key: string) => head.fields.get(key);
    const at = (key: string) => f(key)?.row ?? head.firstRow;
    const fieldError = (key: string, code: RowError['code'], message: string) =>
      errors.push({ row: at(key), column: cols.byKey.get(key)?.name ?? key, code, message });
    if (!f('start')) fieldError('start', HqErrorCode.CSV_REQUIRED, `promotion ${head.promotionId} has no start`);
    if (!f('end')) fieldError('end', HqErrorCode.CSV_REQUIRED, `promotion ${head.promotionId} has no end`);
    if (!f('promo_price') && !f('percent_off')) fieldError('promo_price', HqErrorCode.CSV_REQUIRED, `promotion ${head.promotionId} has neither a promotion price nor a percent off`);
    if (f('promo_price') && f('percent_off')) fieldError('percent_off', HqErrorCode.CSV_PROMOTION_CONFLICT, `promotion ${head.promotionId} has a promotion price (row ${at('promo_price')}) and a percent off; give one`);
    if (!f('start') || !f('end') || !f('promo_price') === !f('percent_off')) continue;

    for (const [scope, gtinRows] of head.scopes) {
      if (gtinRows.size === 0) continue;
      const candidate = PromotionDataSchema.safeParse({
        promotionId: head.promotionId,
        gtins: [...gtinRows.keys()],
        start: f('start')!.value,
        end: f('end')!.value,
        ...(f('promo_price') ? { promoPriceCents: f('promo_price')!.value } : {}),
        ...(f('percent_off') ? { percentOff: f('percent_off')!.value } : {}),
        ...(f('badge') ? { badge: f('badge')!.value } : {}),
        ...(f('name') ? { name: f('name')!.value } : {}),
      });
      if (!candidate.success) {
        const columnOf: Record<string, string> = { promotionId: 'promotion_id', gtins: 'gtin', promoPriceCents: 'promo_price', percentOff: 'percent_off', start: 'start', end: 'end', badge: 'badge', name: 'name' };
        for (const i of candidate.error.issues) {
          const key = columnOf[String(i.path[0])] ?? 'promotion_id';
          fieldError(key, HqErrorCode.CSV_SCHEMA, `promotion ${head.promotionId}: ${i.message}`);
        }
        break; // the same promotion-level problem would repeat for every store scope
      }
      const data: PromotionData = candidate.data;
      const rows = [...gtinRows.values()].sort((a, b) => a - b);
      out.push({ type: 'promotion', rows, ...(scope !== '*' ? { store: scope } : {}), data });
    }
  }
  return out;
}

export function parseHqCsv(input: Uint8Array | string, opts: ParseOptions = {}): HqCsvResult {
  const timeZone = opts.timeZone ?? DEFAULT_TIME_ZONE;
  if (!isKnownTimeZone(timeZone)) {
    return { ok: false, errors: [{ row: 0, column: '(options)', code: HqErrorCode.HQ_BAD_OPTION, message: `unknown time zone "${timeZone}"` }] };
  }
  const read = readCsvTable(input);
  if (!read.ok) return { ok: false, ...(opts.kind ? { kind: opts.kind } : {}), errors: read.errors };
  const { header, records, delimiter } = read.table;

  const looksLikePromotions = header.fields.some((h) => PROMOTION_COLUMNS[0]!.aliases.includes(normalizeHeader(h)));
  const kind: HqListKind = opts.kind ?? (looksLikePromotions ? 'promotions' : 'prices');
  const errors: RowError[] = [];
  const cols = mapColumns(header, kind === 'prices' ? PRICE_COLUMNS : PROMOTION_COLUMNS, errors);
  if (errors.length > 0) return { ok: false, kind, errors };
  if (records.length === 0) return { ok: false, kind, errors: [{ row: header.line, column: '(file)', code: HqErrorCode.CSV_EMPTY, message: 'the file has a header but no rows' }] };

  const out =
    kind === 'prices' ? priceRecords(cols, header, records, delimiter, timeZone, errors) : promotionRecords(cols, header, records, delimiter, timeZone, errors);
  // Stable sort: within a row, errors stay in the order the columns were read.
  if (errors.length > 0) return { ok: false, kind, errors: errors.sort((a, b) => a.row - b.row) };
  return { ok: true, list: { kind, records: out, dataRows: records.length, delimiter, ignoredColumns: cols.ignored, stores: storesNamed(out) } };
}

export function parsePriceListCsv(input: Uint8Array | string, opts: Omit<ParseOptions, 'kind'> = {}): HqCsvResult {
  return parseHqCsv(input, { ...opts, kind: 'prices' });
}

export function parsePromotionCsv(input: Uint8Array | string, opts: Omit<ParseOptions, 'kind'> = {}): HqCsvResult {
  return parseHqCsv(input, { ...opts, kind: 'promotions' });
}
