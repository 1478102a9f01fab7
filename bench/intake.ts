/**
 * Intake benchmark (issue 5): sustained price events per second committed durably, and the time to apply a
 * 50,000-row price list as one batch — beside a baseline measured in the same run: the same rows written by plain
 * sqlite inserts in one transaction (the floor any intake on this disk can reach). Prints JSON lines.
 *
 *   npm run build && node dist/bench/intake.js [--events 3000] [--rows 50000]
 */
import { gtin13 } from '../src/domain/gtin.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../src/persistence/database.js';
import { EventIntake } from '../src/domain/events/event-intake.js';
import { LabelStore } from '../src/domain/labels/label-store.js';
import { systemClock } from '../src/core/clock.js';
import { createLogger } from '../src/core/logger.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const gtin = (i: number) => gtin13(`40${String(i).padStart(10, '0')}`);

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'intake', ...o })}\n`);
}

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'esl-bench-'));
  const db = await Database.open(join(dir, 'bench.db'));
  try {
    return await fn(db);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const events = arg('events', 3000);
const rows = arg('rows', 50_000);
const log = createLogger({ level: 'silent' });

// 1. Sustained single events: each is its own durable transaction, answered before the next is sent.
await withDb(async (db) => {
  const intake = new EventIntake({ db, labels: await LabelStore.load({ db, clock: systemClock, log }), clock: systemClock, log, maxEventBytes: 64 << 20, onApplied: () => undefined });
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    const r = await intake.ingest(JSON.stringify({ id: `e${i}`, source: 'bench', version: i + 1, type: 'price', data: { gtin: gtin(i % 5000), priceCents: 100 + i } }), { channel: 'local' });
    if (r.reply.status !== 'applied') throw new Error(`event ${i}: ${r.reply.status}`);
  }
  const s = (performance.now() - t0) / 1000;
  // Baseline: one plain INSERT per transaction, same disk, same pragmas.
  const b0 = performance.now();
  for (let i = 0; i < events; i++) await db.run('INSERT INTO meta (key, value) VALUES (?, ?)', [`k${i}`, String(i)]);
  const bs = (performance.now() - b0) / 1000;
  emit({ metric: 'sustained_events_per_s', value: Math.round(events / s), baseline_single_insert_tx_per_s: Math.round(events / bs), ratio: +(bs / s).toFixed(3), events });
});

// 2. A 50,000-row price list as one batch event (one transaction, all or nothing).
await withDb(async (db) => {
  const intake = new EventIntake({ db, labels: await LabelStore.load({ db, clock: systemClock, log }), clock: systemClock, log, maxEventBytes: 256 << 20, onApplied: () => undefined });
  const list = Array.from({ length: rows }, (_, i) => ({ id: `p${i}`, source: 'hq', version: 1, type: 'price', data: { gtin: gtin(i), priceCents: 99 + (i % 900) } }));
  const payload = JSON.stringify({ id: 'pricelist-1', source: 'hq', version: 1, type: 'batch', data: { events: list } });
  const t0 = performance.now();
  const r = await intake.ingest(payload, { channel: 'local' });
  const s = (performance.now() - t0) / 1000;
  if (r.reply.applied !== rows) throw new Error(`batch applied ${r.reply.applied}`);
  const b0 = performance.now();
  await db.transaction(async (tx) => {
    const st = tx.prepare('INSERT INTO price_history (gtin, effective_from, cents) VALUES (?, ?, ?)');
    for (let i = 0; i < rows; i++) await st.run([gtin(i), 1, i]);
  });
  const bs = (performance.now() - b0) / 1000;
  emit({ metric: 'price_list_apply_s', value: +s.toFixed(2), rows, baseline_plain_insert_s: +bs.toFixed(2), ratio: +(s / bs).toFixed(2), payload_mb: +(payload.length / 1e6).toFixed(1), peak_rss_mb: Math.round(process.memoryUsage().rss / 1e6) });
});
