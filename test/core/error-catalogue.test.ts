/**
 * The error catalogue and its documentation agree (issue 15): every code of contracts/src/errors.ts has a row in
 * docs/error-codes.md, and every code a row there names exists in the catalogue. A row names its codes in back
 * quotes in its first two cells (the HTTP tables have the status first); fastify's own `FST_…` codes are
 * documented where the API answers them but are not ours to catalogue.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOGUE, ERROR_CODES, EslError, errorLayer, isCodedError, isEslError } from '#contracts';

const DOC = join(import.meta.dirname, '..', '..', 'docs', 'error-codes.md');

function documentedCodes(markdown: string): Set<string> {
  const codes = new Set<string>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const cells = line.split('|').slice(1, 3);
    for (const cell of cells) for (const m of cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) if (!m[1]!.startsWith('FST_')) codes.add(m[1]!);
  }
  return codes;
}

describe('error catalogue', () => {
  const documented = documentedCodes(readFileSync(DOC, 'utf8'));

  it('documents every catalogued code in docs/error-codes.md', () => {
    expect(ERROR_CODES.filter((c) => !documented.has(c))).toEqual([]);
  });

  it('catalogues every code docs/error-codes.md documents', () => {
    expect([...documented].filter((c) => !(ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('gives each code one layer, and the one class carries it', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    expect(errorLayer('AP_OFFLINE')).toBe('ap');
    expect(errorLayer('CSV_GTIN')).toBe('hq');
    expect(Object.keys(ERROR_CATALOGUE)).toContain('simulator');
    const e = new EslError('DB_ERROR', 'disk full', { table: 'labels' });
    expect([e.name, e.code, e.details, isEslError(e, 'DB_ERROR'), isEslError(e, 'AP_NACK'), isCodedError(e)]).toEqual(['EslError', 'DB_ERROR', { table: 'labels' }, true, false, true]);
    expect(isCodedError(Object.assign(new Error('x'), { code: 'NOT_A_CODE' }))).toBe(false);
  });
});
