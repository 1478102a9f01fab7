/**
 * HTTPS for the API (issue 10): with `http.tls` the API speaks only TLS; a client that verifies the certificate
 * against the store's CA connects, one that does not trust the CA is refused, and plain HTTP gets no answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon.js';
import { loadConfig } from '../../src/config/load-config.js';
import { TOKEN, startTestDaemon, tempDir } from '../support/edge-fixture.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

function get(url: string, opts: { ca?: Buffer; token?: string }): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, {
    ...(opts.ca ? { ca: opts.ca } : {}),
    rejectUnauthorized: true,
    headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
  });
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('HTTPS', () => {
  const tmp = tempDir();
  let ca: TestCa;
  let daemon: Daemon;
  beforeAll(async () => {
    ca = makeTestCa(tmp.dir);
    daemon = await startTestDaemon(join(tmp.dir, 'data'), {
      http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'test', token: TOKEN }], tls: { cert: ca.serverCert, key: ca.serverKey } },
    });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  it('serves the API over TLS to a client that verifies the certificate (by IP and by name)', async () => {
    const caPem = readFileSync(ca.caCert);
    const health = await get(`https://127.0.0.1:${daemon.httpPort}/health`, { ca: caPem });
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const audit = await get(`https://localhost:${daemon.httpPort}/api/v1/audit`, { ca: caPem, token: TOKEN });
    expect(audit.status).toBe(200);
  });

  it('is refused by a client that does not trust the CA', async () => {
    await expect(get(`https://127.0.0.1:${daemon.httpPort}/health`, {})).rejects.toThrow(/self.signed|unable to (get|verify)/i);
  });

  it('does not answer plain HTTP with data', async () => {
    const r = await get(`http://127.0.0.1:${daemon.httpPort}/health`, {}).catch((err: Error) => err);
    // Node's TLS server answers a plaintext request with a 400 and closes, or resets the connection.
    if (r instanceof Error) expect(r.message).toMatch(/socket hang up|ECONNRESET|parse/i);
    else expect(r.status).toBe(400);
  });

  it('resolves relative certificate paths against the config file', () => {
    const file = join(tmp.dir, 'config.json');
    writeFileSync(file, JSON.stringify({ store: { chain: 'c', id: 's' }, mqtt: {}, http: { tokens: [{ name: 't', token: TOKEN }], tls: { cert: 'server.crt', key: 'server.key' } } }));
    const { config } = loadConfig(file, {});
    expect(config.http.tls).toEqual({ cert: ca.serverCert, key: ca.serverKey });
  });
});
