/**
 * GTIN helpers for the label's machine-readable codes: GS1 check digit, GTIN-14 form, the GS1 Digital Link URI and
 * which retail barcode (EAN-13 / EAN-8) can carry a GTIN.
 */

/** GS1 mod-10 check: weights 3,1,3,… from the rightmost data digit. */
export function gtinCheckDigitOk(gtin: string): boolean {
  if (!/^\d{8}$|^\d{12,14}$/.test(gtin)) return false;
  let sum = 0;
  const body = gtin.slice(0, -1);
  for (let i = 0; i < body.length; i++) {
    const d = body.charCodeAt(body.length - 1 - i) - 48;
    sum += i % 2 === 0 ? d * 3 : d;
  }
  return (10 - (sum % 10)) % 10 === gtin.charCodeAt(gtin.length - 1) - 48;
}

/** A GTIN-13 from its 12-digit body, with the check digit that makes gtinCheckDigitOk accept it. */
export function gtin13(body12: string): string {
  if (!/^\d{12}$/.test(body12)) throw new RangeError(`GTIN body must be 12 digits, got ${body12}`);
  for (let d = 0; d <= 9; d++) if (gtinCheckDigitOk(`${body12}${d}`)) return `${body12}${d}`;
  throw new Error(`no check digit for ${body12}`);
}

/** Left-padded to 14 digits, the form GS1 Digital Link uses. */
export function toGtin14(gtin: string): string {
  return gtin.padStart(14, '0');
}

/** GS1 Digital Link URI on GS1's resolver: https://id.gs1.org/01/{gtin14}. */
export function digitalLinkUri(gtin: string): string {
  return `https://id.gs1.org/01/${toGtin14(gtin)}`;
}

export interface RetailBarcode {
  symbology: 'ean13' | 'ean8';
  digits: string;
}

/**
 * EAN-8 for a GTIN-8, EAN-13 for a GTIN-12/13 (and a GTIN-14 with indicator 0). A GTIN-14 with another indicator
 * marks a trade unit that is not sold at the till: no retail barcode. Undefined also for a wrong check digit.
 */
export function retailBarcodeFor(gtin: string): RetailBarcode | undefined {
  if (!gtinCheckDigitOk(gtin)) return undefined;
  if (gtin.length === 8) return { symbology: 'ean8', digits: gtin };
  const g14 = toGtin14(gtin);
  if (g14.startsWith('000000') && gtin.length < 12) return { symbology: 'ean8', digits: g14.slice(6) };
  if (g14[0] !== '0') return undefined;
  return { symbology: 'ean13', digits: g14.slice(1) };
}
