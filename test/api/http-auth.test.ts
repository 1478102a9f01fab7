/**
 * Issue 10, HTTP half of defect 7: hashed tokens (plaintext still accepted, with a start-up warning) and a brake on
 * failed authentications per source address and per presented token (D27), on simulated time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createLogger } from '../../src/core/logger.js';
import { ManualClock } from '../../src/core/clock.js';
import { hashSecret } from '../../src/core/secret-hash.js';
import { tempDir, testConfig } from '../support/edge-fixture.js';

const HQ_TOKEN = 'hq-token-0123456789abcdef-hashed';
const POS_TOKEN = 'pos-token-0123456789abcdef-plain';
const OPS_TOKEN = 'ops-token-0123456789abcdef-hashed';
const ATTACKER = '10.0.0.66';

describe('HTTP authentication: hashed tokens and failure limits', () => {
  const tmp = tempDir();
  const clock = new ManualClock(Date.UTC(2026, 10, 30, 6, 0, 0));
  let daemon: Daemon;
  let logText = '';
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logText += chunk.toString('utf8');
        cb();
      },
    });
    const config = testConfig(tmp.dir, {
      http: {
        host: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'hq', token: await hashSecret(HQ_TOKEN, { logN: 12 }) },
          { name: 'pos', token: POS_TOKEN },
          { name: 'ops', token: await hashSecret(OPS_TOKEN, { logN: 12 }) },
        ],
        authLimits: { freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 30_000 },
      },
    });
    daemon = await startDaemon(config, { clock, log: createLogger({ level: 'info', destination: sink }), listenHttp: false });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  const get = (token: string | null, ip = '127.0.0.1') =>
    daemon.http.inject({ method: 'GET', url: '/api/v1/aps', remoteAddress: ip, headers: token === null ? {} : { authorization: `Bearer ${token}` } });

  it('warns at start-up about plaintext tokens by name, never printing a token', () => {
    const warn = logText.split('\n').find((l) => l.includes('config.plaintext_secret') && l.includes('http.tokens'));
    expect(warn).toBeDefined();
    expect(JSON.parse(warn!)).toMatchObject({ level: 40, names: ['pos'], where: 'http.tokens' });
    expect(logText).not.toContain(POS_TOKEN);
    expect(logText).not.toContain(HQ_TOKEN);
  });

  it('accepts a hashed token and a plaintext one, refuses a wrong one', async () => {
    expect((await get(HQ_TOKEN)).statusCode).toBe(200);
    expect((await get(POS_TOKEN)).statusCode).toBe(200);
    expect((await get(`${HQ_TOKEN}x`, '10.0.0.1')).statusCode).toBe(401);
    expect((await get(null, '10.0.0.2')).statusCode).toBe(401);
  });

  it('checks one hash at a time per source; parallel requests with one new token share the check', async () => {
    const same = await Promise.all(Array.from({ length: 10 }, () => get(OPS_TOKEN, '10.3.0.1')));
    expect(same.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    const different = await Promise.all(Array.from({ length: 10 }, (_, i) => get(`parallel-wrong-${i}-0123456789`, '10.3.0.2')));
    const codes = different.map((r) => r.statusCode).sort();
    // One wrong token is checked (401); the others are refused at once while it is in flight (429, Retry-After 1).
    expect(codes).toEqual([401, ...Array(9).fill(429)]);
    expect(different.find((r) => r.statusCode === 429)?.headers['retry-after']).toBe('1');
  });

  it('slows a flood of wrong tokens from one source down with 429 + Retry-After, capped', async () => {
    const statuses: number[] = [];
    const retryAfter: number[] = [];
    for (let i = 0; i < 500; i++) {
      const r = await get(`wrong-token-${i}-0123456789`, ATTACKER);
      statuses.push(r.statusCode);
      if (r.statusCode === 429) {
        retryAfter.push(Number(r.headers['retry-after']));
        expect(r.json()).toMatchObject({ error: 'HTTP_AUTH_RATE_LIMITED' });
      }
      // The attacker waits out every delay: the growing delay must hold and stay capped.
      if (i % 50 === 49) clock.advance(Number(r.headers['retry-after'] ?? 0) * 1000);
    }
    expect(statuses.slice(0, 6)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(statuses[6]).toBe(429);
    // Only the 6 free failures plus one try per waited-out delay got as far as checking a token.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6 + 10);
    expect(Math.max(...retryAfter)).toBeLessThanOrEqual(30);
    expect(Math.min(...retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('limits a wrong token wherever it comes from (per presented token)', async () => {
    const token = 'guessed-token-from-many-places';
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await get(token, `10.1.0.${i + 1}`)).statusCode);
    expect(statuses.slice(0, 6).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(6)).toEqual([429, 429]);
  });

  it('does not delay a correct request during the flood: no wait, no 429', async () => {
    // A client never seen before, on another address, while the attacker is blocked…
    await get('still-guessing-0123456788', ATTACKER); // the flood's last delay was waited out: this one blocks again
    const blocked = await get('still-guessing-0123456789', ATTACKER);
    expect(blocked.statusCode).toBe(429);
    expect((await get(HQ_TOKEN, '10.2.0.1')).statusCode).toBe(200);
    // …and a known-good token from the attacker's own address (a shared proxy) is not locked out either.
    expect((await get(POS_TOKEN, ATTACKER)).statusCode).toBe(200);
  });

  it('lets the source try again once the delay has passed', async () => {
    const r = await get('one-more-wrong-token-0123', ATTACKER);
    expect(r.statusCode).toBe(429);
    clock.advance(Number(r.headers['retry-after']) * 1000);
    expect((await get('one-more-wrong-token-0124', ATTACKER)).statusCode).toBe(401);
  });

  it('counts failures in esl_edge_http_auth_failures_total', async () => {
    const m = await daemon.http.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${POS_TOKEN}` } });
    const value = (reason: string) => Number(new RegExp(`esl_edge_http_auth_failures_total\\{reason="${reason}"\\} (\\d+)`).exec(m.body)?.[1]);
    expect(value('limited')).toBeGreaterThan(400);
    expect(value('wrong')).toBeGreaterThanOrEqual(16);
    expect(value('missing')).toBe(1);
  });

  it('exports the database queue timing as esl_edge_db_queue_ms (D137)', async () => {
    const m = await daemon.http.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${POS_TOKEN}` } });
    // The daemon's start-up alone ran jobs through the queue.
    const holds = Number(/esl_edge_db_queue_ms_count\{stage="hold"\} (\d+)/.exec(m.body)?.[1]);
    expect(holds).toBeGreaterThan(0);
    expect(m.body).toMatch(/esl_edge_db_queue_ms_bucket\{stage="normal_wait",le="\+Inf"\} \d+/);
  });
});
