/**
 * `esl-edge backup` / `restore` (issue 10, the operator's kit): an online backup taken while another connection keeps
 * writing is a consistent snapshot that passes integrity_check; restore refuses while the daemon runs and refuses a
 * damaged backup; the CLI reads secrets from stdin, never argv.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, writeSync, closeSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { backupDatabase, checkDatabaseFile, restoreDatabase, writePidFile, DB_FILE_NAME } from '../../src/persistence/backup.js';
import { verifySecret } from '../../src/core/secret-hash.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/core/logger.js';
import { startDaemon } from '../../src/daemon.js';
import { tempDir } from '../support/edge-fixture.js';
import { writeDaemonConfig } from '../support/daemon-process.js';

const ROOT_DIR = join(import.meta.dirname, '..', '..');

/** The CLI from source (tsx); the limit is a safety net for a start-up on a loaded machine (D53). */
function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT_DIR, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

/** Each write keeps an invariant across two tables: meta 'w' = number of 'w-…' events. */
async function write(db: Database, i: number): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.run("INSERT INTO events (id, source, type, version, received_at, status) VALUES (?, 'w', 'price', ?, ?, 'applied')", [`w-${i}`, i, i]);
    await tx.run("INSERT INTO meta (key, value) VALUES ('w', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [String(i)]);
  });
}

async function invariant(file: string): Promise<{ counter: number; rows: number }> {
  const db = await Database.open(file);
  const counter = Number((await db.get<{ value: string }>("SELECT value FROM meta WHERE key = 'w'"))?.value ?? 0);
  const rows = (await db.get<{ n: number }>("SELECT count(*) AS n FROM events WHERE source = 'w'"))!.n;
  await db.close();
  return { counter, rows };
}

describe('backup and restore', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('takes a consistent online backup while another connection keeps writing', async () => {
    const dataDir = join(tmp.dir, 'live');
    const db = await Database.open(join(dataDir, DB_FILE_NAME));
    // Bulk so the copy takes a while: ~4 MB of dead letters.
    await db.transaction(async (tx) => {
      for (let i = 0; i < 2000; i++) await tx.run("INSERT INTO dead_letters (received_at, channel, code, reason, payload) VALUES (?, 'mqtt', 'X', 'bulk', ?)", [i, Buffer.alloc(2048, i % 251)]);
    });
    let written = 0; // committed writes
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        await write(db, written + 1);
        written++;
      }
    })();
    while (written < 200) await new Promise((r) => setTimeout(r, 5));
    const atStart = written;
    const target = join(tmp.dir, 'backup.db');
    const check = await backupDatabase(join(dataDir, DB_FILE_NAME), target);
    const atEnd = written + 1; // a write may have committed before its counter moved
    while (written < atEnd + 50) await new Promise((r) => setTimeout(r, 5));
    stop = true;
    await writer;
    await db.close();

    expect(check).toMatchObject({ ok: true, problems: [] });
    expect(check.schemaVersion).toBeGreaterThan(0);
    const snap = await invariant(target);
    // One snapshot: the counter and the rows agree, taken somewhere while the writer ran.
    expect(snap.rows).toBe(snap.counter);
    expect(snap.counter).toBeGreaterThanOrEqual(atStart);
    expect(snap.counter).toBeLessThanOrEqual(atEnd);
    expect((await invariant(join(dataDir, DB_FILE_NAME))).counter).toBe(written);
  });

  it('restores a backup, keeping the previous database; refuses while the daemon runs', async () => {
    const dataDir = join(tmp.dir, 'live');
    const backup = join(tmp.dir, 'backup.db');
    const snap = await invariant(backup);
    // A live process (our parent, the test runner) holds the pid file: restore must refuse.
    const release = writePidFile(dataDir, process.ppid);
    await expect(restoreDatabase(backup, dataDir)).rejects.toThrow(/is running/);
    release();
    const r = await restoreDatabase(backup, dataDir);
    expect(r.ok).toBe(true);
    expect(r.previous && existsSync(r.previous)).toBe(true);
    expect(await invariant(join(dataDir, DB_FILE_NAME))).toEqual(snap);
  });

  it('refuses a damaged backup and a file that is no esl-edge database', async () => {
    const damaged = join(tmp.dir, 'damaged.db');
    copyFileSync(join(tmp.dir, 'backup.db'), damaged);
    const fd = openSync(damaged, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 4, 0xab), 0, 4096 * 4, 4096 * 3); // overwrite pages in the middle
    closeSync(fd);
    expect((await checkDatabaseFile(damaged)).ok).toBe(false);
    await expect(restoreDatabase(damaged, join(tmp.dir, 'other'))).rejects.toThrow(/not a usable backup/);
    const junk = join(tmp.dir, 'junk.db');
    writeFileSync(junk, 'this is not sqlite');
    await expect(restoreDatabase(junk, join(tmp.dir, 'other'))).rejects.toThrow(/not a usable backup/);
  });

  it('CLI: backup of a running daemon, restore refused while it runs, secret hash from stdin', async () => {
    const dir = join(tmp.dir, 'cli');
    mkdirSync(dir, { recursive: true });
    const { configFile } = await writeDaemonConfig(dir);
    const { config } = loadConfig(configFile, {});
    const daemon = await startDaemon(config, { log: createLogger({ level: 'silent' }), listenHttp: false });
    try {
      await daemon.intake.ingest(JSON.stringify({ id: 'cli-p', source: 't', version: 1, type: 'product', data: { gtin: '4006381333931', name: 'Milch' } }), { channel: 'local' });
      const file = join(dir, 'nightly.db');
      const b = await cli(['backup', file, '-c', configFile]);
      expect(b.stderr).toBe('');
      expect(b.code).toBe(0);
      expect(b.stdout).toMatch(/integrity ok/);
      const r = await cli(['restore', file, '-c', configFile]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/is running/);
    } finally {
      await daemon.stop();
    }
    // Stopped: the pid file is gone and restore goes ahead.
    expect(existsSync(join(config.dataDir, 'esl-edge.pid'))).toBe(false);
    const r = await cli(['restore', join(dir, 'nightly.db'), '-c', configFile]);
    expect(r.code).toBe(0);
    rmSync(join(dir, 'nightly.db'));

    const h = await cli(['secret', 'hash'], 'my-store-secret-0001\n');
    expect(h.code).toBe(0);
    const hash = h.stdout.trim();
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifySecret(hash, 'my-store-secret-0001')).toBe(true);
    expect(h.stdout).not.toContain('my-store-secret-0001');
    // --generate: a random token for the client and its (cheap, D27) hash for the config.
    const g = await cli(['secret', 'hash', '--generate']);
    const [, token, generated] = /^token: (\S+)\nhash: +(\S+)\n$/.exec(g.stdout) ?? [];
    expect(token!.length).toBeGreaterThanOrEqual(40);
    expect(generated).toMatch(/^scrypt\$10\$/);
    expect(await verifySecret(generated!, token!)).toBe(true);
  }, 600_000); // five CLI starts from source, each with a 120 s safety net
});
