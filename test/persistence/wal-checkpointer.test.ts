/**
 * WAL checkpoints off the commit path (docs/decisions.md D44), on a real sqlite file: the owning connection never
 * checkpoints inside a COMMIT, a second connection copies committed pages into the database file in the
 * background, the WAL stays bounded while transactions keep coming, and everything committed is there after a
 * reopen. (No timing is asserted: how much shorter ticks get is measured in bench/intake.) The bound holds whatever
 * the passes' speed (D106): the owner checks it after each of its commits, so it is asserted after every commit.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { tempDir } from '../support/temp-dir.js';

const ROWS_PER_TX = 300;
const row = (t: number, i: number) => [`wal-${t}-${i}`, 'x'.repeat(900)];

async function writeTx(db: Database, t: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run(`INSERT INTO dead_letters (received_at, channel, code, reason) SELECT 1, 'test', value->>0, value->>1 FROM json_each(?)`, [
      JSON.stringify(Array.from({ length: ROWS_PER_TX }, (_, i) => row(t, i))),
    ]);
  });
}

describe('WAL checkpointer', () => {
  let tmp: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    tmp = tempDir();
    file = join(tmp.dir, 'store.db');
  });
  afterEach(() => tmp.remove());

  it('turns sqlite\'s in-commit checkpoint off and copies commits into the database file in the background', async () => {
    const db = await Database.open(file, { checkpoints: 'background' });
    expect(await db.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')).toEqual({ wal_autocheckpoint: 0 });
    await db.checkpointsIdle();
    const before = statSync(file).size;
    for (let t = 0; t < 20; t++) await writeTx(db, t);
    await db.checkpointsIdle();
    // Only a checkpoint writes the main file; nothing else did here (a pass runs every 16 commits).
    expect(statSync(file).size).toBeGreaterThan(before + 16 * ROWS_PER_TX * 900);
    expect(db.checkpointStats!.passes).toBeGreaterThan(0);
    await db.close();

    // The default (D44: opt-in for now) is sqlite's own checkpoint inside the commit.
    const inCommit = await Database.open(join(tmp.dir, 'other.db'));
    expect(await inCommit.get<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')).toEqual({ wal_autocheckpoint: 1000 });
    expect(inCommit.checkpointStats).toBeNull();
    await inCommit.close();
  });

  it('keeps the WAL bounded while commits keep coming, and loses nothing', async () => {
    const catchUpFrames = 200;
    const db = await Database.open(file, { checkpoints: 'background', walCatchUpFrames: catchUpFrames, walCommitsPerPass: 1 });
    const txs = 60;
    // The WAL's length in frames after each commit: the file is truncated to the bound at each restart (D106).
    const frames = () => (statSync(`${file}-wal`).size - 32) / (4096 + 24);
    let most = 0;
    for (let t = 0; t < txs; t++) {
      await writeTx(db, t);
      most = Math.max(most, frames());
    }
    await db.checkpointsIdle();
    // Never more than the bound plus the transaction that crossed it (one is 78–137 frames here: ~66 leaf pages of
    // rows, their index and interior pages), however slowly the background passes ran beside the commits. With the
    // catch-up asked for by a pass's report, the commits made while one slow pass ran took the WAL to 400–2,000
    // frames on a loaded machine.
    expect(most).toBeGreaterThan(catchUpFrames);
    expect(most).toBeLessThanOrEqual(catchUpFrames + 150);
    expect(db.checkpointStats!.catchUps).toBeGreaterThan(0);
    // ~75 pages per transaction, ~4,500 in all: without restarts the WAL would hold every one of them.
    const walPages = statSync(`${file}-wal`).size / 4096;
    expect(walPages).toBeLessThan((txs * ROWS_PER_TX * 900) / 4096 / 3);
    await db.close();
    expect(existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0).toBe(0);

    const again = await Database.open(file);
    expect(await again.get<{ n: number }>('SELECT count(*) AS n FROM dead_letters')).toEqual({ n: txs * ROWS_PER_TX });
    expect(await again.get<{ integrity_check: string }>('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
    await again.close();
  });

  it('bounds the WAL by a share of a small storage cap, not by the default 16 MiB (D131)', async () => {
    // At the smallest cap (storage.maxDbBytes 16 MiB) a 16 MiB WAL would double the disk the store may take: the
    // bound is a 32nd of the cap, 128 frames of 4 KiB.
    const db = await Database.open(file, { checkpoints: 'background', maxBytes: 16 * 1024 * 1024, walCommitsPerPass: 1 });
    const frames = () => (statSync(`${file}-wal`).size - 32) / (4096 + 24);
    let most = 0;
    for (let t = 0; t < 30; t++) {
      await writeTx(db, t);
      most = Math.max(most, frames());
    }
    await db.checkpointsIdle();
    expect(db.checkpointStats!.catchUps).toBeGreaterThan(0);
    // The bound plus the transaction that crossed it (78–137 frames here, see above); the default bound is 4,096.
    expect(most).toBeLessThanOrEqual(128 + 150);
    await db.close();
  });
});
