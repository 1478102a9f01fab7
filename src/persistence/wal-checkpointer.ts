/**
 * WAL checkpoints off the commit path (docs/decisions.md D44). sqlite's automatic checkpoint runs inside the COMMIT
 * that crosses `wal_autocheckpoint` (1,000 pages): it copies the pages into the database file and syncs both files
 * while that transaction still holds the one database queue (D3). Under intake every event dirties a few pages of
 * five B-trees, so at 5,000 events/s that happened several times a second, and the tick that drew it — and every
 * event waiting behind it — took 4–10 × longer than the others.
 *
 * Here the owning connection runs with `wal_autocheckpoint = 0`, and a second connection to the same file runs
 * PASSIVE checkpoints on sqlite3's thread pool after commits, one at a time. A passive checkpoint takes no lock a
 * writer needs (sqlite.org/wal.html §"Checkpointing"), so commits go on while it copies. It changes nothing about
 * durability: a commit is durable when its frames are in the WAL (synchronous unchanged); the checkpoint only
 * moves committed pages into the main file, and a crash during one is recovered from the WAL as before.
 *
 * Under a flood the WAL can only restart once a checkpoint caught up with every frame, which a background pass
 * never does while commits keep coming. So once the WAL holds more than `catchUpFrames` frames, the owner runs one
 * checkpoint inside its queue right after the commit that crossed the bound (`afterCommit`): it first waits for a
 * running pass (which holds the checkpoint lock), then copies only what the passes had not, completes, and lets
 * the next writer restart the WAL. The owner sees the WAL's size itself, after each of its commits, so the bound
 * does not depend on how fast a pass runs (D106: when a pass's own report asked for the catch-up, every commit
 * made while a slow pass ran — a loaded machine, a slow disk — grew the WAL past the bound). The owner's
 * `journal_size_limit` is the bound (`limitBytes`), so after each restart sqlite truncates the WAL file to it
 * (sqlite.org/pragma.html#pragma_journal_size_limit) and the file's size is the WAL's current length whenever it
 * is over the bound: one `stat` per commit, no SQL. The WAL stays within `catchUpFrames` plus one transaction.
 */
import { statSync } from 'node:fs';
import sqlite3 from 'sqlite3';

export interface CheckpointStats {
  /** Background PASSIVE checkpoints run. */
  passes: number;
  /** Checkpoints run inside the owner's queue to bound the WAL. */
  catchUps: number;
  /** Frames in the WAL after the last background pass. */
  lastLogFrames: number;
}

/** The WAL file format (sqlite.org/fileformat2.html §4.1): a 32-byte header, then frames of a 24-byte header and a page. */
const WAL_HEADER_BYTES = 32;
const WAL_FRAME_HEADER_BYTES = 24;

export class WalCheckpointer {
  /** The pass under way, if any. */
  private pass: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** A catch-up runs in the owner: no background pass meanwhile (it would hold the checkpoint lock). */
  private catchingUp = false;
  /** Commits since the last pass was started. */
  private commits = 0;
  readonly stats: CheckpointStats = { passes: 0, catchUps: 0, lastLogFrames: 0 };

  private constructor(
    private readonly db: sqlite3.Database,
    private readonly walFile: string,
    /** The WAL's size at `catchUpFrames` frames: over it, the owner catches up; its journal_size_limit. */
    readonly limitBytes: number,
    private readonly opts: { catchUp: () => Promise<void>; commitsPerPass: number },
  ) {}

  /**
   * Opens the checkpointing connection; null when it cannot be opened (the owner then keeps autocheckpoint).
   * `catchUp` runs a checkpoint on the owner's connection; it is called only from `afterCommit`, inside the owner's
   * queue. The owner sets its journal_size_limit to `limitBytes`.
   */
  static async open(file: string, opts: { catchUpFrames: number; catchUp: () => Promise<void>; commitsPerPass?: number }): Promise<WalCheckpointer | null> {
    const db = await new Promise<sqlite3.Database | null>((resolve) => {
      const d = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (err) => resolve(err ? null : d));
    });
    if (!db) return null;
    const exec = (sql: string) => new Promise<boolean>((resolve) => db.exec(sql, (err) => resolve(!err)));
    // busy_timeout: only for the checkpoint lock while the owner runs a catch-up.
    const ok = (await exec('PRAGMA busy_timeout = 5000')) && (await exec('PRAGMA wal_autocheckpoint = 0'));
    const pageSize = ok ? await new Promise<number | null>((resolve) => db.get('PRAGMA page_size', (err: Error | null, row?: { page_size: number }) => resolve(err || !row ? null : row.page_size))) : null;
    if (pageSize === null) {
      await new Promise<void>((resolve) => db.close(() => resolve()));
      return null;
    }
    const limitBytes = WAL_HEADER_BYTES + opts.catchUpFrames * (WAL_FRAME_HEADER_BYTES + pageSize);
    return new WalCheckpointer(db, `${file}-wal`, limitBytes, { catchUp: opts.catchUp, commitsPerPass: opts.commitsPerPass ?? 16 });
  }

  /**
   * After each commit of the owner, inside its queue job. Below the bound: counts the commit toward the next
   * background pass and returns undefined at once. Over it: the catch-up, which the caller awaits before the next
   * job takes the connection, so the next writer restarts the WAL.
   */
  afterCommit(): Promise<void> | undefined {
    if (!this.closed && this.walBytes() > this.limitBytes) return this.catchUp();
    this.kick();
    return undefined;
  }

  private walBytes(): number {
    try {
      return statSync(this.walFile).size;
    } catch {
      return 0;
    }
  }

  private async catchUp(): Promise<void> {
    this.catchingUp = true;
    this.stats.catchUps++;
    // It copies everything the passes have not: the next pass starts from the commits after it.
    this.commits = 0;
    try {
      // A running pass holds the checkpoint lock: the owner's PASSIVE checkpoint would return busy, copying nothing.
      await this.pass;
      await this.opts.catchUp();
    } catch {
      // Best effort, like a pass: the next commit over the bound tries again.
    } finally {
      this.catchingUp = false;
      this.next();
    }
  }

  /**
   * After a commit. Every `commitsPerPass` commits (16: a pass that copies pages syncs both files, like
   * sqlite's own checkpoint every ~1,000 pages; one per small commit of an idle store would only add syncs), start
   * a pass, or one more after the running one. Never waits and never throws.
   */
  private kick(): void {
    if (this.closed) return;
    if (++this.commits < this.opts.commitsPerPass) return;
    this.commits = 0;
    if (this.pass || this.catchingUp) {
      this.again = true;
      return;
    }
    this.pass = new Promise<void>((resolve) => {
      this.db.get('PRAGMA wal_checkpoint(PASSIVE)', (err: Error | null, row?: { busy: number; log: number; checkpointed: number }) => {
        this.pass = null;
        resolve();
        if (!err && row) {
          this.stats.passes++;
          this.stats.lastLogFrames = row.log;
        }
        this.next();
      });
    });
  }

  private next(): void {
    if (!this.again) return;
    this.again = false;
    this.commits = this.opts.commitsPerPass;
    this.kick();
  }

  /** Resolves once no pass runs, none is due and no catch-up is under way. */
  async idle(): Promise<void> {
    while (this.pass || this.catchingUp || this.again) {
      if (this.pass) await this.pass;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Waits for a running pass, then closes the connection (before the owner's final TRUNCATE checkpoint). */
  async close(): Promise<void> {
    this.closed = true;
    await this.pass;
    await new Promise<void>((resolve) => this.db.close(() => resolve()));
  }
}
