/**
 * Cell values as spreadsheets export them, read strictly: amounts in euros with a decimal comma or point, percents,
 * and dates in German or ISO form. Pure functions; each returns the value or a message a pricing team can act on.
 *
 * Strict on purpose: "1.299" could be 1,299 € or 1.299 €, and a spreadsheet that lost leading zeros or wrote a
 * number in scientific notation has damaged the data. Guessing there puts a wrong price on a shelf (PAngV fines
 * reach 25,000 €); refusing costs one corrected cell.
 */
import { formatInstantInZone, nextDay, wallTimeToInstant, type WallTime } from './local-time.js';

export type ValueResult<T> = { ok: true; value: T } | { ok: false; message: string };

const fail = (message: string): { ok: false; message: string } => ({ ok: false, message });

/** Spaces Excel writes in formatted numbers (no-break, narrow no-break) count as spaces. */
function squeeze(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, ' ').trim();
}

const SPREADSHEET_ERROR = /^#(?:WERT!|VALUE!|NV|N\/A|DIV\/0!|BEZUG!|REF!|NAME\?|ZAHL!|NUM!|NULL!)$/i;

function digitsToCents(euros: string, fraction: string): number {
  return Number(euros) * 100 + Number(fraction.padEnd(2, '0'));
}

/**
 * Euros → integer cents. Accepted: 1,99 · 1.99 · 2 · 1.299,00 · 1,299.00 · 1.299.000 · with "€"/"EUR" before or
 * after. Refused: a single group of three digits after one separator ("1.299": thousand or 1.299 €?), more than
 * two decimals, signs, scientific notation and spreadsheet error values.
 */
export function parseEuroCents(raw: string): ValueResult<number> {
  const text = squeeze(raw)
    .replace(/^(?:€|eur)\s*/i, '')
    .replace(/\s*(?:€|eur)$/i, '');
  if (text === '') return fail('is empty');
  if (SPREADSHEET_ERROR.test(text)) return fail(`"${raw}" is a spreadsheet error value, not a price`);
  if (/^[+-]/.test(text)) return fail(`"${raw}": write the price without a sign`);
  if (/^\d+(?:[.,]\d+)?e[+-]?\d+$/i.test(text)) return fail(`"${raw}" is in scientific notation; format the column as a number with 2 decimals`);
  let m: RegExpMatchArray | null;
  if ((m = text.match(/^(\d+)$/))) return centsInRange(raw, digitsToCents(m[1]!, ''), m[1]!);
  if ((m = text.match(/^(\d+)[.,](\d{1,2})$/))) return centsInRange(raw, digitsToCents(m[1]!, m[2]!), m[1]!);
  if ((m = text.match(/^(\d{1,3}(?:\.\d{3})+),(\d{1,2})$/)) || (m = text.match(/^(\d{1,3}(?:,\d{3})+)\.(\d{1,2})$/))) {
    const euros = m[1]!.replace(/[.,]/g, '');
    return centsInRange(raw, digitsToCents(euros, m[2]!), euros);
  }
  if ((m = text.match(/^\d{1,3}(?:\.\d{3}){2,}$/)) || (m = text.match(/^\d{1,3}(?:,\d{3}){2,}$/))) {
    const euros = m[0].replace(/[.,]/g, '');
    return centsInRange(raw, digitsToCents(euros, ''), euros);
  }
  if ((m = text.match(/^(\d{1,3})([.,])(\d{3})$/))) {
    const [, a, sep, b] = m;
    const other = sep === '.' ? ',' : '.';
    return fail(`"${raw}" is ambiguous: write ${a}${sep}${b}${other}00 for ${a}${b} euros, or at most 2 decimals`);
  }
  if (/^\d+[.,]\d{3,}$/.test(text)) return fail(`"${raw}" has more than 2 decimals`);
  return fail(`"${raw}" is not an amount in euros (write e.g. 1,99 or 1.299,00)`);
}

function centsInRange(raw: string, cents: number, euroDigits: string): ValueResult<number> {
  // The contract's ceiling is 100,000,000 cents; checking the digit count first keeps Number exact.
  if (euroDigits.replace(/^0+/, '').length > 7 || cents > 100_000_000) return fail(`"${raw}" is above the largest price, 1.000.000,00 €`);
  return { ok: true, value: cents };
}

/**
 * A discount in percent: 20 · 20 % · 12,5 · -20 % (the minus as printed on a badge). At least 1: a cell with 0,2
 * is almost always a percent-formatted 20 % exported as a fraction, and 0.2 % off is no promotion.
 */
export function parsePercent(raw: string): ValueResult<number> {
  const text = squeeze(raw).replace(/\s*%$/, '').replace(/^-\s*/, '');
  if (text === '') return fail('is empty');
  if (SPREADSHEET_ERROR.test(text)) return fail(`"${raw}" is a spreadsheet error value, not a percent`);
  const m = text.match(/^(\d{1,2})(?:[.,](\d{1,2}))?$/);
  if (!m) return fail(`"${raw}" is not a percent between 1 and 99 (write e.g. 20 or 12,5)`);
  const value = Number(`${m[1]}.${m[2] ?? '0'}`);
  if (value < 1) return fail(`"${raw}" % is below 1 %; if you mean ${Math.round(value * 100)} %, write ${Math.round(value * 100)}`);
  return { ok: true, value };
}

export interface DateOptions {
  timeZone: string;
  /** A date without a time means the start of that day, or (for an end) the end of it: midnight after it. */
  dateOnly: 'start-of-day' | 'end-of-day';
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function validWall(w: WallTime): string | null {
  if (w.year < 2000 || w.year > 2099) return `year ${w.year} is outside 2000–2099`;
  if (w.month < 1 || w.month > 12) return `month ${w.month} does not exist`;
  if (w.day < 1 || w.day > daysInMonth(w.year, w.month)) return `day ${w.day} does not exist in month ${w.month} of ${w.year}`;
  if (w.hour > 23 || w.minute > 59 || w.second > 59) return 'the time of day is not valid';
  return null;
}

/**
 * A date or date and time → an instant with offset (2026-03-29T00:00:00+01:00). Accepted: 29.03.2026,
 * 29.03.2026 06:00, 2026-03-29, 2026-03-29T06:00, 2026-03-29 06:00:00, and full ISO with Z or an offset. Wall
 * times are read in `timeZone`; the offset written out is the one in force then (daylight saving included).
 */
export function parseDateTime(raw: string, opts: DateOptions): ValueResult<string> {
  const text = squeeze(raw);
  if (text === '') return fail('is empty');
  let m: RegExpMatchArray | null;

  if ((m = text.match(/^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?\s*(Z|[+-]\d{2}:\d{2})$/i))) {
    const wall = { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]!, second: +(m[6] ?? 0) };
    const problem = validWall(wall);
    if (problem) return fail(`"${raw}": ${problem}`);
    const utcMs = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7]!.toUpperCase()}`);
    return { ok: true, value: formatInstantInZone(utcMs, opts.timeZone) };
  }

  let date: Pick<WallTime, 'year' | 'month' | 'day'> | null = null;
  let time: Pick<WallTime, 'hour' | 'minute' | 'second'> | null = null;
  if ((m = text.match(/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/))) {
    date = { year: +m[1]!, month: +m[2]!, day: +m[3]! };
    if (m[4] !== undefined) time = { hour: +m[4], minute: +m[5]!, second: +(m[6] ?? 0) };
  } else if ((m = text.match(/^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*Uhr)?)?$/i))) {
    date = { year: +m[3]!, month: +m[2]!, day: +m[1]! };
    if (m[4] !== undefined) time = { hour: +m[4], minute: +m[5]!, second: +(m[6] ?? 0) };
  } else if (/^\d{1,2}\.\d{1,2}\.\d{2}(?:\s|$)/.test(text)) {
    return fail(`"${raw}": write the year with four digits (dd.mm.yyyy)`);
  } else if (/^\d{1,2}\/\d{1,2}\/\d{2,4}/.test(text)) {
    return fail(`"${raw}" is ambiguous (month/day or day/month?); write dd.mm.yyyy or yyyy-mm-dd`);
  } else if (/^\d{5}(?:[.,]\d+)?$/.test(text)) {
    return fail(`"${raw}" is a spreadsheet date number; format the column as a date (dd.mm.yyyy)`);
  } else {
    return fail(`"${raw}" is not a date (write dd.mm.yyyy, yyyy-mm-dd or either with hh:mm)`);
  }

  const problem = validWall({ ...date, ...(time ?? { hour: 0, minute: 0, second: 0 }) });
  if (problem) return fail(`"${raw}": ${problem}`);
  const day = time === null && opts.dateOnly === 'end-of-day' ? nextDay(date) : date;
  const local = wallTimeToInstant({ ...day, ...(time ?? { hour: 0, minute: 0, second: 0 }) }, opts.timeZone);
  if (!local.ok) {
    if (local.reason === 'nonexistent') return fail(`"${raw}" does not exist in ${opts.timeZone} (the clocks go forward then); use the hour after`);
    const [a, b] = local.candidates.map((t) => formatInstantInZone(t, opts.timeZone));
    return fail(`"${raw}" happens twice in ${opts.timeZone} (the clocks go back then); write ${a} or ${b}`);
  }
  return { ok: true, value: formatInstantInZone(local.utcMs, opts.timeZone) };
}
