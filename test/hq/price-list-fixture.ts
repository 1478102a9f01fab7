/**
 * Generated price lists of the size a pricing team pushes (hundreds to thousands of rows), in the German Excel
 * export form: UTF-8 with BOM, ";" separated, CRLF, decimal commas, an ignored product-name column.
 */
import { gtinCheckDigitOk } from '#contracts';

export function gtinWithCheckDigit(body: string): string {
  for (let d = 0; d <= 9; d++) if (gtinCheckDigitOk(`${body}${d}`)) return `${body}${d}`;
  throw new Error(`no check digit for ${body}`);
}

const NAMES = ['Bio-Vollmilch 3,8 % 1 l', 'Joghurt mild 500 g', 'Vollkornbrot 750 g', 'Bergkäse 200 g', 'Apfelsaft naturtrüb 1 l', 'Kaffee gemahlen 500 g', 'Spaghetti 500 g', 'Mineralwasser 6 x 1,5 l'];

/** German de-DE form of cents: 149 → "1,49", 129900 → "1.299,00". */
export function germanEuros(cents: number): string {
  const euros = Math.floor(cents / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '.');
  return `${euros},${String(cents % 100).padStart(2, '0')}`;
}

export interface GeneratedList {
  text: string;
  /** gtin → cents of the valid rows. */
  prices: Map<string, number>;
}

/**
 * `rows` data rows (lines 2 … rows+1). `badCheckDigitLine` / `badPriceLine` spoil the row on that file line.
 * `centsShift` changes every price, for a second list of the same products.
 */
export function germanPriceList(rows: number, opts: { badCheckDigitLine?: number; badPriceLine?: number; centsShift?: number } = {}): GeneratedList {
  const lines = ['EAN;Artikelbezeichnung;Preis;Gültig ab'];
  const prices = new Map<string, number>();
  for (let i = 0; i < rows; i++) {
    const line = i + 2;
    let gtin = gtinWithCheckDigit(`4006${String(100_000 + i).padStart(8, '0')}`);
    const cents = 49 + ((i * 37) % 1950) + (i % 50 === 0 ? 120_000 : 0) + (opts.centsShift ?? 0);
    let price = germanEuros(cents);
    if (line === opts.badCheckDigitLine) gtin = `${gtin.slice(0, -1)}${(Number(gtin.at(-1)) + 1) % 10}`;
    if (line === opts.badPriceLine) price = '#WERT!';
    if (line !== opts.badCheckDigitLine && line !== opts.badPriceLine) prices.set(gtin, cents);
    lines.push(`${gtin};${NAMES[i % NAMES.length]};${price};`);
  }
  return { text: `\ufeff${lines.join('\r\n')}\r\n`, prices };
}
