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
 * never does while commits keep coming. So when a pass reports more than `catchUpFrames` frames in the WAL, it
 * asks the owner to run one checkpoint inside its queue, between two transactions (`requestCatchUp`): that one
 * copies only what the background passes had not, completes, and lets the next writer restart the WAL. The WAL
 * stays bounded at about `catchUpFrames` pages while the queue waits ~8 × less often than with autocheckpoint.
 */
import sqlite3 from 'sqlite3';

export interface CheckpointStats {
  /** Background PASSIVE checkpoints run. */
  passes: number;
  /** Checkpoints run inside the owner's queue to bound the WAL. */
  catchUps: number;
  /** Frames in the WAL after the last background pass. */
  lastLogFrames: number;
}

export class WalCheckpointer {
  /** The pass under way, if any. */
  private pass: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** A catch-up is queued in the owner: no background pass meanwhile (it would hold the checkpoint lock). */
  private catchingUp = false;
  /** Commits since the last pass was started. */
  private commits = 0;
  readonly stats: CheckpointStats = { passes: 0, catchUps: 0, lastLogFrames: 0 };

  private constructor(
    private readonly db: sqlite3.Database,
    private readonly opts: { catchUpFrames: number; requestCatchUp: () => Promise<void>; commitsPerPass: number },
  ) {}

  /** Opens the checkpointing connection; null when it cannot be opened (the owner then keeps autocheckpoint). */
  static async open(
    file: string,
    opts: { catchUpFrames: number; requestCatchUp: () => Promise<void>; journalSizeLimit?: number; commitsPerPass?: number },
  ): Promise<WalCheckpointer | null> {
    const db = await new Promise<sqlite3.Database | null>((resolve) => {
      const d = new sqlite3.Database(file, sqlite3.OPEN_READWRITE, (err) => resolve(err ? null : d));
    });
    if (!db) return null;
    const exec = (sql: string) => new Promise<boolean>((resolve) => db.exec(sql, (err) => resolve(!err)));
    // busy_timeout: only for the checkpoint lock while the owner runs a catch-up.
    let ok = (await exec('PRAGMA busy_timeout = 5000')) && (await exec('PRAGMA wal_autocheckpoint = 0'));
    if (ok && opts.journalSizeLimit !== undefined) ok = await exec(`PRAGMA journal_size_limit = ${opts.journalSizeLimit}`);
    if (!ok) {
      await new Promise<void>((resolve) => db.close(() => resolve()));
      return null;
    }
    return new WalCheckpointer(db, { catchUpFrames: opts.catchUpFrames, requestCatchUp: opts.requestCatchUp, commitsPerPass: opts.commitsPerPass ?? 16 });
  }

  /**
   * After a commit. Every `commitsPerPass` commits (16: a pass that copies pages syncs both files, like
   * sqlite's own checkpoint every ~1,000 pages; one per small commit of an idle store would only add syncs), start
   * a pass, or one more after the running one. Never waits and never throws.
   */
  kick(): void {
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
          if (row.log > this.opts.catchUpFrames && !this.closed) {
            this.catchingUp = true;
            this.stats.catchUps++;
            void this.opts.requestCatchUp().finally(() => {
              this.catchingUp = false;
              this.next();
            });
            return;
          }
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

  /** Resolves once no pass runs, none is due and no catch-up is pending. */
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
