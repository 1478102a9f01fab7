/**
 * The label store's working set (D17): a store of N labels (default 200,000, the large store, on 100 APs) is
 * written to sqlite as a planned store would leave it (every label bound, planned, confirmed; 5 % waiting for a
 * transfer), then rebuilt in memory the way the daemon starts. Reports the heap the records and indexes take (per
 * label and in total), the time to load, one write-behind batch of every label, and a dispatch pass over every AP
 * (the in-memory selection that replaced the SQL passes of D16). The baseline in the same run is the raw rows as
 * sqlite returns them (`SELECT *` objects), i.e. what a naive cache of the table would keep.
 *
 *   npm run bench -- label-store        [--labels N --aps M]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';
import { Database } from '../src/persistence/database.js';
import { LabelStore } from '../src/domain/labels/label-store.js';
import { selectForAp } from '../src/domain/dispatch/dispatcher.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
const LABELS = arg('labels', 200_000);
const APS = arg('aps', 100);
const MB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const hash = (i: number) => (i * 2654435761).toString(16).padStart(16, '0').slice(-16);

const dir = mkdtempSync(join(tmpdir(), 'esl-label-store-'));
const db = await Database.open(join(dir, 'edge.db'));
try {
  await db.transaction(async (tx) => {
    const ins = tx.prepare(
      `INSERT INTO labels (label_id, label_type, gtin, ap_id, desired_hash, desired_since, priority, confirmed_hash, confirmed_at, consistent_since,
         last_seen_at, battery_mv, rssi, lqi, temperature_c, wake_reason, page)
       VALUES (?, 3, ?, ?, ?, 0, 2, ?, 0, 0, 0, 2950, -67, 210, 21, 0, 0)`,
    );
    for (let i = 0; i < LABELS; i++) {
      const gtin = `4${String(i).padStart(12, '0')}`;
      // ~2 pictures per product type; 5 % of the labels still show the previous one.
      const desired = hash(i);
      await ins.run([`0000D15B${i.toString(16).toUpperCase().padStart(8, '0')}`, gtin, `AP-${(i % APS) + 1}`, desired, i % 20 === 0 ? hash(i + 1) : desired]);
    }
  });

  const h0 = heap();
  const rows = await db.all<Record<string, unknown>>('SELECT * FROM labels');
  const h1 = heap();
  const rawBytes = h1 - h0;
  rows.length = 0;
  const h2 = heap();
  const t0 = performance.now();
  const lc0 = process.cpuUsage();
  const store = await LabelStore.load({ db, clock: systemClock, log: createLogger({ level: 'silent' }), flushIntervalMs: 3_600_000 });
  const loadS = (performance.now() - t0) / 1000;
  const lc = process.cpuUsage(lc0);
  const h3 = heap();
  const storeBytes = h3 - h2;

  // A dispatch pass over every AP: select from the index of labels with work.
  const p0 = performance.now();
  let picks = 0;
  for (let a = 1; a <= APS; a++) {
    picks += selectForAp(store.workOn(`AP-${a}`), { now: Date.now(), free: 64, timedDisplay: true, stageAt: (_l, now) => now, wakeKey: (_l, now) => now }).picks.length;
  }
  const passMs = performance.now() - p0;

  // One write-behind batch with every label in it (the worst case: a whole store changed within one tick).
  for (const l of [...store.all()]) store.forceFull(l.id);
  const f0 = performance.now();
  const c0 = process.cpuUsage();
  await store.flush();
  const fc = process.cpuUsage(c0);
  const flushS = (performance.now() - f0) / 1000;

  process.stdout.write(
    `${JSON.stringify({
      bench: 'label-store',
      labels: LABELS,
      aps: APS,
      gc_exposed: gc !== undefined,
      store_heap_mb: +(storeBytes / MB).toFixed(1),
      store_bytes_per_label: Math.round(storeBytes / LABELS),
      baseline_raw_rows_heap_mb: +(rawBytes / MB).toFixed(1),
      ratio_to_raw_rows: +(storeBytes / rawBytes).toFixed(3),
      load_s: +loadS.toFixed(2),
      pass_all_aps_ms: +passMs.toFixed(1),
      pass_picks: picks,
      flush_all_rows_s: +flushS.toFixed(2),
      // CPU seconds of the process, sqlite's threads included: wall time says little on a shared machine.
      flush_all_rows_cpu_s: +((fc.user + fc.system) / 1e6).toFixed(2),
      load_cpu_s: +((lc.user + lc.system) / 1e6).toFixed(2),
      rss_mb: Math.round(process.memoryUsage().rss / MB),
    })}\n`,
  );
  await store.stop();
} finally {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
}
