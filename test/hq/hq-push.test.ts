/**
 * The HQ push against a real store edge: a daemon with its embedded broker (aedes, auth and ACLs on), the push
 * tool as a library, logged in as the store's "publisher" user.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { runHqPush, type CliIo } from '../../hq/src/hq-cli.js';
import { HqErrorCode } from '../../hq/src/hq-error-codes.js';
import { parsePriceListCsv } from '../../hq/src/price-list-csv.js';
import { pushToStores, type StoreResult } from '../../hq/src/push.js';
import { CHAIN, STORE, USERS, startTestDaemon, tempDir } from '../support/edge-fixture.js';

/**
 * The HQ push's own wait for the stores' replies (host time, D22). Where a test expects "confirmed" it is a safety net
 * only, generous so that a loaded machine cannot turn a late answer into "no-answer" (D53); the tests of the timeout
 * itself push to a store that never answers.
 */
const CONFIRM_LIMIT_MS = 120_000;
import { germanPriceList } from './price-list-fixture.js';

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, readFile: async (p) => (await import('node:fs/promises')).readFile(p), now: () => Date.now() };
}

describe('hq push to a store edge (embedded broker)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let daemon: Daemon;
  const pos = { username: USERS.pos.username, password: USERS.pos.password };
  const count = async (table: string) => (await daemon.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
  const currentPrices = async () =>
    new Map(
      (
        await daemon.db.all<{ gtin: string; cents: number }>(
          'SELECT p.gtin, p.cents FROM prices p WHERE p.valid_from = (SELECT max(valid_from) FROM prices q WHERE q.gtin = p.gtin)',
        )
      ).map((r) => [r.gtin, r.cents]),
    );

  beforeAll(async () => {
    tmp = tempDir();
    daemon = await startTestDaemon(join(tmp.dir, 'edge'));
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp?.remove();
  });

  it('refuses a 500-row list with 2 bad rows, naming both rows, and publishes nothing', async () => {
    const file = join(tmp.dir, 'preisliste-2-fehler.csv');
    writeFileSync(file, germanPriceList(500, { badCheckDigitLine: 137, badPriceLine: 402 }).text);
    const io = captureIo();
    const code = await runHqPush(file, { broker: daemon.mqttUrl, ...pos, chain: CHAIN, store: [STORE], timeout: '5' }, io);
    expect(code).toBe(1);
    expect(io.err).toEqual([
      expect.stringMatching(/^row 137, EAN: ".*": GTIN check digit is wrong \[CSV_GTIN\]$/),
      expect.stringMatching(/^row 402, Preis: "#WERT!" is a spreadsheet error value/),
      'preisliste-2-fehler.csv: 2 errors; nothing was sent.',
    ]);
    expect(io.out).toEqual([]);
    // Nothing reached the edge: no event, no dead letter, no price.
    expect(await count('events')).toBe(0);
    expect(await count('dead_letters')).toBe(0);
    expect(await count('prices')).toBe(0);
  });

  it('pushes the valid 500-row list: the store confirms and its database holds every price', async () => {
    const list = germanPriceList(500);
    const parsed = parsePriceListCsv(list.text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const progress: StoreResult[] = [];
    const t0 = performance.now();
    const report = await pushToStores({ brokerUrl: daemon.mqttUrl, ...pos, chain: CHAIN, stores: [STORE], events: parsed.list.records, timeoutMs: CONFIRM_LIMIT_MS, onProgress: (r) => progress.push(r) });
    const ms = performance.now() - t0;
    expect(report.ok).toBe(true);
    expect(report.stores).toHaveLength(1);
    const store = report.stores[0]!;
    expect(store).toMatchObject({ store: STORE, status: 'confirmed', events: 500, applied: 500, stale: 0, duplicates: 0, answered: 1 });
    expect(store.batches[0]!.reply).toEqual({ eventId: store.batches[0]!.id, status: 'applied', applied: 500, stale: 0 });
    expect(progress.map((p) => p.status)).toEqual(['confirmed']);
    expect(await currentPrices()).toEqual(list.prices);
    expect(await daemon.db.get('SELECT type, status FROM events WHERE id = ?', [store.batches[0]!.id])).toEqual({ type: 'batch', status: 'applied' });
    console.log(`push of 500 prices (${(store.bytes / 1024).toFixed(1)} kB, one batch) confirmed in ${ms.toFixed(0)} ms`);
  });

  it('answers a re-push of the same list "duplicate" and changes nothing', async () => {
    const parsed = parsePriceListCsv(germanPriceList(500).text);
    if (!parsed.ok) throw new Error('invalid');
    const eventsBefore = await count('events');
    const report = await pushToStores({ brokerUrl: daemon.mqttUrl, ...pos, chain: CHAIN, stores: [STORE], events: parsed.list.records, timeoutMs: CONFIRM_LIMIT_MS });
    expect(report.stores[0]).toMatchObject({ status: 'confirmed', applied: 0, duplicates: 1 });
    expect(report.ok).toBe(true);
    expect(await count('events')).toBe(eventsBefore);
  });

  it('applies a changed list cut into several batches, each its own transaction, in full', async () => {
    const list = germanPriceList(500, { centsShift: 10 });
    const parsed = parsePriceListCsv(list.text);
    if (!parsed.ok) throw new Error('invalid');
    const report = await pushToStores({ brokerUrl: daemon.mqttUrl, ...pos, chain: CHAIN, stores: [STORE], events: parsed.list.records, maxEventsPerBatch: 150, timeoutMs: CONFIRM_LIMIT_MS });
    const store = report.stores[0]!;
    expect(store.batches.map((b) => b.events)).toEqual([150, 150, 150, 50]);
    expect(store).toMatchObject({ status: 'confirmed', applied: 500, answered: 4 });
    expect(await currentPrices()).toEqual(list.prices);
  });

  it('sends nothing when the broker refuses the reply subscription (here: a store this broker does not serve)', async () => {
    const parsed = parsePriceListCsv(germanPriceList(20, { centsShift: 20 }).text);
    if (!parsed.ok) throw new Error('invalid');
    const eventsBefore = await count('events');
    const push = pushToStores({ brokerUrl: daemon.mqttUrl, ...pos, chain: CHAIN, stores: [STORE, 'store-9'], events: parsed.list.records, timeoutMs: 5_000 });
    await expect(push).rejects.toMatchObject({ code: HqErrorCode.HQ_REPLY_SUBSCRIBE_REFUSED });
    expect(await count('events')).toBe(eventsBefore);
  });

  it('fails cleanly with wrong credentials', async () => {
    const parsed = parsePriceListCsv(germanPriceList(3).text);
    if (!parsed.ok) throw new Error('invalid');
    await expect(
      pushToStores({ brokerUrl: daemon.mqttUrl, username: 'pos', password: 'wrong-password', chain: CHAIN, stores: [STORE], events: parsed.list.records, timeoutMs: 2_000 }),
    ).rejects.toMatchObject({ code: HqErrorCode.HQ_CONNECT_FAILED });
  });
});
