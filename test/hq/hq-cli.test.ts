/**
 * The `esl-edge hq` commands as library calls with captured output: what a pricing team reads, and the exit codes.
 * Nothing here reaches a broker (dry runs and refusals); the pushes themselves are in hq-push*.test.ts.
 */
import { readFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runHqPush, runHqValidate, type CliIo } from '../../hq/src/hq-cli.js';
import { tempDir } from '../support/temp-dir.js';
import { germanPriceList } from './price-list-fixture.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function io(env: Record<string, string> = {}): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env, readFile: (p) => readFile(p), now: () => 1_795_302_000_000 };
}

describe('esl-edge hq validate / push (no broker)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir();
  });
  afterAll(() => tmp.remove());

  it('validate: a good price list is described, a bad one lists every row and exits 1', async () => {
    const good = io();
    expect(await runHqValidate(join(FIXTURES, 'preisliste-de.csv'), {}, good)).toBe(EXIT.OK);
    expect(good.out).toEqual([
      'preisliste-de.csv: valid prices list — 6 rows, 6 prices',
      '  columns separated by ";"; ignored columns: Artikelbezeichnung',
      '  rows for single stores: store-2',
    ]);
    const bad = io();
    expect(await runHqValidate(join(FIXTURES, 'preisliste-fehler.csv'), {}, bad)).toBe(EXIT.INVALID_FILE);
    expect(bad.err).toHaveLength(11);
    expect(bad.err[0]).toBe('row 3, EAN: "4012345000017": GTIN check digit is wrong [CSV_GTIN]');
    expect(bad.err.at(-1)).toBe('preisliste-fehler.csv: 10 errors; nothing was sent.');
  });

  it('validate: promotions are recognised from the header and counted per promotion and GTIN', async () => {
    const out = io();
    expect(await runHqValidate(join(FIXTURES, 'aktionen-de.csv'), {}, out)).toBe(EXIT.OK);
    expect(out.out[0]).toBe('aktionen-de.csv: valid promotions list — 5 rows, 2 promotions over 5 GTINs');
  });

  it('push --dry-run shows what each store would get and needs no broker or password', async () => {
    const file = join(tmp.dir, 'preisliste.csv');
    writeFileSync(file, germanPriceList(5_000).text);
    const out = io();
    const code = await runHqPush(file, { chain: 'acme', store: ['store-0042', 'store-0043'], dryRun: true }, out);
    expect(out.err).toEqual([]);
    expect(code).toBe(EXIT.OK);
    expect(out.out[0]).toBe('Dry run (nothing is sent): preisliste.csv — 5000 rows, 5000 prices → 2 stores of chain acme');
    expect(out.out[1]).toMatch(/^store-0042: would send 5000 events in 4 batches \(\d+\.\d kB\) → esl\/acme\/store-0042\/in\/batch$/);
    expect(out.out[2]).toMatch(/^store-0043: would send 5000 events in 4 batches/);
    expect(out.out[3]).toMatch(/^Total: 10000 events in 8 batches; push id hq-[0-9a-f]{16}, version 1795302000000\.$/);
    // --batch-size changes the cut.
    const small = io();
    await runHqPush(file, { chain: 'acme', store: ['store-0042'], dryRun: true, batchSize: '500' }, small);
    expect(small.out[1]).toMatch(/5000 events in 10 batches/);
  });

  it('push --dry-run: store rows go only to their store; rows for stores not pushed to are named', async () => {
    const out = io();
    await runHqPush(join(FIXTURES, 'aktionen-de.csv'), { chain: 'acme', store: ['store-1', 'store-7'], dryRun: true }, out);
    expect(out.out[1]).toMatch(/^store-1: would send 2 events in 1 batch/);
    expect(out.out[2]).toMatch(/^store-7: would send 2 events in 1 batch/);
    const other = io();
    await runHqPush(join(FIXTURES, 'preisliste-de.csv'), { chain: 'acme', store: ['store-1'], dryRun: true }, other);
    expect(other.err).toEqual(['note: rows for stores not in this push are left out: store-2']);
    expect(other.out[1]).toMatch(/^store-1: would send 5 events/);
  });

  it('push refuses a bad file with exit 1 before it needs the broker', async () => {
    const out = io({ ESL_HQ_PASSWORD: 'secret-password' });
    const code = await runHqPush(join(FIXTURES, 'aktionen-fehler.csv'), { broker: 'mqtt://127.0.0.1:1', username: 'hq', chain: 'acme', store: ['s1'] }, out);
    expect(code).toBe(EXIT.INVALID_FILE);
    expect(out.err.at(-1)).toBe('aktionen-fehler.csv: 7 errors; nothing was sent.');
    expect(out.out).toEqual([]);
  });

  it('push: usage problems exit 2 with the way out', async () => {
    const file = join(FIXTURES, 'preisliste-de.csv');
    const cases: [Parameters<typeof runHqPush>[1], Record<string, string>, RegExp][] = [
      [{ chain: 'acme', store: ['s1'], broker: 'mqtt://x', username: 'hq' }, {}, /no password: set ESL_HQ_PASSWORD/],
      [{ chain: 'acme', store: ['s1'], username: 'hq' }, { ESL_HQ_PASSWORD: 'p' }, /--broker is required/],
      [{ chain: 'acme', dryRun: true }, {}, /exactly one of --store, --stores-file or --all-stores/],
      [{ chain: 'acme', store: ['s1'], allStores: true, dryRun: true }, {}, /given: --store, --all-stores/],
      [{ chain: 'acme', store: ['s1/x'], dryRun: true }, {}, /--store: "s1\/x" is not a store id/],
      [{ store: ['s1'], dryRun: true }, {}, /--chain is required/],
      [{ chain: 'acme', store: ['s1'], dryRun: true, kind: 'preise' }, {}, /--kind must be "prices" or "promotions"/],
      [{ chain: 'acme', store: ['s1'], dryRun: true, timeout: 'lange' }, {}, /--timeout must be a number of seconds/],
      [{ chain: 'acme', store: ['s1'], dryRun: true, pushId: 'kw 14' }, {}, /HQ_BAD_OPTION: push id "kw 14"/],
      [{ chain: 'acme', allStores: true, dryRun: true }, { ESL_HQ_STORES_FILE: join(tmp.dir, 'missing.txt') }, /cannot read .*missing\.txt/],
    ];
    for (const [opts, env, message] of cases) {
      const out = io(env);
      expect(await runHqPush(file, opts, out), JSON.stringify(opts)).toBe(EXIT.USAGE);
      expect(out.err.join('\n')).toMatch(message);
    }
  });

  it('push --all-stores reads the chain list and reports its bad lines', async () => {
    const list = join(tmp.dir, 'stores.txt');
    writeFileSync(list, '# Region Süd\nstore-0042  München\nstore-0043  Augsburg\n');
    const out = io({ ESL_HQ_STORES_FILE: list });
    expect(await runHqPush(join(FIXTURES, 'preisliste-de.csv'), { chain: 'acme', allStores: true, dryRun: true }, out)).toBe(EXIT.OK);
    expect(out.out.filter((l) => l.startsWith('store-004'))).toHaveLength(2);
    writeFileSync(list, 'store-0042\nFiliale/43\n');
    const bad = io();
    expect(await runHqPush(join(FIXTURES, 'preisliste-de.csv'), { chain: 'acme', storesFile: list, dryRun: true }, bad)).toBe(EXIT.USAGE);
    expect(bad.err[0]).toBe(`${list}: line 2: "Filiale/43" is not a store id (letters, digits, "_" or "-", at most 32)`);
  });

  it('push: no broker at the address exits 2 and says so', async () => {
    const out = io({ ESL_HQ_PASSWORD: 'secret-password' });
    const code = await runHqPush(join(FIXTURES, 'preisliste-de.csv'), { broker: 'mqtt://127.0.0.1:1', username: 'hq', chain: 'acme', store: ['s1'] }, out);
    expect(code).toBe(EXIT.USAGE);
    expect(out.err.at(-1)).toMatch(/^esl-edge hq: HQ_CONNECT_FAILED: cannot connect to mqtt:\/\/127\.0\.0\.1:1/);
  });
});
