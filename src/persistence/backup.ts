/**
 * Online backup and restore of the store database (`esl-edge backup`, `esl-edge restore`).
 *
 * The backup uses sqlite's online backup API (sqlite3_backup_*, through the sqlite3 package) from a connection of its
 * own, copying every page in one step: that step reads one snapshot of the WAL database, so the copy is consistent
 * even while the daemon keeps writing (WAL readers never block the writer, nor are they blocked by it). The copy is
 * written beside the target and renamed into place only after `PRAGMA integrity_check` passed.
 *
 * A restore replaces the database file, which is only safe while no daemon has it open: the daemon writes its pid to
 * `<dataDir>/esl-edge.pid` (see `writePidFile`), and restore refuses while that process is alive.
 */
import sqlite3 from 'sqlite3';
import { chownSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { MIGRATIONS } from './migrations.js';

export const DB_FILE_NAME = 'esl-edge.db';
export const PID_FILE_NAME = 'esl-edge.pid';

interface SqliteBackup {
  step(pages: number, cb: (err: Error | null) => void): void;
  finish(cb?: (err: Error | null) => void): void;
  readonly completed: boolean;
  readonly failed: boolean;
}

function open(file: string, mode: number): Promise<sqlite3.Database> {
  return new Promise((res, rej) => {
    const d = new sqlite3.Database(file, mode, (err) => (err ? rej(err) : res(d)));
  });
}
const close = (d: sqlite3.Database) => new Promise<void>((res) => d.close(() => res()));
const all = <T>(d: sqlite3.Database, sql: string) => new Promise<T[]>((res, rej) => d.all(sql, (err: Error | null, rows: T[]) => (err ? rej(err) : res(rows))));

export interface DbCheck {
  ok: boolean;
  problems: string[];
  schemaVersion: number;
  bytes: number;
}

/** `PRAGMA integrity_check` and the schema version of a database file (read-only). */
export async function checkDatabaseFile(file: string): Promise<DbCheck> {
  if (!existsSync(file)) return { ok: false, problems: [`${file} does not exist`], schemaVersion: 0, bytes: 0 };
  let d: sqlite3.Database;
  try {
    d = await open(file, sqlite3.OPEN_READONLY);
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], schemaVersion: 0, bytes: statSync(file).size };
  }
  try {
    const rows = await all<{ integrity_check: string }>(d, 'PRAGMA integrity_check');
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    let schemaVersion = 0;
    try {
      schemaVersion = (await all<{ v: number | null }>(d, 'SELECT max(version) AS v FROM schema_version'))[0]?.v ?? 0;
    } catch {
      problems.push('not an esl-edge database (no schema_version table)');
    }
    if (schemaVersion > MIGRATIONS.length) problems.push(`schema version ${schemaVersion} is newer than this esl-edge knows (${MIGRATIONS.length})`);
    return { ok: problems.length === 0, problems, schemaVersion, bytes: statSync(file).size };
  } catch (err) {
    return { ok: false, problems: [(err as Error).message], schemaVersion: 0, bytes: statSync(file).size };
  } finally {
    await close(d);
  }
}

/**
 * Run as root (an operator with sudo), sqlite may leave a -shm/-wal owned by root beside the database, and a restored
 * file is root's: the service user could then not open its own database. Hand every database file in the directory
 * back to the directory's owner.
 */
function keepOwnership(dir: string): void {
  if (process.getuid?.() !== 0) return;
  const { uid, gid } = statSync(dir);
  for (const suffix of ['', '-wal', '-shm']) {
    const f = join(dir, `${DB_FILE_NAME}${suffix}`);
    if (existsSync(f)) chownSync(f, uid, gid);
  }
}

/** Copies the live database `source` to `target` (consistent snapshot), then checks the copy. */
export async function backupDatabase(source: string, target: string): Promise<DbCheck> {
  if (!existsSync(source)) throw new Error(`no database at ${source}`);
  const tmp = `${resolve(target)}.partial`;
  rmSync(tmp, { force: true });
  // Read-write is needed for a WAL database with no -shm yet; nothing is written to the source.
  const src = await open(source, sqlite3.OPEN_READWRITE);
  try {
    await new Promise<void>((res, rej) => {
      const b = (src as unknown as { backup(file: string, cb: (err: Error | null) => void): SqliteBackup }).backup(tmp, (err) => {
        if (err) return rej(err);
        // -1: all pages in one step, i.e. from one read snapshot of the source.
        b.step(-1, (stepErr) => {
          if (stepErr || !b.completed) {
            b.finish();
            return rej(stepErr ?? new Error('backup did not complete'));
          }
          b.finish((finishErr) => (finishErr ? rej(finishErr) : res()));
        });
      });
    });
  } finally {
    await close(src);
    keepOwnership(dirname(source));
  }
  const check = await checkDatabaseFile(tmp);
  if (!check.ok) {
    rmSync(tmp, { force: true });
    throw new Error(`backup failed its integrity check: ${check.problems.join('; ')}`);
  }
  renameSync(tmp, target);
  return check;
}

/** Records this process as the one that has the data directory's database open. */
export function writePidFile(dataDir: string, pid = process.pid): () => void {
  const file = join(dataDir, PID_FILE_NAME);
  writeFileSync(file, `${pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(pid)) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** The pid of a live daemon using this data directory, if any. */
export function runningDaemonPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, PID_FILE_NAME), 'utf8').trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, but another user's (e.g. systemd's DynamicUser) — still running.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/**
 * Replaces `<dataDir>/esl-edge.db` with a checked copy of `backupFile`. The previous database (with its WAL) is kept
 * as `esl-edge.db.before-restore`. Refuses while a daemon runs on the directory, and refuses a damaged backup.
 */
export async function restoreDatabase(backupFile: string, dataDir: string): Promise<DbCheck & { previous: string | null }> {
  const pid = runningDaemonPid(dataDir);
  if (pid !== null) throw new Error(`the daemon (pid ${pid}) is running on ${dataDir}; stop it first (systemctl stop esl-edge)`);
  const check = await checkDatabaseFile(backupFile);
  if (!check.ok) throw new Error(`${backupFile} is not a usable backup: ${check.problems.join('; ')}`);
  const target = join(dataDir, DB_FILE_NAME);
  const tmp = `${target}.restoring`;
  copyFileSync(backupFile, tmp);
  let previous: string | null = null;
  if (existsSync(target)) {
    previous = `${target}.before-restore`;
    // Keep the old file and its WAL together, so it stays openable if the restore was a mistake.
    for (const suffix of ['', '-wal', '-shm']) {
      rmSync(`${previous}${suffix}`, { force: true });
      if (existsSync(`${target}${suffix}`)) renameSync(`${target}${suffix}`, `${previous}${suffix}`);
    }
  }
  renameSync(tmp, target);
  keepOwnership(dataDir);
  return { ...check, previous: previous ? resolve(dirname(target), previous) : null };
}
