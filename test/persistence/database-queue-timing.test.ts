/**
 * The database queue times its own jobs (docs/decisions.md D137): every job adds one wait, in its lane, and one hold.
 * On a real sqlite file. Only counts and lower bounds are asserted — a job that holds the connection while it awaits
 * 40 ms holds it at least 40 ms however loaded the machine is, and the job queued behind it waits at least as long.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { STAGE_BUCKETS_MS } from '../../src/core/stage-latency.js';
import { tempDir } from '../support/temp-dir.js';

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('database queue timing', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: Database;
  beforeEach(async () => {
    tmp = tempDir();
    db = await Database.open(join(tmp.dir, 'store.db'));
  });
  afterEach(async () => {
    await db.close();
    tmp.remove();
  });

  const stage = (name: string) => db.queueTiming.snapshot().find((h) => h.stage === name)!;

  it('records one wait per job in its lane and one hold per job, the holds summing at least what the jobs held', async () => {
    const before = { hold: stage('hold'), urgent: stage('urgent_wait'), normal: stage('normal_wait') };
    const jobs = [
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO dead_letters (received_at, channel, code, reason) VALUES (1, ?, ?, ?)', ['test', 'long', 'long']);
        await pause(40); // holds the connection while it waits
      }),
      db.get('SELECT 1 AS one'),
      db.transaction(async (tx) => tx.get('SELECT count(*) AS n FROM dead_letters'), { lane: 'urgent' }),
    ];
    await Promise.all(jobs);
    const hold = stage('hold');
    const urgent = stage('urgent_wait');
    const normal = stage('normal_wait');
    expect(hold.count - before.hold.count).toBe(3);
    expect(urgent.count - before.urgent.count).toBe(1);
    expect(normal.count - before.normal.count).toBe(2);
    // 38, not 40: a Node timer counts from the event loop's cached time, which may be a fraction of a ms behind
    // performance.now(), so the 40 ms pause can end up to ~1 ms early on this clock. Load only lengthens it.
    expect(hold.sumMs - before.hold.sumMs).toBeGreaterThanOrEqual(38);
    // Both jobs queued behind the long one waited for it: about its 40 ms each.
    expect(urgent.sumMs - before.urgent.sumMs).toBeGreaterThanOrEqual(38);
    expect(normal.sumMs - before.normal.sumMs).toBeGreaterThanOrEqual(38);
    // The long hold is counted in a bucket above 25 ms (a bucket's bound is its upper end).
    const above25 = hold.counts.slice(STAGE_BUCKETS_MS.indexOf(25) + 1).reduce((a, b) => a + b, 0) - before.hold.counts.slice(STAGE_BUCKETS_MS.indexOf(25) + 1).reduce((a, b) => a + b, 0);
    expect(above25).toBeGreaterThanOrEqual(1);
  });

  it('counts a failed job too', async () => {
    const before = stage('hold').count;
    await expect(db.transaction(async (tx) => tx.run('INSERT INTO no_such_table VALUES (1)'))).rejects.toThrow();
    expect(stage('hold').count - before).toBe(1);
  });
});
