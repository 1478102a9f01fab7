/**
 * German (de-DE) price and date formatting for labels.
 *
 * Implemented directly rather than with Intl.NumberFormat: the output is hashed into the label's planes, so it must
 * be byte-identical on every machine, and ICU data (and its choice of spaces) has changed between Node releases.
 */

/** U+00A0 NO-BREAK SPACE: keeps "1,99 €" and "1 kg" together when a line wraps. */
export const NBSP = '\u00a0';

/** Integer part with German thousands separators: 1299 → "1.299". */
function groupThousands(n: bigint): string {
  const digits = n.toString();
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += '.';
    out += digits[i];
  }
  return out;
}

export interface EuroParts {
  /** "-" for a negative amount, else "". */
  sign: string;
  /** Euros with thousands separators: "1.299". */
  euros: string;
  /** Always two digits: "00". */
  cents: string;
}

function assertCents(cents: number): void {
  if (!Number.isSafeInteger(cents)) throw new RangeError(`PRICE_NOT_INTEGER_CENTS: ${cents} is not a whole number of cents`);
}

/** Splits an amount in cents into the parts a label prints (large euros, small cents). */
export function euroParts(cents: number): EuroParts {
  assertCents(cents);
  const abs = BigInt(Math.abs(cents));
  return {
    sign: cents < 0 ? '-' : '',
    euros: groupThousands(abs / 100n),
    cents: (abs % 100n).toString().padStart(2, '0'),
  };
}

/** 199 → "1,99 €", 129900 → "1.299,00 €" (no-break space before the euro sign). */
export function formatEuro(cents: number): string {
  const p = euroParts(cents);
  return `${p.sign}${p.euros},${p.cents}${NBSP}€`;
}

/** 199 → "1,99" (no currency sign), for layouts that print the € separately. */
export function formatEuroAmount(cents: number): string {
  const p = euroParts(cents);
  return `${p.sign}${p.euros},${p.cents}`;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseIsoDate(iso: string): { y: string; m: string; d: string } {
  const m = ISO_DATE.exec(iso);
  if (!m) throw new RangeError(`DATE_INVALID: "${iso}" is not a YYYY-MM-DD date`);
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) throw new RangeError(`DATE_INVALID: "${iso}" is not a calendar date`);
  return { y, m: mo, d };
}

/** "2026-11-24" → "24.11." (the short form promotions print: "bis 24.11."). */
export function formatDateDe(iso: string): string {
  const { m, d } = parseIsoDate(iso);
  return `${d}.${m}.`;
}

/** "2026-11-24" → "24.11.2026". */
export function formatDateDeLong(iso: string): string {
  const { y, m, d } = parseIsoDate(iso);
  return `${d}.${m}.${y}`;
}

/** Replaces ordinary spaces by no-break spaces: "1 kg" → "1 kg" that never wraps. */
export function noBreak(s: string): string {
  return s.replace(/ /g, NBSP);
}
