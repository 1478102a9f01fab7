/**
 * The store's state lives in one sqlite file (docs/decisions.md D3). This module (with its WAL checkpointer,
 * wal-checkpointer.ts, D44) is the only one that touches the
 * `sqlite3` package, so it can be swapped without touching the domain.
 *
 * sqlite3 gives one connection with callbacks; concurrent async transactions on one connection would interleave
 * their statements. Every access therefore goes through one FIFO queue: a transaction holds the queue until it
 * commits, so its reads and writes are isolated and atomic.
 *
 * WAL + synchronous=NORMAL survives a process crash (SIGKILL) without losing committed transactions; only a power
 * loss may drop the last commits (domain notes §4). `durability: 'full'` syncs every commit for gateways without
 * a UPS.
 */
import sqlite3 from 'sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EdgeError, EdgeErrorCode } from '#contracts';
import { MIGRATIONS } from './migrations.js';
import { WalCheckpointer, type CheckpointStats } from './wal-checkpointer.js';
import { StageLatency } from '../core/stage-latency.js';

/**
 * What the one queue's jobs spend (D137): waiting for the connection, per lane, and holding it. The hold's sum over
 * time is how busy the queue is; near 100 % the edge is bound by its database queue before its event loop looks
 * busy. Wall-clock milliseconds (performance.now()): a measure of sqlite's and the event loop's work, never a timer.
 */
export const DB_QUEUE_STAGES = ['urgent_wait', 'normal_wait', 'hold'] as const;
export type DbQueueStage = (typeof DB_QUEUE_STAGES)[number];

/** Frames (pages) the WAL may hold before a checkpoint runs inside the queue to let it restart: 16 MiB of 4 KiB pages. */
const CATCH_UP_FRAMES = 4096;

export type SqlValue = string | number | bigint | Buffer | Uint8Array | null;
export type Params = SqlValue[] | Record<string, SqlValue>;

/** What a transaction body sees: the same calls, without re-entering the queue. */
export interface Tx {
  run(sql: string, params?: Params): Promise<{ changes: number; lastID: number }>;
  get<T>(sql: string, params?: Params): Promise<T | undefined>;
  all<T>(sql: string, params?: Params): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /** A prepared statement for bulk writes inside the transaction; finalised when the transaction ends. */
  prepare(sql: string): PreparedStatement;
  /**
   * A write whose result nobody reads (D82): held and sent with the transaction's next statement or its COMMIT, all
   * in one `exec`, so a tick's writes cost one trip to sqlite's thread pool instead of one each. Its parameters are
   * written into the SQL as literals (strings without U+0000, safe integers, null); a failure surfaces at that next
   * statement or the COMMIT and rolls the transaction back like any other.
   */
  runLater(sql: string, params?: readonly (string | number | null)[]): void;
  /**
   * Runs `fn` right after this transaction commits, before any later transaction starts (never on rollback). The
   * label store uses it to apply to its memory exactly what a caller's transaction made durable (D17).
   */
  onCommit(fn: () => void): void;
}
export interface PreparedStatement {
  run(params?: Params): Promise<{ changes: number }>;
  get<T>(params?: Params): Promise<T | undefined>;
}

/**
 * Which lane of the one queue a job waits in (D66). `urgent`: someone outside waits for it — a publisher for its
 * commit to be acknowledged (the intake's group-commit ticks), an AP's channel for a transfer whose pictures were not
 * in memory (the image store's batched misses, D119). `normal`: everything else (rule passes, outbox marks, planner
 * reads, pruning).
 */
export type QueueLane = 'urgent' | 'normal';

interface QueuedJob {
  fn: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
  /** performance.now() when it was queued. */
  queuedAt: number;
}

export class Database {
  /** The jobs waiting for the connection, per lane, each in arrival order. */
  private readonly lanes: Record<QueueLane, QueuedJob[]> = { urgent: [], normal: [] };
  /** The job holding the connection (settles, never rejects), or null. */
  private current: Promise<void> | null = null;
  /** Whether the job that ran last came from the urgent lane (lanes alternate while both have jobs). */
  private lastUrgent = false;
  private closed = false;
  /** D137 Wait and hold of every job (esl_edge_db_queue_ms on /metrics; benchmarks diff two snapshots). */
  readonly queueTiming = new StageLatency<DbQueueStage>(DB_QUEUE_STAGES);
  /** Checkpoints off the commit path (D44); null: sqlite's autocheckpoint inside the COMMIT (e.g. ':memory:'). */
  private checkpointer: WalCheckpointer | null = null;


  private constructor(
    private readonly db: sqlite3.Database,
    readonly file: string,
  ) {}

  static async open(file: string, opts: { durability?: 'normal' | 'full'; maxBytes?: number; checkpoints?: 'background' | 'in-commit'; walCatchUpFrames?: number; walCommitsPerPass?: number } = {}): Promise<Database> {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const raw = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(wrap(err, 'open')) : resolve(d)));
    });
    const db = new Database(raw, file);
    const direct = db.direct();
    await direct.exec('PRAGMA journal_mode = WAL');
    await direct.exec(`PRAGMA synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    await direct.exec('PRAGMA foreign_keys = ON');
    await direct.exec('PRAGMA busy_timeout = 5000');
    let catchUpFrames = opts.walCatchUpFrames ?? CATCH_UP_FRAMES;
    if (opts.maxBytes) {
      // A hard cap on the file (storage.maxDbBytes, D26): beyond it a write fails with SQLITE_FULL instead of
      // filling the gateway's disk. The WAL is truncated back to 16 MiB after each checkpoint.
      const page = (await direct.get<{ page_size: number }>('PRAGMA page_size'))?.page_size ?? 4096;
      await direct.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / page))}`);
      await direct.exec(`PRAGMA journal_size_limit = ${16 * 1024 * 1024}`);
      // The background checkpointer's WAL bound stays a small share of a small cap (D131): 16 MiB of WAL beside a
      // 16 MiB file would double what the disk holds; sqlite's own checkpoint restarts the WAL every ~1,000 pages.
      if (opts.walCatchUpFrames === undefined) catchUpFrames = Math.min(CATCH_UP_FRAMES, Math.max(64, Math.floor(opts.maxBytes / 32 / page)));
    }
    await db.migrate();
    const mode = (await direct.get<{ journal_mode: string }>('PRAGMA journal_mode'))?.journal_mode;
    // Opt-in (D44, D131: it passes the crash tests and shortens the ticks, but no gain in the acknowledgement showed).
    if (file !== ':memory:' && mode === 'wal' && opts.checkpoints === 'background') {
      db.checkpointer = await WalCheckpointer.open(file, {
        catchUpFrames,
        ...(opts.walCommitsPerPass ? { commitsPerPass: opts.walCommitsPerPass } : {}),
        // Inside the queue job of the commit that crossed the bound, with no writer active: it copies every frame
        // left, so the next writer restarts the WAL from its beginning (D106).
        catchUp: () => direct.exec('PRAGMA wal_checkpoint(PASSIVE)'),
      });
      if (db.checkpointer) {
        await direct.exec('PRAGMA wal_autocheckpoint = 0');
        // The bound as the WAL's size limit: each restart truncates the file to it, so the checkpointer reads the
        // WAL's length from the file's size (at the default bound, D26's 16 MiB plus the frame headers).
        await direct.exec(`PRAGMA journal_size_limit = ${db.checkpointer.limitBytes}`);
      }
    }
    return db;
  }

  /** Background checkpoints so far (bench, tests); null when sqlite checkpoints inside the commits. */
  get checkpointStats(): Readonly<CheckpointStats> | null {
    return this.checkpointer?.stats ?? null;
  }

  /** Resolves when no background checkpoint is running or asked for (tests). */
  async checkpointsIdle(): Promise<void> {
    await this.checkpointer?.idle();
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
      const row = await tx.get<{ version: number }>('SELECT max(version) AS version FROM schema_version');
      const current = row?.version ?? 0;
      for (const [i, sql] of MIGRATIONS.entries()) {
        const version = i + 1;
        if (version <= current) continue;
        await tx.exec(sql);
        await tx.run('INSERT INTO schema_version (version) VALUES (?)', [version]);
      }
    });
  }

  /**
   * Whether an urgent job waits for the connection: a long job of the normal lane (a rule pass) ends early when it
   * sees one, so an acknowledgement never waits for more than a step of it (D66).
   */
  get urgentWaiting(): boolean {
    return this.lanes.urgent.length > 0;
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction: all or nothing. `lane`: see QueueLane (default normal).
   *
   * `begin`: `immediate` (default) sends `BEGIN IMMEDIATE` before `fn` runs, so its body holds the file's write
   * lock against every connection. `with-first-write` (D95) saves that trip: the BEGIN goes with the transaction's
   * first write (a `run`, `exec`, prepared `run`, or the held `runLater` writes), and a transaction that only
   * reads sends none. The reads before that first write then run outside the sqlite transaction but inside this
   * queue; they see what they would have seen inside it as long as every writer of the file goes through this
   * queue — true of the daemon (its checkpointer never changes a row), so the intake's ticks use
   * it: a tick is two trips (its read; BEGIN, writes and COMMIT in one exec) instead of three. A tick still commits
   * only under the write lock, so another connection holding it still holds every acknowledgement back.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, opts: { lane?: QueueLane; begin?: 'immediate' | 'with-first-write' } = {}): Promise<T> {
    return this.enqueue(async () => {
      const tx = this.direct();
      const statements: sqlite3.Statement[] = [];
      const hooks: (() => void)[] = [];
      // runLater's writes, in order: flushed before any other statement of the transaction, or with its COMMIT.
      const later: string[] = [];
      let begun = opts.begin !== 'with-first-write';
      if (begun) await tx.exec('BEGIN IMMEDIATE');
      /** The SQL that must precede the next statement: the BEGIN (once, before the first write) and held writes. */
      const ahead = (write: boolean): string[] => {
        if (!begun && (write || later.length > 0)) {
          begun = true;
          return ['BEGIN IMMEDIATE', ...later.splice(0)];
        }
        return later.splice(0);
      };
      const flushed = async <R>(write: boolean, run: () => Promise<R>): Promise<R> => {
        const sql = ahead(write);
        if (sql.length > 0) await tx.exec(sql.join(';\n'));
        return run();
      };
      const txWithPrepare: Tx = {
        run: (sql, params) => flushed(true, () => tx.run(sql, params)),
        get: <R>(sql: string, params?: Params) => flushed(false, () => tx.get<R>(sql, params)),
        all: <R>(sql: string, params?: Params) => flushed(false, () => tx.all<R>(sql, params)),
        exec: (sql) => flushed(true, () => tx.exec(sql)),
        runLater: (sql, params = []) => {
          later.push(inlineParams(sql, params));
        },
        onCommit: (hook) => {
          hooks.push(hook);
        },
        prepare: (sql) => {
          const stmt = this.db.prepare(sql);
          statements.push(stmt);
          return {
            run: (params) =>
              flushed(
                true,
                () =>
                  new Promise<{ changes: number }>((resolve, reject) => {
                    stmt.run(params ?? [], function (this: sqlite3.RunResult, err: Error | null) {
                      if (err) reject(wrap(err, sql));
                      else resolve({ changes: this.changes });
                    });
                  }),
              ),
            get: <T>(params?: Params) =>
              flushed(
                false,
                () =>
                  new Promise<T | undefined>((resolve, reject) => {
                    stmt.get(params ?? [], (err: Error | null, row: T | undefined) => (err ? reject(wrap(err, sql)) : resolve(row)));
                  }),
              ),
          };
        },
      };
      let result: T;
      try {
        result = await fn(txWithPrepare);
        await finalize(statements);
        // The BEGIN (if no write went before), the held writes and the COMMIT in one trip: sqlite stops at a
        // failing statement, before the COMMIT. A transaction that wrote nothing has nothing to commit.
        const sql = ahead(false);
        if (begun) await tx.exec([...sql, 'COMMIT'].join(';\n'));
      } catch (err) {
        await finalize(statements).catch(() => undefined);
        if (begun) await tx.exec('ROLLBACK').catch(() => undefined);
        throw err;
      }
      if (begun) {
        const catchUp = this.checkpointer?.afterCommit();
        if (catchUp) await catchUp;
      }
      // In commit order and synchronously, so memory never sees a later transaction's effect before this one's.
      for (const hook of hooks) hook();
      return result;
    }, opts.lane);
  }

  /** A single read, queued behind running transactions. */
  get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return this.enqueue(() => this.direct().get<T>(sql, params));
  }
  /** `lane`: see QueueLane (default normal); a read someone outside waits for may go in the urgent lane (D119). */
  all<T>(sql: string, params?: Params, opts: { lane?: QueueLane } = {}): Promise<T[]> {
    return this.enqueue(() => this.direct().all<T>(sql, params), opts.lane);
  }
  run(sql: string, params?: Params): Promise<{ changes: number; lastID: number }> {
    return this.enqueue(async () => {
      const r = await this.direct().run(sql, params);
      const catchUp = this.checkpointer?.afterCommit();
      if (catchUp) await catchUp;
      return r;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.current) await this.current;
    await this.checkpointer?.close();
    await new Promise<void>((resolve) => this.db.exec('PRAGMA wal_checkpoint(TRUNCATE)', () => resolve()));
    await new Promise<void>((resolve, reject) => this.db.close((err) => (err ? reject(wrap(err, 'close')) : resolve())));
  }

  private enqueue<T>(fn: () => Promise<T>, lane: QueueLane = 'normal'): Promise<T> {
    if (this.closed) return Promise.reject(new EdgeError(EdgeErrorCode.SHUTTING_DOWN, 'database is closed'));
    return new Promise<T>((resolve, reject) => {
      this.lanes[lane].push({ fn, resolve: resolve as (v: unknown) => void, reject, queuedAt: performance.now() });
      if (!this.current) this.next();
    });
  }

  /**
   * Starts the next job, one at a time (D3). The urgent lane goes first, but while both lanes hold jobs they take
   * turns: an urgent job waits for at most the running job and one normal job, and a normal job is never starved
   * by a flood of urgent ones (D66).
   */
  private next(): void {
    const { urgent, normal } = this.lanes;
    const takeUrgent = urgent.length > 0 && !(this.lastUrgent && normal.length > 0);
    const job = takeUrgent ? urgent.shift() : normal.shift();
    if (!job) {
      this.current = null;
      return;
    }
    this.lastUrgent = takeUrgent;
    const startedAt = performance.now();
    this.queueTiming.add(takeUrgent ? 'urgent_wait' : 'normal_wait', startedAt - job.queuedAt);
    // A microtask later, as the promise chain this replaces did: the job never starts inside its caller's call.
    this.current = Promise.resolve()
      .then(job.fn)
      .then(job.resolve, job.reject)
      .then(() => {
        this.queueTiming.add('hold', performance.now() - startedAt);
        this.next();
      });
  }

  private direct(): Omit<Tx, 'prepare'> & { prepare: Tx['prepare'] } {
    const db = this.db;
    return {
      run: (sql, params) =>
        new Promise((resolve, reject) => {
          db.run(sql, params ?? [], function (this: sqlite3.RunResult, err: Error | null) {
            if (err) reject(wrap(err, sql));
            else resolve({ changes: this.changes, lastID: this.lastID });
          });
        }),
      get: <T>(sql: string, params?: Params) =>
        new Promise<T | undefined>((resolve, reject) => {
          db.get(sql, params ?? [], (err: Error | null, row: T | undefined) => (err ? reject(wrap(err, sql)) : resolve(row)));
        }),
      all: <T>(sql: string, params?: Params) =>
        new Promise<T[]>((resolve, reject) => {
          db.all(sql, params ?? [], (err: Error | null, rows: T[]) => (err ? reject(wrap(err, sql)) : resolve(rows)));
        }),
      exec: (sql) => new Promise((resolve, reject) => db.exec(sql, (err) => (err ? reject(wrap(err, sql)) : resolve()))),
      prepare: () => {
        throw new EdgeError(EdgeErrorCode.DB_ERROR, 'prepare() is only available inside a transaction');
      },
      runLater: () => {
        throw new EdgeError(EdgeErrorCode.DB_ERROR, 'runLater() is only available inside a transaction');
      },
      onCommit: () => {
        throw new EdgeError(EdgeErrorCode.DB_ERROR, 'onCommit() is only available inside a transaction');
      },
    };
  }
}

/**
 * `sql` with its `?` placeholders replaced by SQL literals (D82). Only what cannot change meaning is accepted: a string
 * (quotes doubled, sqlite has no backslash escapes; U+0000 would end the C string exec reads), a safe integer, null.
 * A `?` inside a quoted literal or identifier of `sql` itself is not a placeholder.
 */
export function inlineParams(sql: string, params: readonly (string | number | null)[]): string {
  let i = 0;
  const out = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (m) => {
    if (m !== '?') return m;
    if (i >= params.length) throw new EdgeError(EdgeErrorCode.DB_ERROR, `runLater: too few parameters for ${sql.slice(0, 80)}`);
    const v = params[i++]!;
    if (v === null) return 'NULL';
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new EdgeError(EdgeErrorCode.DB_ERROR, `runLater: ${v} is not a safe integer`);
      return String(v);
    }
    if (v.includes('\u0000')) throw new EdgeError(EdgeErrorCode.DB_ERROR, 'runLater: a string parameter holds U+0000');
    return `'${v.replaceAll("'", "''")}'`;
  });
  if (i !== params.length) throw new EdgeError(EdgeErrorCode.DB_ERROR, `runLater: ${params.length} parameters for ${i} placeholders`);
  return out;
}

function finalize(statements: sqlite3.Statement[]): Promise<void> {
  return Promise.all(statements.map((s) => new Promise<void>((resolve) => s.finalize(() => resolve())))).then(() => undefined);
}

function wrap(err: Error, sql: string): EdgeError {
  return new EdgeError(EdgeErrorCode.DB_ERROR, `${err.message} (in: ${sql.slice(0, 120)})`, { sqliteCode: (err as { code?: string }).code });
}
