/**
 * D95: with `begin: 'with-first-write'` (the intake's ticks) a transaction's `BEGIN IMMEDIATE` travels with its first
 * write, and a transaction that only reads sends none.
 * It must still mean what a transaction meant: reads and writes isolated from every other transaction of the queue,
 * all or nothing, the connection left outside any transaction afterwards.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { tempDir } from '../support/temp-dir.js';

const LAZY = { begin: 'with-first-write' } as const;

describe('Database: BEGIN with the first write (D95)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;

  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
    await db.run('CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL)');
    await db.run("INSERT INTO t (k, n) VALUES ('c', 0)");
  });
  afterEach(async () => {
    await db.close();
    tmp.remove();
  });

  it('read-then-write transactions stay serial: 40 concurrent increments of one counter make 40', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        db.transaction(
          async (tx) => {
            const { n } = (await tx.get<{ n: number }>("SELECT n FROM t WHERE k = 'c'"))!;
            // Give every other transaction the chance to interleave between this read and its write.
            await new Promise((r) => setImmediate(r));
            if (i % 2 === 0) tx.runLater("UPDATE t SET n = ? WHERE k = 'c'", [n + 1]);
            else await tx.run("UPDATE t SET n = ? WHERE k = 'c'", [n + 1]);
          },
          { lane: i % 3 === 0 ? 'urgent' : 'normal', ...(i % 4 === 0 ? {} : LAZY) },
        ),
      ),
    );
    expect((await db.get<{ n: number }>("SELECT n FROM t WHERE k = 'c'"))!.n).toBe(40);
  });

  it('a read-only transaction leaves no transaction open; the next one commits', async () => {
    const seen = await db.transaction((tx) => tx.all<{ k: string }>('SELECT k FROM t'), LAZY);
    expect(seen).toEqual([{ k: 'c' }]);
    await db.transaction(async (tx) => {
      await tx.run("INSERT INTO t (k, n) VALUES ('d', 1)");
    }, LAZY);
    expect(await db.all('SELECT k, n FROM t ORDER BY k')).toEqual([
      { k: 'c', n: 0 },
      { k: 'd', n: 1 },
    ]);
  });

  it('is all or nothing: a failure after the first write, or in the writes sent with the COMMIT, leaves nothing', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.get('SELECT n FROM t');
        await tx.run("INSERT INTO t (k, n) VALUES ('x', 1)");
        throw new Error('boom');
      }, LAZY),
    ).rejects.toThrow('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.get('SELECT n FROM t');
        tx.runLater("INSERT INTO t (k, n) VALUES ('y', 1)");
        // NOT NULL: fails in the exec that carries BEGIN, the held writes and the COMMIT.
        tx.runLater("INSERT INTO t (k, n) VALUES ('z', NULL)");
      }, LAZY),
    ).rejects.toThrow(/NOT NULL/);
    // A failure before any write: nothing was begun, nothing to undo, and the queue goes on.
    await expect(
      db.transaction(async (tx) => {
        await tx.get('SELECT n FROM t');
        throw new Error('before any write');
      }, LAZY),
    ).rejects.toThrow('before any write');
    await db.transaction(async (tx) => {
      tx.runLater("INSERT INTO t (k, n) VALUES ('ok', 2)");
    }, LAZY);
    expect(await db.all('SELECT k FROM t ORDER BY k')).toEqual([{ k: 'c' }, { k: 'ok' }]);
  });

  it('a deferred BEGIN still waits for another connection holding the write lock before it commits', async () => {
    const other = await Database.open(join(tmp.dir, 'store.db'));
    try {
      let release: (() => void) | undefined;
      // The default BEGIN IMMEDIATE: the body runs holding the lock.
      const held = other.transaction(() => new Promise<void>((r) => (release = r)));
      while (release === undefined) await new Promise((r) => setTimeout(r, 5));
      let committed = false;
      const tick = db
        .transaction(async (tx) => {
          await tx.get('SELECT n FROM t');
          tx.runLater("INSERT INTO t (k, n) VALUES ('late', 1)");
        }, LAZY)
        .then(() => (committed = true));
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
      expect(committed).toBe(false);
      release();
      await held;
      await tick;
      expect(await other.get('SELECT n FROM t WHERE k = ?', ['late'])).toEqual({ n: 1 });
    } finally {
      await other.close();
    }
  });
});
