/**
 * Security by default: the embedded broker refuses anonymous clients and wrong passwords and enforces per-client
 * topic ACLs; the HTTP API refuses requests without a valid bearer token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { connect } from 'node:net';
import type { Daemon } from '../../src/daemon.js';
import { ROOT, TOKEN, USERS, authHeaders, connectClient, startTestDaemon, tempDir } from '../support/edge-fixture.js';

describe('authentication and authorisation', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir);
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  const connackCode = async (opts: mqtt.IClientOptions): Promise<number | string> => {
    try {
      const c = await mqtt.connectAsync(daemon.mqttUrl, { reconnectPeriod: 0, connectTimeout: 3_000, ...opts });
      await c.endAsync();
      return 0;
    } catch (err) {
      return (err as { code?: number | string }).code ?? String(err);
    }
  };

  it('refuses an anonymous MQTT client', async () => {
    expect(await connackCode({})).toBe(4);
  });

  it('refuses a wrong password and an unknown user', async () => {
    expect(await connackCode({ username: USERS.pos.username, password: 'wrong-password' })).toBe(4);
    expect(await connackCode({ username: 'nobody', password: 'whatever-password' })).toBe(4);
  });

  it('accepts the configured credentials', async () => {
    expect(await connackCode({ username: USERS.pos.username, password: USERS.pos.password })).toBe(0);
  });

  it('refuses an empty client id with clean=false (MQTT 3.1.1 [MQTT-3.1.3-8])', async () => {
    // MQTT.js refuses to send such a CONNECT, so write the packet by hand, as a non-conforming client would.
    const socket = connect(daemon.mqttPort, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const connack = new Promise<{ returnCode?: number }>((resolve) => parser.on('packet', (p) => resolve(p as { returnCode?: number })));
    socket.on('data', (d) => parser.parse(d));
    const str = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
    };
    // CONNECT, MQTT 3.1.1: flags 0xC0 = user name + password, clean session 0; client id of length 0.
    const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc0, 0, 30]), str(''), str(USERS.pos.username), str(USERS.pos.password)]);
    socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    expect((await connack).returnCode).toBe(2);
    socket.destroy();
  });

  it('lets an AP subscribe only to its own downlink', async () => {
    // An AP connects with its apId as client id (protocol §11.3; the broker refuses others, D24).
    const ap = await connectClient(daemon, USERS.ap1, { clientId: USERS.ap1.apId });
    const own = await ap.subscribeAsync(`${ROOT}/ap/AP-1/down`, { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    // The broker answers SUBACK 0x80 (failure); MQTT.js turns that into a rejected promise.
    await expect(ap.subscribeAsync(`${ROOT}/ap/AP-2/down`, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(ap.subscribeAsync(`${ROOT}/ap/+/down`, { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await ap.endAsync();
  });

  it('does not deliver an event published by an AP user (not a publisher)', async () => {
    const ap = await connectClient(daemon, USERS.ap1, { clientId: USERS.ap1.apId });
    const before = await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM events');
    // aedes refuses the publish and closes the connection of a client that publishes where it may not.
    const closed = new Promise<void>((r) => ap.once('close', () => r()));
    void ap.publishAsync(`${ROOT}/in/price`, JSON.stringify({ id: 'evil', source: 'ap', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 1 } }), { qos: 1 }).catch(() => undefined);
    await closed;
    const after = await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM events');
    expect(after?.n).toBe(before?.n);
    await ap.endAsync(true);
  });

  it('answers 401 without a token or with a wrong one, 200 with the right one', async () => {
    const none = await daemon.http.inject({ method: 'GET', url: '/api/v1/audit' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: 'HTTP_UNAUTHORIZED' });
    const wrong = await daemon.http.inject({ method: 'GET', url: '/api/v1/audit', headers: authHeaders(`${TOKEN}x`) });
    expect(wrong.statusCode).toBe(401);
    const events = await daemon.http.inject({ method: 'POST', url: '/api/v1/events', payload: '{}', headers: { 'content-type': 'application/json' } });
    expect(events.statusCode).toBe(401);
    const ok = await daemon.http.inject({ method: 'GET', url: '/api/v1/audit', headers: authHeaders() });
    expect(ok.statusCode).toBe(200);
    const health = await daemon.http.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  });

  it('serves the OpenAPI description at /docs without a token, documenting the event intake', async () => {
    const res = await daemon.http.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const api = res.json() as { openapi: string; paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } };
    expect(api.openapi).toMatch(/^3\./);
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/api/v1/events', '/api/v1/audit', '/api/v1/labels/{id}/image.png']));
    expect(api.components.securitySchemes).toHaveProperty('bearer');
    expect(JSON.stringify(api.paths['/api/v1/events'])).toContain('priceCents');
  });

  it('previews any template on any label type with sample data, and with posted content', async () => {
    const list = await daemon.http.inject({ method: 'GET', url: '/api/v1/templates', headers: authHeaders() });
    expect(list.json().templates).toEqual(expect.arrayContaining(['price-standard', 'price-promotion']));
    const png = await daemon.http.inject({ method: 'GET', url: '/api/v1/templates/price-promotion/preview.png?labelType=epd-42-bwry&scale=1', headers: authHeaders() });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    const { default: sharp } = await import('../../src/domain/rendering/sharp.js');
    expect(await sharp(png.rawPayload).metadata()).toMatchObject({ width: 400, height: 300 });
    const posted = await daemon.http.inject({
      method: 'POST',
      url: '/api/v1/templates/price-standard/preview.png?labelType=epd-154-bw',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      payload: JSON.stringify({ gtin: '4006381333931', name: 'Bergkäse am Stück', brand: 'Allgäuer', packSize: '200 g', priceCents: 399, currency: 'EUR', unitPrice: { cents: 1995, per: '1 kg' } }),
    });
    expect(posted.statusCode).toBe(200);
    expect(posted.headers['x-content-hash']).toMatch(/^[0-9a-f]{16}$/);
    const unknown = await daemon.http.inject({ method: 'GET', url: '/api/v1/templates/nope/preview.png', headers: authHeaders() });
    expect(unknown.statusCode).toBe(404);
    const badType = await daemon.http.inject({ method: 'GET', url: '/api/v1/templates/price-standard/preview.png?labelType=epd-99', headers: authHeaders() });
    expect(badType.statusCode).toBe(400);
  });
});
