/**
 * Issue 10 acceptance, scaled down for `npm test` (bench/flood.ts runs the full 100,000): a flood of malformed
 * payloads over MQTT and HTTP (bounded, loopback) leaves the daemon up, its database under the configured limit, and
 * the next valid event applied. Without the pruner the dead letters alone (~21 MB) would exceed the 16 MiB cap, and
 * the valid event after the flood would fail with DB_ERROR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import type { EventReply } from '#contracts';
import { DEAD_LETTER_ROW_BYTES_SQL } from '../../src/persistence/dead-letters.js';
import { PRODUCTS, ROOT, TOKEN, USERS, authHeaders, catalogueBatch, connectClient, startTestDaemon, tempDir, waitFor } from '../support/edge-fixture.js';
import { floodHttp, floodMqtt } from '../../bench/junk-flood.js';

const MiB = 1024 * 1024;
const MAX_DB = 16 * MiB;
const DL_BUDGET = MiB / 2;
const PER_CHANNEL = 2500;
const PAYLOAD = 4096;

describe('a flood of malformed payloads', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let pos: MqttClient;
  const inbox: { topic: string; body: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir, {
      storage: { maxDbBytes: MAX_DB, deadLetters: { maxBytes: DL_BUDGET, maxPayloadBytes: PAYLOAD } },
      mqtt: {
        embedded: { enabled: true, host: '127.0.0.1', port: 0 },
        users: [...Object.values(USERS), { username: 'observer', password: 'observer-password', role: 'observer' }],
      },
    });
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    pos = await connectClient(daemon, USERS.pos);
    await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
    const observer = await connectClient(daemon, { username: 'observer', password: 'observer-password' });
    await observer.subscribeAsync(`${ROOT}/out/alerts`, { qos: 1 });
    observer.on('message', (topic, p) => inbox.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> }));
    pos.on('message', (topic, p) => inbox.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> }));
  });
  afterAll(async () => {
    await pos?.endAsync(true);
    await daemon?.stop();
    tmp.remove();
  });

  const dbBytes = () => {
    const f = join(tmp.dir, 'esl-edge.db');
    return statSync(f).size + (existsSync(`${f}-wal`) ? statSync(`${f}-wal`).size : 0);
  };

  it('keeps the daemon up and the database under its limit', async () => {
    const [m, h] = await Promise.all([
      floodMqtt({ url: daemon.mqttUrl, username: USERS.pos.username, password: USERS.pos.password, topic: `${ROOT}/in/price`, count: PER_CHANNEL, bytes: PAYLOAD }),
      floodHttp({ baseUrl: `http://127.0.0.1:${daemon.httpPort}`, token: TOKEN, count: PER_CHANNEL, bytes: PAYLOAD, offset: PER_CHANNEL }),
    ]);
    expect(m.unexpected).toBe(0);
    expect(h.unexpected).toBe(0);
    await waitFor('every MQTT payload dead-lettered', async () => (await daemon.db.get<{ n: number }>('SELECT max(seq) AS n FROM dead_letters'))!.n >= 2 * PER_CHANNEL);
    await daemon.pruner.idle();

    expect((await daemon.http.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect(dbBytes()).toBeLessThan(MAX_DB);
    const dl = await daemon.db.get<{ bytes: number; rows: number }>(`SELECT sum(${DEAD_LETTER_ROW_BYTES_SQL}) AS bytes, count(*) AS rows FROM dead_letters`);
    // The budget, plus at most the eighth that may arrive between two passes.
    expect(dl!.bytes).toBeLessThanOrEqual(DL_BUDGET * 1.125 + PAYLOAD + 1024);
    expect(dl!.rows).toBeLessThan(2 * PER_CHANNEL);
    // Oldest first: the newest refusals are still there for the operator.
    const newest = await daemon.http.inject({ method: 'GET', url: '/api/v1/dead-letters?limit=1', headers: authHeaders() });
    expect((newest.json() as { deadLetters: { seq: number; code: string }[] }).deadLetters[0]).toMatchObject({ seq: 2 * PER_CHANNEL, code: 'EVENT_MALFORMED_JSON' });
  }, 240_000);

  it('alerts once that pruning started, and counts it', async () => {
    const alert = await waitFor('storage-pruning alert', () => inbox.find((m) => m.topic === `${ROOT}/out/alerts` && m.body.type === 'storage-pruning'));
    expect(alert.body).toMatchObject({ table: 'dead_letters', limitBytes: DL_BUDGET });
    expect(inbox.filter((m) => m.body.type === 'storage-pruning').length).toBe(1);
    const metrics = await daemon.http.inject({ method: 'GET', url: '/metrics', headers: authHeaders() });
    expect(Number(/esl_edge_storage_pruned_rows_total\{table="dead_letters",reason="size"\} (\d+)/.exec(metrics.body)?.[1])).toBeGreaterThan(PER_CHANNEL);
    expect(Number(/esl_edge_db_bytes (\d+)/.exec(metrics.body)?.[1])).toBeLessThan(MAX_DB);
  });

  it('applies the next valid event, over MQTT and over HTTP', async () => {
    await pos.publishAsync(`${ROOT}/in/price`, JSON.stringify({ id: 'after-flood-1', source: 'pos', version: 100, type: 'price', data: { gtin: PRODUCTS[0]!.gtin, priceCents: 111 }, replyTo: `${ROOT}/reply/pos` }), { qos: 1 });
    const reply = await waitFor('reply', () => inbox.find((m) => (m.body as unknown as EventReply).eventId === 'after-flood-1'));
    expect(reply.body).toMatchObject({ status: 'applied' });
    const res = await daemon.http.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'after-flood-2', source: 'erp', version: 101, type: 'price', data: { gtin: PRODUCTS[0]!.gtin, priceCents: 112 } }),
    });
    expect(res.json()).toMatchObject({ status: 'applied' });
    const price = await daemon.db.get<{ cents: number }>('SELECT cents FROM prices WHERE gtin = ? ORDER BY valid_from DESC LIMIT 1', [PRODUCTS[0]!.gtin]);
    expect(price?.cents).toBe(112);
  });
});
