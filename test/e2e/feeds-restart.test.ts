/**
 * The feed test of issue 14: a web-shop consumer polls `GET /api/v1/prices?since=<cursor>` and
 * `GET /api/v1/shelf?since=<cursor>` all the time, through price changes, a promotion and a restart of the daemon
 * (same database, same ports; the simulated store reconnects). It must see every change exactly once and in order:
 * cursors strictly increasing, nothing twice, nothing the database holds missing, and per product the sequence of
 * prices the changes made — on the shelf feed only prices a label confirmed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { CHAIN, PRODUCTS, STORE, TOKEN, USERS, authHeaders, catalogueBatch, pacedClock, simWaitFor, startTestDaemon, tempDir } from '../support/edge-fixture.js';
import { freePort } from '../support/daemon-process.js';

const A = PRODUCTS[1]!;
const B = PRODUCTS[2]!;
const LABELS = { [A.gtin]: '0000AABBCC0000E1', [B.gtin]: '0000AABBCC0000E2' };

interface Entry {
  seq: number;
  gtin: string;
  priceCents: number;
}

describe('price and shelf feeds across a daemon restart', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let sim: StoreSimulator;
  let clock: PacedClock;
  let ports: { mqtt: number; http: number };
  let version = 10;
  const seen: Record<'prices' | 'shelf', Entry[]> = { prices: [], shelf: [] };
  const cursor = { prices: 0, shelf: 0 };
  let polling = true;
  let poller: Promise<void>;

  const start = () =>
    startTestDaemon(
      tmp.dir,
      {
        mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: ports.mqtt }, users: Object.values(USERS) },
        http: { host: '127.0.0.1', port: ports.http, tokens: [{ name: 'test', token: TOKEN }] },
        dispatch: { prestageLeadS: 120, retryBaseMs: 200, heartbeatIntervalS: 5, checkinReportIntervalS: 30 },
      },
      { clock },
    );

  /** One poll of a feed as a web shop does it: everything after its cursor, then the new cursor. */
  async function poll(kind: 'prices' | 'shelf'): Promise<void> {
    for (;;) {
      const r = await fetch(`http://127.0.0.1:${ports.http}/api/v1/${kind}?since=${cursor[kind]}&limit=2`, { headers: authHeaders() });
      if (!r.ok) throw new Error(`${kind}: HTTP ${r.status}`);
      const body = (await r.json()) as { cursor: number; entries: Entry[] };
      seen[kind].push(...body.entries.map((e) => ({ seq: e.seq, gtin: e.gtin, priceCents: e.priceCents })));
      cursor[kind] = body.cursor;
      if (body.entries.length < 2) return;
    }
  }

  const send = async (type: string, data: unknown) => {
    const r = await daemon.intake.ingest(JSON.stringify({ id: `feed-${type}-${version}`, source: 'test', version: version++, type, data }), { channel: 'local' });
    expect(r.reply.status).toBe('applied');
  };
  const confirmed = (gtin: string, cents: number) =>
    simWaitFor(clock, `${gtin} confirmed at ${cents}`, async () => {
      const l = daemon.labels.get(LABELS[gtin]!);
      if (!l?.confirmedHash || l.confirmedHash !== l.desiredHash || sim.groundTruth(LABELS[gtin]!)?.hash !== l.confirmedHash) return false;
      await daemon.shelf.idle();
      const last = (await daemon.db.get<{ price_cents: number }>('SELECT price_cents FROM shelf_feed WHERE gtin = ? ORDER BY seq DESC LIMIT 1', [gtin]))?.price_cents;
      return last === cents;
    }, 180_000, { everySimMs: 200 });

  beforeAll(async () => {
    ports = { mqtt: await freePort(), http: await freePort() };
    clock = pacedClock(5);
    daemon = await start();
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    for (const [gtin, labelId] of Object.entries(LABELS)) await send('binding', { labelId, gtin });
    sim = await StoreSimulator.start({
      brokerUrl: daemon.mqttUrl,
      chain: CHAIN,
      store: STORE,
      aps: [{ apId: USERS.ap1.apId, username: USERS.ap1.username, password: USERS.ap1.password }],
      labels: Object.values(LABELS).map((labelId) => ({ labelId, labelType: 1, apId: 'AP-1' })),
      clock,
      radio: { frameLoss: 0, wakeIntervalMs: 1_000 },
      seed: 7,
    });
    poller = (async () => {
      while (polling) {
        // While the daemon restarts the poll fails; the consumer just tries again with the same cursor.
        await poll('prices').catch(() => undefined);
        await poll('shelf').catch(() => undefined);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
  }, 300_000);

  afterAll(async () => {
    polling = false;
    await poller;
    await sim?.stop();
    await daemon?.stop();
    clock?.stop();
    tmp.remove();
  });

  it('every change exactly once and in order, before and after the restart', async () => {
    await confirmed(A.gtin, A.cents);
    await confirmed(B.gtin, B.cents);
    await send('price', { gtin: A.gtin, priceCents: 111 });
    await confirmed(A.gtin, 111);
    const promoStart = Math.ceil((clock.now() + 20_000) / 60_000) * 60_000;
    await send('promotion', { promotionId: 'choc', gtins: [B.gtin], promoPriceCents: 99, start: new Date(promoStart).toISOString(), end: new Date(promoStart + 3_600_000).toISOString() });
    await confirmed(B.gtin, 99);
    await send('price', { gtin: A.gtin, priceCents: 122 });
    await confirmed(A.gtin, 122);

    // Restart: a graceful stop, a new daemon on the same file and ports; the consumer keeps its cursors.
    await daemon.stop();
    daemon = await start();
    await send('price', { gtin: A.gtin, priceCents: 133 });
    await confirmed(A.gtin, 133);
    await send('promotion', { promotionId: 'choc', gtins: [B.gtin], promoPriceCents: 99, start: new Date(promoStart).toISOString(), end: new Date(promoStart + 3_600_000).toISOString(), cancelled: true });
    await confirmed(B.gtin, B.cents);
    await send('price', { gtin: A.gtin, priceCents: 144 });
    await confirmed(A.gtin, 144);

    polling = false;
    await poller;
    await poll('prices');
    await poll('shelf');
    for (const kind of ['prices', 'shelf'] as const) {
      const seqs = seen[kind].map((e) => e.seq);
      // In order and exactly once: strictly increasing cursors, and exactly what the edge holds.
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), `${kind} strictly increasing`).toBe(true);
      const table = kind === 'prices' ? 'price_feed' : 'shelf_feed';
      expect(seqs).toEqual((await daemon.db.all<{ seq: number }>(`SELECT seq FROM ${table} ORDER BY seq`)).map((r) => r.seq));
      const of = (gtin: string) => seen[kind].filter((e) => e.gtin === gtin).map((e) => e.priceCents);
      expect(of(A.gtin), `${kind}: ${A.gtin}`).toEqual([A.cents, 111, 122, 133, 144]);
      expect(of(B.gtin), `${kind}: ${B.gtin}`).toEqual([B.cents, 99, B.cents]);
    }
  }, 900_000);
});
