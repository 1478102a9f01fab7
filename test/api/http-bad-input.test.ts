/**
 * Defect 8 of issue 10: query values that fail validation answered 500 with an error-level log line. Every route's bad
 * inputs must answer 4xx with a coded body `{ error, message }` naming the problem, logged at info, never error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/core/logger.js';
import { LABELS, authHeaders, catalogueBatch, tempDir, testConfig } from '../support/edge-fixture.js';

describe('HTTP: bad input answers 4xx with a code, never 500', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  const lines: { level: number; evt?: string; status?: number; code?: string }[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as (typeof lines)[number]);
        cb();
      },
    });
    const config = testConfig(tmp.dir);
    daemon = await startDaemon(config, { log: createLogger({ level: 'info', destination: sink }), listenHttp: false });
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  const label = LABELS[0]!.labelId;
  const json = { ...authHeaders(), 'content-type': 'application/json' };
  const cases: { name: string; method: 'GET' | 'POST'; url: string; payload?: string; headers?: Record<string, string>; status: number; code: string; message?: RegExp }[] = [
    { name: 'dead-letters limit=0', method: 'GET', url: '/api/v1/dead-letters?limit=0', status: 400, code: 'HTTP_BAD_QUERY', message: /limit/ },
    { name: 'dead-letters limit=abc', method: 'GET', url: '/api/v1/dead-letters?limit=abc', status: 400, code: 'HTTP_BAD_QUERY', message: /limit/ },
    { name: 'dead-letters limit=-1', method: 'GET', url: '/api/v1/dead-letters?limit=-1', status: 400, code: 'HTTP_BAD_QUERY', message: /limit/ },
    { name: 'dead-letters limit=1001', method: 'GET', url: '/api/v1/dead-letters?limit=1001', status: 400, code: 'HTTP_BAD_QUERY', message: /limit/ },
    { name: 'dead-letters limit=1.5', method: 'GET', url: '/api/v1/dead-letters?limit=1.5', status: 400, code: 'HTTP_BAD_QUERY', message: /limit/ },
    { name: 'dead-letters limit twice', method: 'GET', url: '/api/v1/dead-letters?limit=1&limit=2', status: 400, code: 'HTTP_BAD_QUERY', message: /limit/ },
    { name: 'labels gtin=abc', method: 'GET', url: '/api/v1/labels?gtin=abc', status: 400, code: 'HTTP_BAD_QUERY', message: /gtin/ },
    { name: 'labels gtin too long', method: 'GET', url: `/api/v1/labels?gtin=${'1'.repeat(15)}`, status: 400, code: 'HTTP_BAD_QUERY', message: /gtin/ },
    { name: 'audit status=bogus', method: 'GET', url: '/api/v1/audit?status=bogus', status: 400, code: 'HTTP_BAD_QUERY', message: /status/ },
    { name: 'audit format=xml', method: 'GET', url: '/api/v1/audit?format=xml', status: 400, code: 'HTTP_BAD_QUERY', message: /format/ },
    { name: 'label id lower-case', method: 'GET', url: `/api/v1/labels/${label.toLowerCase()}`, status: 400, code: 'HTTP_BAD_LABEL_ID' },
    { name: 'label id too short', method: 'GET', url: '/api/v1/labels/ABC', status: 400, code: 'HTTP_BAD_LABEL_ID' },
    { name: 'image bad id', method: 'GET', url: '/api/v1/labels/xyz/image.png', status: 400, code: 'HTTP_BAD_LABEL_ID' },
    { name: 'image scale=0', method: 'GET', url: `/api/v1/labels/${label}/image.png?scale=0`, status: 400, code: 'HTTP_BAD_QUERY', message: /scale/ },
    { name: 'image scale=abc', method: 'GET', url: `/api/v1/labels/${label}/image.png?scale=abc`, status: 400, code: 'HTTP_BAD_QUERY', message: /scale/ },
    { name: 'image which=next', method: 'GET', url: `/api/v1/labels/${label}/image.png?which=next`, status: 400, code: 'HTTP_BAD_QUERY', message: /which/ },
    { name: 'preview page=abc', method: 'GET', url: '/api/v1/templates/price-standard/preview.png?page=abc', status: 400, code: 'HTTP_BAD_QUERY', message: /page/ },
    { name: 'preview scale=99', method: 'GET', url: '/api/v1/templates/price-standard/preview.png?scale=99', status: 400, code: 'HTTP_BAD_QUERY', message: /scale/ },
    { name: 'preview unknown label type', method: 'GET', url: '/api/v1/templates/price-standard/preview.png?labelType=nope', status: 400, code: 'LABEL_TYPE_UNKNOWN' },
    { name: 'preview post bad content', method: 'POST', url: '/api/v1/templates/price-standard/preview.png', payload: '{"gtin":"abc"}', headers: json, status: 400, code: 'HTTP_BAD_REQUEST' },
    { name: 'preview post not json', method: 'POST', url: '/api/v1/templates/price-standard/preview.png', payload: '{', headers: json, status: 400, code: 'HTTP_BAD_REQUEST' },
    { name: 'flash bad body', method: 'POST', url: `/api/v1/labels/${label}/flash`, payload: '{"repeat":0}', headers: json, status: 400, code: 'HTTP_BAD_REQUEST', message: /repeat/ },
    { name: 'flash bad colour', method: 'POST', url: `/api/v1/labels/${label}/flash`, payload: '{"colour":"pink"}', headers: json, status: 400, code: 'HTTP_BAD_REQUEST', message: /colour/ },
    { name: 'flash bad id', method: 'POST', url: '/api/v1/labels/nope/flash', payload: '{}', headers: json, status: 400, code: 'HTTP_BAD_LABEL_ID' },
    { name: 'pick without gtins', method: 'POST', url: '/api/v1/orders/pick', payload: '{"orderId":"o-1"}', headers: json, status: 400, code: 'HTTP_BAD_REQUEST', message: /gtins/ },
    { name: 'pick bad gtin', method: 'POST', url: '/api/v1/orders/pick', payload: '{"orderId":"o-1","gtins":["abc"]}', headers: json, status: 400, code: 'HTTP_BAD_REQUEST', message: /gtins/ },
    { name: 'event unknown type route', method: 'POST', url: '/api/v1/events/nosuchtype', payload: '{}', headers: json, status: 404, code: 'HTTP_NOT_FOUND' },
    { name: 'event wrong content type', method: 'POST', url: '/api/v1/events', payload: '<price/>', headers: { ...authHeaders(), 'content-type': 'application/xml' }, status: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' },
    { name: 'bad percent-encoding in a path', method: 'GET', url: '/api/v1/labels/%E0%A4%A', status: 400, code: 'FST_ERR_BAD_URL' },
  ];

  for (const c of cases) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = lines.length;
      const res = await daemon.http.inject({ method: c.method, url: c.url, headers: c.headers ?? authHeaders(), ...(c.payload !== undefined ? { payload: c.payload } : {}) });
      expect(res.statusCode).toBe(c.status);
      const body = res.json() as { error: string; message: string };
      expect(body.error).toBe(c.code);
      expect(typeof body.message).toBe('string');
      if (c.message) expect(body.message).toMatch(c.message);
      // Logged as the client's mistake, never at error level.
      expect(lines.slice(before).filter((l) => l.level >= 50)).toEqual([]);
    });
  }

  it('logs a refused query at info with its code', async () => {
    const before = lines.length;
    await daemon.http.inject({ method: 'GET', url: '/api/v1/dead-letters?limit=0', headers: authHeaders() });
    expect(lines.slice(before)).toContainEqual(expect.objectContaining({ level: 30, evt: 'http.bad_request', status: 400, code: 'HTTP_BAD_QUERY' }));
  });

  it('still answers valid queries', async () => {
    expect((await daemon.http.inject({ method: 'GET', url: '/api/v1/dead-letters?limit=5', headers: authHeaders() })).statusCode).toBe(200);
    const labels = await daemon.http.inject({ method: 'GET', url: `/api/v1/labels?gtin=${LABELS[0]!.gtin}`, headers: authHeaders() });
    expect(labels.statusCode).toBe(200);
    expect((labels.json() as { total: number }).total).toBe(2);
    expect((await daemon.http.inject({ method: 'GET', url: '/api/v1/audit?status=pending&format=csv', headers: authHeaders() })).statusCode).toBe(200);
  });
});
