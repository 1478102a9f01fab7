/**
 * D82: `tx.runLater` holds a write for the transaction's next statement or its COMMIT (one trip to sqlite's thread
 * pool for a tick's writes). It must mean exactly what `await tx.run` means: in order before any later read, the
 * values stored as bound parameters would store them, and all or nothing with the transaction.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database, inlineParams } from '../../src/persistence/database.js';
import { tempDir } from '../support/temp-dir.js';

describe('Database: writes held for the next statement or the COMMIT (D82)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
    await db.run('CREATE TABLE t (k TEXT PRIMARY KEY, v, n INTEGER)');
  });
  afterEach(async () => {
    await db.close();
    tmp.remove();
  });

  const tricky = ["it's", 'a ? mark', '"quoted"', '--not a comment', 'Grüße 🍫', "'); DROP TABLE t; --", ''];

  it('stores the same values as bound parameters, and a later read in the transaction sees them', async () => {
    const seen = await db.transaction(async (tx) => {
      tricky.forEach((s, i) => tx.runLater('INSERT INTO t (k, v, n) VALUES (?, ?, ?)', [`k${i}`, s, i === 0 ? null : 2 ** 40 + i]));
      // JSON through json_each, as the intake's ticks write it.
      tx.runLater("INSERT INTO t (k, v) SELECT value->>0, value->>1 FROM json_each(?) WHERE '?' = '?'", [JSON.stringify([['j1', "Kellogg's"], ['j2', 'x?y']])]);
      return tx.all<{ k: string; v: string | null; n: number | null }>('SELECT k, v, n FROM t ORDER BY k');
    });
    const expected = [...tricky.map((s, i) => ({ k: `k${i}`, v: s, n: i === 0 ? null : 2 ** 40 + i })), { k: 'j1', v: "Kellogg's", n: null }, { k: 'j2', v: 'x?y', n: null }];
    expect(seen).toEqual(expected.sort((a, b) => (a.k < b.k ? -1 : 1)));
    expect(await db.all('SELECT k, v, n FROM t ORDER BY k')).toEqual(seen);
    expect((await db.get<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'"))!.n).toBe(1);
  });

  it('writes held until the COMMIT are committed with it; a failing one rolls back the whole transaction', async () => {
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 1]);
      tx.runLater('INSERT INTO t (k, v) VALUES (?, ?)', ['b', '2']);
    });
    expect((await db.all<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k)).toEqual(['a', 'b']);
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', ['c', 3]);
        tx.runLater('INSERT INTO t (k, v) VALUES (?, ?)', ['d', '4']);
        tx.runLater('INSERT INTO t (k, v) VALUES (?, ?)', ['a', 'duplicate key']);
      }),
    ).rejects.toThrow(/UNIQUE/);
    expect((await db.all<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k)).toEqual(['a', 'b']);
    // The connection is usable and not left inside the failed transaction.
    await db.transaction(async (tx) => tx.runLater('INSERT INTO t (k) VALUES (?)', ['e']));
    expect((await db.all<{ k: string }>('SELECT k FROM t ORDER BY k')).map((r) => r.k)).toEqual(['a', 'b', 'e']);
  });

  it('refuses what a literal could not carry unchanged, and a placeholder count that does not match', () => {
    expect(() => inlineParams('SELECT ?', ['a\u0000b'])).toThrow(/U\+0000/);
    expect(() => inlineParams('SELECT ?', [0.5])).toThrow(/safe integer/);
    expect(() => inlineParams('SELECT ?', [2 ** 53])).toThrow(/safe integer/);
    expect(() => inlineParams('SELECT ?, ?', ['a'])).toThrow(/too few/);
    expect(() => inlineParams('SELECT ?', ['a', 'b'])).toThrow(/2 parameters for 1/);
    expect(inlineParams("SELECT '?', ?, \"?\"", ["o'k"])).toBe("SELECT '?', 'o''k', \"?\"");
  });
});
