/**
 * The store operations over MQTT (issue 15): the one request handler (src/transport/mqtt-request-source.ts) answers
 * `…/req/{kind}` on the request's `replyTo` with the same `id`, by the same operations the HTTP routes call. A real
 * daemon with its embedded aedes broker and a real MQTT client (the `pos` publisher); the operations themselves are
 * tested in test/operations/store-operations.test.ts, HTTP in test/api/operations-http.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { REQUEST_KINDS } from '#contracts';
import { LABELS, PRODUCTS, ROOT, USERS, catalogueBatch, connectClient, startTestDaemon, tempDir } from '../support/edge-fixture.js';

describe('store operations over MQTT', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let pos: MqttClient;
  const waiting = new Map<string, (body: Record<string, unknown>) => void>();
  let n = 0;
  const request = (kind: string, input: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = `r${++n}`;
      waiting.set(id, resolve);
      pos.publishAsync(`${ROOT}/req/${kind}`, JSON.stringify({ id, replyTo: `${ROOT}/reply/pos/${kind}`, ...input }), { qos: 1 }).catch(reject);
    });

  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir);
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    pos = await connectClient(daemon, USERS.pos);
    pos.on('message', (_topic, p) => {
      const body = JSON.parse(p.toString()) as Record<string, unknown>;
      waiting.get(body.id as string)?.(body);
    });
    await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
  }, 120_000);
  afterAll(async () => {
    await pos?.endAsync();
    await daemon?.stop();
    tmp.remove();
  });

  it('offers exactly the documented request kinds', () => {
    expect([...REQUEST_KINDS].sort()).toEqual(['audit', 'bind', 'flash', 'pick', 'report', 'resend']);
  });

  it('flash and pick answer with the operation\'s result', async () => {
    expect(await request('flash', { labelId: LABELS[1]!.labelId })).toMatchObject({ status: 'ok', result: { labelId: LABELS[1]!.labelId, outcome: 'no_ap' } });
    const pick = await request('pick', { orderId: 'CC-5', gtins: [PRODUCTS[2]!.gtin, '4000417025012'] });
    expect(pick).toMatchObject({ status: 'ok', result: { orderId: 'CC-5', missingGtins: ['4000417025012'] } });
    expect((pick.result as { results: { labelId: string }[] }).results.map((r) => r.labelId)).toEqual([LABELS[2]!.labelId]);
  });

  it('bind, unbind and resend change the label as over HTTP', async () => {
    const id = '0000AABBCC0000F2';
    expect(await request('bind', { labelId: id, gtin: PRODUCTS[0]!.gtin })).toMatchObject({ status: 'ok', result: { status: 'applied' } });
    expect(daemon.labels.get(id)?.gtin).toBe(PRODUCTS[0]!.gtin);
    expect(await request('resend', { labelId: id })).toMatchObject({ status: 'ok', result: { labelId: id, outcome: 'nothing_to_send' } });
    expect(await request('bind', { labelId: id, gtin: null })).toMatchObject({ status: 'ok', result: { status: 'applied' } });
    expect(daemon.labels.get(id)?.gtin).toBeNull();
  });

  it('audit answers the HQ summary at once; report queues one and answers its id', async () => {
    const audit = await request('audit');
    expect(audit).toMatchObject({ status: 'ok', result: { chain: 'testchain', store: 'store-1', total: daemon.labels.size } });
    const report = await request('report');
    expect((report.result as { reportId: string }).reportId).toMatch(/^testchain-store-1-audit-\d+$/);
  });

  it('a body that fails the operation\'s schema is answered REQUEST_SCHEMA naming the field', async () => {
    const bad = await request('flash', { labelId: 'nope' });
    expect(bad).toMatchObject({ status: 'error', code: 'REQUEST_SCHEMA' });
    expect(bad.reason).toMatch(/labelId/);
    expect(await request('bind', { labelId: LABELS[0]!.labelId })).toMatchObject({ status: 'error', code: 'REQUEST_SCHEMA' });
  });
});
