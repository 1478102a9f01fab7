/**
 * What the edge publishes must fit the broker's packet limit: a broker refuses a larger message by closing the
 * connection (MQTT 3.1.1 has no negative PUBACK), so one oversized outbox message would cut the edge off its
 * broker — and from its APs — once a second, forever (seen in bench/full-store at 2,000 labels, whose audit report
 * listed every pending label). The audit report trims its exceptions to the limit, and an outbox message that
 * cannot fit is dead-lettered and skipped, so the messages behind it are still delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { enqueue } from '../../src/domain/outbox/outbox.js';
import type { HqAuditReport } from '../../src/domain/audit/audit-reporter.js';
import { LABELS, PRODUCTS, ROOT, USERS, authHeaders, catalogueBatch, connectClient, startTestDaemon, tempDir, waitFor } from '../support/edge-fixture.js';

const LIMIT = 16 * 1024;
const BOUND = 300;

describe('messages the edge publishes fit the broker limit', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let observer: MqttClient;
  const received: { topic: string; bytes: number; body: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    daemon = await startTestDaemon(`${tmp.dir}/edge`, {
      mqtt: {
        embedded: { enabled: true, host: '127.0.0.1', port: 0, maxPacketBytes: LIMIT },
        users: [...Object.values(USERS), { username: 'observer', password: 'observer-password', role: 'observer' }],
      },
    });
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    // 300 labels bound, none of them ever seen by an AP: 300 exceptions, far more than 16 kB of report.
    const events = Array.from({ length: BOUND }, (_, i) => ({
      id: `bind-${i}`,
      source: 'test',
      version: 1,
      type: 'binding',
      data: { labelId: `00FF00AA${i.toString(16).toUpperCase().padStart(8, '0')}`, gtin: PRODUCTS[i % PRODUCTS.length]!.gtin },
    }));
    const r = await daemon.intake.ingest(JSON.stringify({ id: 'bindings', source: 'test', version: 1, type: 'batch', data: { events } }), { channel: 'local' });
    expect(r.reply.status).toBe('applied');
    observer = await connectClient(daemon, { username: 'observer', password: 'observer-password' });
    await observer.subscribeAsync(`${ROOT}/out/#`, { qos: 1 });
    observer.on('message', (topic, p) => received.push({ topic, bytes: p.length, body: JSON.parse(p.toString()) as Record<string, unknown> }));
  });

  afterAll(async () => {
    await observer?.endAsync(true);
    await daemon?.stop();
    tmp.remove();
  });

  it('trims the audit report to the limit and counts what it left out', async () => {
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/audit/report', headers: authHeaders() });
    expect(res.statusCode).toBe(202);
    const id = (res.json() as { reportId: string }).reportId;
    const got = await waitFor('report delivered', () => received.find((m) => m.body.id === id));
    expect(got.bytes).toBeLessThanOrEqual(LIMIT);
    const report = got.body as unknown as HqAuditReport;
    expect(report.exceptions.length).toBeGreaterThan(0);
    expect(report.exceptionsOmitted).toBeGreaterThan(0);
    // The catalogue's own labels are not seen by an AP either.
    expect(report.exceptions.length + report.exceptionsOmitted).toBe(BOUND + LABELS.length);
    expect(report.total).toBeGreaterThanOrEqual(BOUND);
  });

  it('dead-letters an outbox message too large for the broker and delivers the ones behind it', async () => {
    const now = Date.now();
    await daemon.db.transaction(async (tx) => {
      await enqueue(tx, { id: 'huge-1', topic: 'out/alert', payload: { blob: 'x'.repeat(LIMIT * 2) } }, now);
      await enqueue(tx, { id: 'after-huge-1', topic: 'out/alert', payload: { ok: true } }, now);
    });
    // The report route kicks the outbox; its own report queues behind the two messages.
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/audit/report', headers: authHeaders() });
    const reportId = (res.json() as { reportId: string }).reportId;
    await waitFor('message behind the oversized one delivered', () => received.some((m) => m.body.ok === true));
    await waitFor('report delivered', () => received.some((m) => m.body.id === reportId));
    expect(received.some((m) => 'blob' in m.body)).toBe(false);
    const dead = await daemon.db.get<{ code: string; event_id: string; channel: string; reason: string }>(
      "SELECT code, event_id, channel, reason FROM dead_letters WHERE event_id = 'huge-1'",
    );
    expect(dead).toMatchObject({ code: 'OUTBOX_TOO_LARGE', channel: 'outbox-local' });
    expect(dead?.reason).toMatch(/at most 16384/);
    // Not retried: it is marked done, so nothing waits behind it.
    const left = await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_local IS NULL');
    expect(left?.n).toBe(0);
  });
});
