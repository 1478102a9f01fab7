/**
 * The database queue's two lanes (docs/decisions.md D66), on a real sqlite file: a transaction of the urgent lane
 * (an intake tick, acknowledged on commit) goes ahead of normal jobs that were queued before it; while both lanes
 * hold jobs they take turns, so neither starves; a job still runs alone and in order within its lane. Order is
 * asserted, not time.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { tempDir } from '../support/temp-dir.js';

describe('database queue lanes', () => {
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

  /** A transaction that records when it began and whether another one was running meanwhile. */
  function job(name: string, order: string[], running: { n: number; overlap: boolean }, lane?: 'urgent' | 'normal'): Promise<void> {
    return db.transaction(
      async (tx) => {
        running.n++;
        if (running.n > 1) running.overlap = true;
        order.push(name);
        await tx.run('INSERT INTO dead_letters (received_at, channel, code, reason) VALUES (1, ?, ?, ?)', ['test', name, name]);
        running.n--;
      },
      lane ? { lane } : {},
    );
  }

  it('runs an urgent transaction before the normal ones queued ahead of it, one job at a time', async () => {
    const order: string[] = [];
    const running = { n: 0, overlap: false };
    // The first normal job takes the connection at once; the others wait behind it.
    const jobs = [job('n1', order, running), job('n2', order, running), job('n3', order, running)];
    expect(db.urgentWaiting).toBe(false);
    jobs.push(job('u1', order, running, 'urgent'));
    expect(db.urgentWaiting).toBe(true);
    await Promise.all(jobs);
    expect(order).toEqual(['n1', 'u1', 'n2', 'n3']);
    expect(running.overlap).toBe(false);
    expect(db.urgentWaiting).toBe(false);
    expect((await db.all<{ code: string }>('SELECT code FROM dead_letters ORDER BY seq')).map((r) => r.code)).toEqual(['n1', 'u1', 'n2', 'n3']);
  });

  it('alternates the lanes while both have jobs: a flood of urgent work does not starve the normal lane', async () => {
    const order: string[] = [];
    const running = { n: 0, overlap: false };
    const jobs = [job('n1', order, running), job('n2', order, running), job('n3', order, running)];
    for (let i = 1; i <= 5; i++) jobs.push(job(`u${i}`, order, running, 'urgent'));
    await Promise.all(jobs);
    expect(order).toEqual(['n1', 'u1', 'n2', 'u2', 'n3', 'u3', 'u4', 'u5']);
    expect(running.overlap).toBe(false);
  });

  it('a failing urgent transaction rolls back alone and the queue goes on', async () => {
    const order: string[] = [];
    const running = { n: 0, overlap: false };
    const first = job('n1', order, running);
    const bad = db.transaction(
      async (tx) => {
        await tx.run('INSERT INTO dead_letters (received_at, channel, code, reason) VALUES (1, ?, ?, ?)', ['test', 'bad', 'bad']);
        throw new Error('boom');
      },
      { lane: 'urgent' },
    );
    const after = job('n2', order, running);
    await expect(bad).rejects.toThrow('boom');
    await Promise.all([first, after]);
    expect((await db.all<{ code: string }>('SELECT code FROM dead_letters ORDER BY seq')).map((r) => r.code)).toEqual(['n1', 'n2']);
  });
});
