/**
 * The store operations over HTTP (issue 15): one fastify plugin per resource calls each operation; here every route
 * is driven with inject() on a real daemon (sqlite file, embedded broker) and its answer checked against the
 * operation's result: status code by outcome, input errors as coded 400s. The operations themselves are tested in
 * test/operations/store-operations.test.ts; MQTT in test/transport/mqtt-requests.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { BLANK_HASH } from '#protocol';
import { LABELS, PRODUCTS, authHeaders, catalogueBatch, startTestDaemon, tempDir } from '../support/edge-fixture.js';

describe('store operations over HTTP', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  const post = (url: string, body?: unknown) =>
    daemon.http.inject({ method: 'POST', url, headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const get = (url: string) => daemon.http.inject({ method: 'GET', url, headers: authHeaders() });

  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir, {}, {});
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    // One label heard at AP-1 (which is not connected): a flash reaches the gateway and finds the AP offline.
    await daemon.dispatcher.labelCheckin('AP-1', { type: 'LABEL_CHECKIN', labelId: LABELS[0]!.labelId, labelType: LABELS[0]!.labelType, displayedHash: BLANK_HASH, page: 0, batteryMv: 3000, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: 0, pendingTransferId: 0 });
  }, 120_000);
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  it('flash: 503 when the AP is unreachable, 409 when the label has no AP, 404 unknown, 400 bad id or body', async () => {
    const r = await post(`/api/v1/labels/${LABELS[0]!.labelId}/flash`, { colour: 'red' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ labelId: LABELS[0]!.labelId, apId: 'AP-1', outcome: 'ap_unreachable' });
    expect((await post(`/api/v1/labels/${LABELS[1]!.labelId}/flash`)).json()).toMatchObject({ outcome: 'no_ap' });
    expect((await post(`/api/v1/labels/${LABELS[1]!.labelId}/flash`)).statusCode).toBe(409);
    expect((await post('/api/v1/labels/00000000000000FF/flash')).statusCode).toBe(404);
    const badId = await post('/api/v1/labels/xyz/flash');
    expect([badId.statusCode, badId.json().error]).toEqual([400, 'HTTP_BAD_LABEL_ID']);
    const badBody = await post(`/api/v1/labels/${LABELS[0]!.labelId}/flash`, '{"colour":"pink"}');
    expect([badBody.statusCode, badBody.json().error]).toEqual([400, 'HTTP_BAD_REQUEST']);
    expect(badBody.json().message).toMatch(/colour/);
  });

  it('pick: 202 with each label\'s outcome and the products without a label', async () => {
    const r = await post('/api/v1/orders/pick', { orderId: 'CC-9', gtins: [PRODUCTS[0]!.gtin, '4000417025012'] });
    expect(r.statusCode).toBe(202);
    expect(r.json().missingGtins).toEqual(['4000417025012']);
    expect(r.json().results.map((x: { labelId: string }) => x.labelId).sort()).toEqual([LABELS[0]!.labelId, LABELS[3]!.labelId]);
    expect((await post('/api/v1/orders/pick', { orderId: 'CC-9', gtins: [] })).json().error).toBe('HTTP_BAD_REQUEST');
  });

  it('bind and unbind: the intake\'s reply, the label bound and unbound', async () => {
    const id = '0000AABBCC0000F1';
    const bound = await post(`/api/v1/labels/${id}/bind`, { gtin: PRODUCTS[1]!.gtin });
    expect([bound.statusCode, bound.json().status]).toEqual([200, 'applied']);
    expect(daemon.labels.get(id)?.gtin).toBe(PRODUCTS[1]!.gtin);
    const unbound = await post(`/api/v1/labels/${id}/unbind`);
    expect([unbound.statusCode, unbound.json().status]).toEqual([200, 'applied']);
    expect(daemon.labels.get(id)?.gtin).toBeNull();
    expect((await post(`/api/v1/labels/${id}/bind`, { gtin: '4006381333932' })).statusCode).toBe(400);
    expect((await post(`/api/v1/labels/${id}/bind`, { gtin: PRODUCTS[1]!.gtin, extra: 1 })).statusCode).toBe(400);
  });

  it('resend: 404 for an unknown label, 409 with the reason when there is nothing to send', async () => {
    expect((await post('/api/v1/labels/00000000000000FF/resend')).statusCode).toBe(404);
    const r = await post('/api/v1/labels/0000AABBCC0000F1/resend');
    expect([r.statusCode, r.json().outcome]).toEqual([409, 'nothing_to_send']);
  });

  it('audit, its summary and a report on demand', async () => {
    const audit = await get('/api/v1/audit?status=unbound');
    expect(audit.statusCode).toBe(200);
    expect(audit.json().labels.map((l: { labelId: string }) => l.labelId)).toContain('0000AABBCC0000F1');
    const summary = await get('/api/v1/audit/summary');
    expect(summary.statusCode).toBe(200);
    expect(summary.json()).toMatchObject({ chain: 'testchain', store: 'store-1', total: daemon.labels.size });
    expect((await get('/api/v1/audit/summary?status=nope')).json().error).toBe('HTTP_BAD_QUERY');
    const report = await post('/api/v1/audit/report');
    expect(report.statusCode).toBe(202);
    expect(report.json().reportId).toMatch(/^testchain-store-1-audit-\d+$/);
  });
});
