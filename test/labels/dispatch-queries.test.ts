/**
 * D16: each query of a dispatch pass must use its index — a pass runs up to five times a second for every AP, and a
 * query that falls back to scanning an AP's labels (or the whole table) costs a large store a core. The partial
 * indexes are used only while the queries repeat their WHERE terms exactly, so an innocent-looking rewrite of a
 * query (or of migration 5) fails here rather than in a store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Database } from '../../src/persistence/database.js';
import { PASS_QUERIES } from '../../src/domain/dispatch/dispatcher.js';
import { tempDir } from '../support/temp-dir.js';

const EXPECTED: Record<keyof typeof PASS_QUERIES, { index: string; params: (string | number)[] }> = {
  inFlight: { index: 'labels_transfer_ap', params: ['AP-1'] },
  toSend: { index: 'labels_to_send', params: ['AP-1', 0, 64] },
  toDrop: { index: 'labels_to_drop', params: ['AP-1', 0, 64] },
  toStage: { index: 'labels_to_stage', params: ['AP-1', 0, 0, 64] },
  nextRetry: { index: 'labels_next_attempt', params: [0] },
};

describe('dispatch pass queries', () => {
  const tmp = tempDir();
  let db: Database;
  beforeAll(async () => {
    db = await Database.open(join(tmp.dir, 'edge.db'));
    // Enough labels, most of them consistent, that a scan would be the planner's worse choice.
    await db.transaction(async (tx) => {
      const ins = tx.prepare("INSERT INTO labels (label_id, label_type, ap_id, desired_hash, confirmed_hash) VALUES (?, 3, ?, 'h1', ?)");
      for (let i = 0; i < 2_000; i++) await ins.run([`L${i}`, `AP-${(i % 4) + 1}`, i % 50 === 0 ? 'h0' : 'h1']);
    });
    await db.run('ANALYZE');
  });
  afterAll(async () => {
    await db.close();
    tmp.remove();
  });

  for (const [name, { index, params }] of Object.entries(EXPECTED)) {
    it(`${name} searches ${index}`, async () => {
      const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${PASS_QUERIES[name as keyof typeof PASS_QUERIES]}`, params);
      const details = plan.map((p) => p.detail).join(' | ');
      expect(details).toMatch(new RegExp(`SEARCH labels USING (COVERING )?INDEX ${index}\\b`));
      expect(details).not.toMatch(/SCAN labels/);
    });
  }
});
