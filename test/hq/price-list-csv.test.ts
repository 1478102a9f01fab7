import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseHqCsv, parsePriceListCsv, parsePromotionCsv, normalizeHeader, PRICE_COLUMNS, PROMOTION_COLUMNS } from '../../hq/src/price-list-csv.js';
import { parseDateTime, parseEuroCents, parsePercent } from '../../hq/src/csv-values.js';
import { formatInstantInZone, wallTimeToInstant, zoneOffsetMinutes } from '../../hq/src/local-time.js';
import { recordsForStore, type HqRecord } from '../../hq/src/hq-records.js';
import { PriceDataSchema, PromotionDataSchema } from '#contracts';
import { germanEuros, germanPriceList } from './price-list-fixture.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name));
const BERLIN = { timeZone: 'Europe/Berlin' };

function okList(result: ReturnType<typeof parseHqCsv>) {
  if (!result.ok) throw new Error(`expected a valid list, got ${JSON.stringify(result.errors, null, 2)}`);
  return result.list;
}
const where = (result: ReturnType<typeof parseHqCsv>) => (result.ok ? [] : result.errors.map((e) => `${e.row} ${e.column} ${e.code}`));

const EXPECTED_PRICES = [
  { gtin: '4006381333931', priceCents: 149, currency: 'EUR' },
  { gtin: '4012345000016', priceCents: 129, currency: 'EUR', validFrom: '2026-03-29T00:00:00+01:00' },
  // The day after the clocks go forward: midnight is +02:00.
  { gtin: '4000417025005', priceCents: 149, currency: 'EUR', validFrom: '2026-03-30T00:00:00+02:00' },
  { gtin: '4008400401621', priceCents: 129_900, currency: 'EUR', validFrom: '2026-04-01T00:00:00+02:00' },
  { gtin: '4012345000016', priceCents: 119, currency: 'EUR', validFrom: '2026-03-29T00:00:00+01:00' },
  // 03:00 on the night the clocks go back is after the change: +01:00.
  { gtin: '5000112637922', priceCents: 594, currency: 'EUR', validFrom: '2026-10-25T03:00:00+01:00' },
];

describe('price list CSV', () => {
  it('reads a German Excel export: BOM, ";", CRLF, decimal commas, thousands dots, dd.mm.yyyy, store rows, trailing ";;;;" rows', () => {
    const list = okList(parsePriceListCsv(fixture('preisliste-de.csv'), BERLIN));
    expect(list.delimiter).toBe(';');
    expect(list.dataRows).toBe(6);
    expect(list.ignoredColumns).toEqual(['Artikelbezeichnung']);
    expect(list.stores).toEqual(['store-2']);
    expect(list.records.map((r) => r.data)).toEqual(EXPECTED_PRICES);
    expect(list.records.map((r) => r.rows[0])).toEqual([2, 3, 4, 5, 6, 7]);
    expect(list.records.map((r) => r.store)).toEqual([undefined, undefined, undefined, undefined, 'store-2', undefined]);
    for (const r of list.records) expect(PriceDataSchema.safeParse(r.data).success).toBe(true);
  });

  it('reads the same list exported in English form (",", decimal points, quoted values spanning lines) to the same prices', () => {
    const list = okList(parseHqCsv(fixture('pricelist-en.csv')));
    expect(list.kind).toBe('prices');
    expect(list.delimiter).toBe(',');
    expect(list.records.map((r) => r.data)).toEqual(EXPECTED_PRICES);
    // The quoted name on lines 4–5 moves the following rows down: rows are file lines.
    expect(list.records.map((r) => r.rows[0])).toEqual([2, 3, 4, 6, 7, 8]);
  });

  it('gives the same records with and without BOM, and from a string or bytes', () => {
    const bytes = fixture('preisliste-de.csv');
    const withoutBom = bytes.subarray(3);
    expect(bytes.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const a = okList(parsePriceListCsv(bytes));
    expect(okList(parsePriceListCsv(withoutBom)).records).toEqual(a.records);
    expect(okList(parsePriceListCsv(bytes.toString('utf8'))).records).toEqual(a.records);
  });

  it('reports every mistake in a file with its line and column, and gives no records', () => {
    const result = parsePriceListCsv(fixture('preisliste-fehler.csv'));
    expect(result.ok).toBe(false);
    expect(where(result)).toEqual([
      '3 EAN CSV_GTIN', // check digit
      '4 EAN CSV_GTIN', // 4,00042E+12
      '5 EAN CSV_GTIN', // 11 digits: lost leading zero
      '6 Preis CSV_AMOUNT', // 1.299 ambiguous; the quoted name spans lines 6–7
      '8 Preis CSV_AMOUNT', // #WERT!
      '9 EAN CSV_DUPLICATE_ROW',
      '10 Gültig ab CSV_DATE', // 31.02.
      '11 Gültig ab CSV_DATE', // 02:30 on the night clocks go forward
      '12 Preis CSV_AMOUNT', // 0,00
      '13 Preis CSV_REQUIRED',
    ]);
    const messages = result.ok ? [] : result.errors.map((e) => e.message);
    expect(messages[1]).toMatch(/scientific notation/);
    expect(messages[2]).toMatch(/leading zeros/);
    expect(messages[3]).toMatch(/ambiguous.*1\.299,00/);
    expect(messages[5]).toMatch(/already on row 2/);
    expect(messages[7]).toMatch(/does not exist in Europe\/Berlin/);
  });

  it('refuses Windows-1252 and UTF-16 with the way out, at the line of the first bad byte', () => {
    const cp1252 = parsePriceListCsv(fixture('preisliste-cp1252.csv'));
    expect(where(cp1252)).toEqual(['1 (file) CSV_ENCODING']);
    expect(cp1252.ok ? '' : cp1252.errors[0]!.message).toMatch(/CSV UTF-8/);
    const later = Buffer.concat([Buffer.from('EAN;Preis\n4006381333931;1,49\n4012345000016;1,29 '), Buffer.from([0x80]), Buffer.from('\n')]);
    expect(where(parsePriceListCsv(later))).toEqual(['3 (file) CSV_ENCODING']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('EAN;Preis\r\n', 'utf16le')]);
    expect(where(parsePriceListCsv(utf16))).toEqual(['1 (file) CSV_ENCODING']);
  });

  it('explains an unquoted decimal comma in a ","-separated file instead of reading shifted values', () => {
    const result = parsePriceListCsv('gtin,price\n4006381333931,1,49\n4012345000016,"1,29"\n');
    expect(where(result)).toEqual(['2 (row) CSV_FIELD_COUNT']);
    expect(result.ok ? '' : result.errors[0]!.message).toMatch(/quote it/);
  });

  it('checks the header: missing and doubled columns are row 1, empty files and header-only files are refused', () => {
    expect(where(parsePriceListCsv('EAN;Artikel\n4006381333931;Milch\n'))).toEqual(['1 price CSV_MISSING_COLUMN']);
    expect(where(parsePriceListCsv('EAN;GTIN;Preis\n4006381333931;4006381333931;1,49\n'))).toEqual(['1 GTIN CSV_DUPLICATE_COLUMN']);
    expect(where(parsePriceListCsv('\r\n\r\n'))).toEqual(['1 (file) CSV_EMPTY']);
    expect(where(parsePriceListCsv('EAN;Preis\r\n;;\r\n'))).toEqual(['1 (file) CSV_EMPTY']);
    expect(where(parsePriceListCsv('EAN Preis\n4006381333931 1,49\n'))).toEqual(['1 (file) CSV_DELIMITER']);
  });

  it('honours Excel\'s "sep=" line and still counts it as line 1', () => {
    const result = parsePriceListCsv('sep=,\r\nEAN,Preis\r\n4006381333931,"1,49"\r\n4012345000017,"1,29"\r\n');
    expect(where(result)).toEqual(['4 EAN CSV_GTIN']);
    expect(okList(parsePriceListCsv('sep=;\nEAN;Preis\n4006381333931;1,49\n')).records[0]!.rows).toEqual([3]);
  });

  it('finds exactly the two bad rows of a 500-row list', () => {
    const list = germanPriceList(500, { badCheckDigitLine: 137, badPriceLine: 402 });
    const result = parsePriceListCsv(list.text);
    expect(where(result)).toEqual(['137 EAN CSV_GTIN', '402 Preis CSV_AMOUNT']);
    const valid = okList(parsePriceListCsv(germanPriceList(500).text));
    expect(valid.records).toHaveLength(500);
    expect(new Map(valid.records.flatMap((r) => (r.type === 'price' ? [[r.data.gtin, r.data.priceCents] as const] : [])))).toEqual(germanPriceList(500).prices);
  });

  it('gives each store its own rows: a store row replaces the chain-wide row for the same GTIN and date', () => {
    const list = okList(parsePriceListCsv(fixture('preisliste-de.csv')));
    const yogurt = (records: HqRecord[]) => records.flatMap((r) => (r.type === 'price' && r.data.gtin === '4012345000016' ? [r.data.priceCents] : []));
    expect(yogurt(recordsForStore(list.records, 'store-1'))).toEqual([129]);
    expect(yogurt(recordsForStore(list.records, 'store-2'))).toEqual([119]);
    expect(recordsForStore(list.records, 'store-2')).toHaveLength(5);
  });

  it('documents every column alias in docs/hq-push.md', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'hq-push.md'), 'utf8');
    for (const spec of [...PRICE_COLUMNS, ...PROMOTION_COLUMNS]) for (const alias of spec.aliases) expect(docs, alias).toContain(`\`${alias}\``);
  });
});

describe('promotion CSV', () => {
  it('groups rows into promotions; later rows may leave promotion columns empty; a date-only end includes that day', () => {
    const list = okList(parseHqCsv(fixture('aktionen-de.csv')));
    expect(list.kind).toBe('promotions');
    expect(list.records).toEqual([
      {
        type: 'promotion',
        rows: [2, 3],
        data: {
          promotionId: 'BF-2026',
          name: 'Black Friday',
          gtins: ['4006381333931', '4012345000016'],
          promoPriceCents: 99,
          start: '2026-11-27T00:00:00+01:00',
          end: '2026-12-01T00:00:00+01:00',
          badge: 'Black Friday',
        },
      },
      {
        type: 'promotion',
        rows: [4],
        store: 'store-7',
        data: {
          promotionId: 'BF-2026',
          name: 'Black Friday',
          gtins: ['4000417025005'],
          promoPriceCents: 99,
          start: '2026-11-27T00:00:00+01:00',
          end: '2026-12-01T00:00:00+01:00',
          badge: 'Black Friday',
        },
      },
      {
        type: 'promotion',
        rows: [5, 6],
        data: { promotionId: 'XMAS-26', name: 'Weihnachten', gtins: ['5000112637922', '4008400401621'], percentOff: 20, start: '2026-12-01T00:00:00+01:00', end: '2026-12-24T14:00:00+01:00', badge: '-20 %' },
      },
    ]);
    for (const r of list.records) expect(PromotionDataSchema.safeParse(r.data).success).toBe(true);
    // store-7 gets Black Friday with the extra GTIN, the others without it.
    const bf = (store: string) => recordsForStore(list.records, store).find((r) => r.type === 'promotion' && r.data.promotionId === 'BF-2026');
    expect(bf('store-7')?.data).toMatchObject({ gtins: ['4006381333931', '4012345000016', '4000417025005'] });
    expect(bf('store-7')?.rows).toEqual([2, 3, 4]);
    expect(bf('store-1')?.data).toMatchObject({ gtins: ['4006381333931', '4012345000016'] });
  });

  it('reports conflicting, doubled, incomplete and out-of-contract promotion rows', () => {
    const result = parsePromotionCsv(fixture('aktionen-fehler.csv'));
    expect(where(result)).toEqual([
      '3 promo_price CSV_PROMOTION_CONFLICT',
      '4 gtin CSV_DUPLICATE_ROW',
      '5 percent_off CSV_PROMOTION_CONFLICT',
      '6 end CSV_REQUIRED',
      '7 badge CSV_SCHEMA',
      '7 percent_off CSV_PERCENT',
      '8 end CSV_SCHEMA',
    ]);
    expect(result.ok ? '' : result.errors.at(-1)!.message).toMatch(/end must be after start/);
  });

  it('a promotion file read as a price list misses the price column', () => {
    expect(where(parsePriceListCsv(fixture('aktionen-de.csv')))).toEqual(['1 price CSV_MISSING_COLUMN']);
  });
});

describe('cell values', () => {
  it('reads euro amounts strictly', () => {
    const ok: [string, number][] = [
      ['1,99', 199],
      ['1.99', 199],
      ['2', 200],
      ['0,5', 50],
      ['1.299,00', 129_900],
      ['1,299.00', 129_900],
      ['1.000.000', 100_000_000],
      ['1299,00 €', 129_900],
      ['€ 3,49', 349],
      ['3,49\u00a0€', 349],
      ['5,94 EUR', 594],
    ];
    for (const [text, cents] of ok) expect(parseEuroCents(text), text).toEqual({ ok: true, value: cents });
    for (const bad of ['1.299', '1,299', '1,999', '-1,99', '+1,99', '1,2,3', '4,00E+03', '#WERT!', '#N/A', 'abc', '', '1.000.000,01', '12.345.678']) {
      expect(parseEuroCents(bad).ok, bad).toBe(false);
    }
    expect(parseEuroCents('1.000.000,00')).toEqual({ ok: true, value: 100_000_000 });
  });

  it('reads back every amount written the German or the plain way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000_000 }), (cents) => {
        const plain = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
        const de = parseEuroCents(germanEuros(cents));
        const en = parseEuroCents(plain);
        return de.ok && de.value === cents && en.ok && en.value === cents;
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads percents, refusing fractions and out-of-range values', () => {
    expect(parsePercent('20')).toEqual({ ok: true, value: 20 });
    expect(parsePercent('-20 %')).toEqual({ ok: true, value: 20 });
    expect(parsePercent('12,5%')).toEqual({ ok: true, value: 12.5 });
    for (const bad of ['0,2', '100', '150 %', 'zwanzig', '']) expect(parsePercent(bad).ok, bad).toBe(false);
  });

  it('reads dates in Europe/Berlin with the offset in force that day (DST both ways)', () => {
    const start = { timeZone: 'Europe/Berlin', dateOnly: 'start-of-day' } as const;
    const cases: [string, string][] = [
      ['28.03.2026', '2026-03-28T00:00:00+01:00'],
      ['29.03.2026', '2026-03-29T00:00:00+01:00'],
      ['29.03.2026 03:00', '2026-03-29T03:00:00+02:00'],
      ['30.03.2026', '2026-03-30T00:00:00+02:00'],
      ['2026-10-25', '2026-10-25T00:00:00+02:00'],
      ['2026-10-25 01:59', '2026-10-25T01:59:00+02:00'],
      ['2026-10-25T03:00', '2026-10-25T03:00:00+01:00'],
      ['26.10.2026', '2026-10-26T00:00:00+01:00'],
      ['1.7.2026, 6:30 Uhr', '2026-07-01T06:30:00+02:00'],
      ['2026-07-01T04:30:00Z', '2026-07-01T06:30:00+02:00'],
      ['2026-10-25T02:30:00+01:00', '2026-10-25T02:30:00+01:00'],
    ];
    for (const [text, iso] of cases) expect(parseDateTime(text, start), text).toEqual({ ok: true, value: iso });
    expect(parseDateTime('24.12.2026', { timeZone: 'Europe/Berlin', dateOnly: 'end-of-day' })).toEqual({ ok: true, value: '2026-12-25T00:00:00+01:00' });
    expect(parseDateTime('28.03.2026', { timeZone: 'Europe/Berlin', dateOnly: 'end-of-day' })).toEqual({ ok: true, value: '2026-03-29T00:00:00+01:00' });
    expect(parseDateTime('29.03.2026 02:30', start)).toMatchObject({ ok: false, message: expect.stringMatching(/does not exist/) });
    expect(parseDateTime('25.10.2026 02:30', start)).toMatchObject({ ok: false, message: expect.stringMatching(/twice.*\+02:00.*\+01:00/) });
    for (const bad of ['29.03.26', '03/29/2026', '46110', '31.04.2026', '2026-13-01', '29.02.2027', 'morgen', '01.01.1999']) expect(parseDateTime(bad, start).ok, bad).toBe(false);
  });

  it('finds zone offsets from Intl and round-trips instants through the written form', () => {
    expect(zoneOffsetMinutes(Date.parse('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(60);
    expect(zoneOffsetMinutes(Date.parse('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(120);
    expect(zoneOffsetMinutes(Date.parse('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-240);
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2099, 11, 31) / 60_000 }), (minute) => {
        const t = minute * 60_000;
        const written = formatInstantInZone(t, 'Europe/Berlin');
        const [, y, mo, d, h, mi] = written.match(/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/)!.map(Number);
        const back = wallTimeToInstant({ year: y!, month: mo!, day: d!, hour: h!, minute: mi!, second: 0 }, 'Europe/Berlin');
        // Every wall time maps back to its instant, except in the repeated hour, where both candidates are offered.
        return Date.parse(written) === t && (back.ok ? back.utcMs === t : back.reason === 'ambiguous' && back.candidates.includes(t));
      }),
      { numRuns: 3_000 },
    );
  });

  it('normalises header names', () => {
    expect(normalizeHeader('Gültig ab')).toBe('gueltig_ab');
    expect(normalizeHeader(' Preis (EUR) ')).toBe('preis_eur');
    expect(normalizeHeader('EAN/GTIN')).toBe('ean_gtin');
    expect(normalizeHeader('Störer')).toBe('stoerer');
  });
});
