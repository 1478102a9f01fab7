/**
 * Issue 10, defects 3–5: MQTT 3.1.1 conformance where the spec is clear, strict topic routing, and replies only
 * under the requester's own reply prefix (docs/decisions.md D24, D25). Raw packets (test/support/raw-mqtt.ts)
 * where MQTT.js would refuse to send the bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { ROOT, USERS, connectClient, startTestDaemon, tempDir } from '../support/edge-fixture.js';
import { connackCode, mqttString, rawConnect, rawPublish, rawSubscribe, type RawClient } from '../support/raw-mqtt.js';

const HQ = { username: 'hq', password: 'hq-password-1', role: 'publisher' as const };

function priceEvent(id: string, cents: number, replyTo?: string): Buffer {
  return Buffer.from(JSON.stringify({ id, source: 'test', version: Date.now(), type: 'price', data: { gtin: '4006381333931', priceCents: cents, currency: 'EUR' }, ...(replyTo ? { replyTo } : {}) }));
}

describe('MQTT 3.1.1 conformance, strict topics and reply scope', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir, { mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [...Object.values(USERS), HQ] } });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  const counts = async () => ({
    events: (await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM events'))!.n,
    deadLetters: (await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM dead_letters'))!.n,
  });

  const posConnected = async (): Promise<RawClient> => {
    const c = await rawConnect({ port: daemon.mqttPort, username: USERS.pos.username, password: USERS.pos.password, clientId: `pos-raw-${Math.random().toString(16).slice(2)}` });
    expect((await c.next())?.cmd).toBe('connack');
    return c;
  };

  /** Publishes QoS 1 on a raw connection; returns 'closed' if the broker closed it, 'puback' if it acknowledged. */
  const publishOutcome = async (c: RawClient, bytes: Buffer): Promise<'closed' | 'puback'> => {
    c.sendBytes(bytes);
    const p = await c.next();
    return p === null ? 'closed' : p.cmd === 'puback' ? 'puback' : 'closed';
  };

  it('accepts keepalive 0 ([MQTT-3.1.2-10]: it turns the mechanism off) and the largest keepalive', async () => {
    for (const keepalive of [0, 65_535]) {
      const { code, client } = await connackCode({ port: daemon.mqttPort, username: USERS.pos.username, password: USERS.pos.password, clientId: `ka-${keepalive}`, keepalive });
      expect(code).toBe(0);
      client.end();
    }
  });

  it('answers only CONNACK codes of §3.2.2.3: 1 for an unsupported protocol level [MQTT-3.1.2-2], 4 for a bad password', async () => {
    const c = await rawConnect({ port: daemon.mqttPort, username: USERS.pos.username, password: 'wrong-password', clientId: 'bad-pass' });
    expect(((await c.next()) as { returnCode?: number } | null)?.returnCode).toBe(4);
    c.end();
    // CONNECT with Protocol Level 5 (an MQTT 5 client; this broker speaks 3.1.1): written by hand, flags 0x02 = clean
    // session, keepalive 60, an empty MQTT 5 properties block, client id "v5".
    const socket = connect(daemon.mqttPort, '127.0.0.1');
    const body = Buffer.concat([mqttString('MQTT'), Buffer.from([5, 0x02, 0, 60, 0]), mqttString('v5')]);
    socket.write(Buffer.concat([Buffer.from([0x10, body.length]), body]));
    const reply = await new Promise<Buffer>((r) => {
      const chunks: Buffer[] = [];
      socket.on('data', (d) => chunks.push(d));
      socket.on('close', () => r(Buffer.concat(chunks)));
      socket.on('error', () => undefined);
    });
    expect([...reply]).toEqual([0x20, 0x02, 0x00, 0x01]); // CONNACK, return code 1, then the connection closed
  });

  it('accepts a zero-length client id with clean session 1 [MQTT-3.1.3-6] and refuses it with clean 0 by CONNACK 2 [MQTT-3.1.3-8]', async () => {
    const ok = await connackCode({ port: daemon.mqttPort, username: USERS.pos.username, password: USERS.pos.password, clientId: '', clean: true });
    expect(ok.code).toBe(0);
    ok.client.end();
    const refused = await connackCode({ port: daemon.mqttPort, username: USERS.pos.username, password: USERS.pos.password, clientId: '', clean: false });
    expect(refused.code).toBe(2);
    refused.client.end();
  });

  it('closes the connection on a topic name with U+0000 [MQTT-4.7.3-2] or ill-formed UTF-8 [MQTT-1.5.3-1], ingesting nothing', async () => {
    const before = await counts();
    const bad = [
      Buffer.concat([Buffer.from(`${ROOT}/in/price`), Buffer.from([0x00]), Buffer.from('x')]),
      Buffer.concat([Buffer.from(`${ROOT}/in/pri`), Buffer.from([0xc3, 0x28])]), // 0xC3 must be followed by 0x80–0xBF
      Buffer.concat([Buffer.from(`${ROOT}/in/`), Buffer.from([0xed, 0xa0, 0x80])]), // U+D800, a surrogate [MQTT-1.5.3-1]
      Buffer.concat([Buffer.from(`${ROOT}/in/price`), Buffer.from([0xff])]),
    ];
    for (const topic of bad) {
      const c = await posConnected();
      expect(await publishOutcome(c, rawPublish(topic, priceEvent(`bad-topic-${topic.length}`, 1)))).toBe('closed');
      await c.closed;
    }
    expect(await counts()).toEqual(before);
  });

  it('closes the connection on a topic filter with U+0000 or ill-formed UTF-8, and answers a refused filter with 0x80 (§3.9.3)', async () => {
    for (const filter of [Buffer.concat([Buffer.from(`${ROOT}/out/`), Buffer.from([0x00])]), Buffer.concat([Buffer.from(`${ROOT}/out/`), Buffer.from([0xc3, 0x28])])]) {
      const c = await posConnected();
      c.sendBytes(rawSubscribe(filter));
      expect(await c.next()).toBeNull();
      await c.closed;
    }
    const c = await posConnected();
    c.sendBytes(rawSubscribe(Buffer.from(`${ROOT}/ap/+/down`), 7));
    const suback = (await c.next()) as { cmd: string; messageId?: number; granted?: number[] };
    expect(suback).toMatchObject({ cmd: 'suback', messageId: 7, granted: [0x80] });
    c.sendBytes(rawSubscribe(Buffer.from(`${ROOT}/out/#`), 8));
    expect(await c.next()).toMatchObject({ cmd: 'suback', messageId: 8, granted: [1] });
    c.end();
  });

  it('refuses undocumented topics (closing the connection, [MQTT-3.3.5-2]) and never ingests them (defect 4)', async () => {
    const before = await counts();
    const topics = [`${ROOT}/in/price/extra`, `${ROOT}/in/nosuchtype`, `${ROOT}/in/`, `${ROOT}/in/${'x'.repeat(60_000)}`, `${ROOT}/req/nosuchrequest`, `${ROOT}/in`];
    for (const topic of topics) {
      const c = await posConnected();
      expect([topic.slice(0, 60), await publishOutcome(c, rawPublish(Buffer.from(topic), priceEvent(`undocumented-${topic.length}`, 2)))]).toEqual([topic.slice(0, 60), 'closed']);
      await c.closed;
    }
    expect(await counts()).toEqual(before);
    // An AP: only its own up and status topics (protocol §11.1).
    const ap = await rawConnect({ port: daemon.mqttPort, username: USERS.ap1.username, password: USERS.ap1.password, clientId: 'AP-1' });
    expect((await ap.next())?.cmd).toBe('connack');
    expect(await publishOutcome(ap, rawPublish(Buffer.from(`${ROOT}/ap/AP-1/status`), Buffer.from('online'), 1))).toBe('puback');
    expect(await publishOutcome(ap, rawPublish(Buffer.from(`${ROOT}/ap/AP-1/up/extra`), Buffer.from([1]), 2))).toBe('closed');
    // A documented topic still goes in.
    const c = await posConnected();
    expect(await publishOutcome(c, rawPublish(Buffer.from(`${ROOT}/in/price`), priceEvent('documented-1', 3)))).toBe('puback');
    c.end();
    expect((await counts()).events).toBe(before.events + 1);
  });

  describe('replies only under the requester\'s own reply prefix (defect 5)', () => {
    let pos: MqttClient;
    let hq: MqttClient;
    const hqGot: string[] = [];
    beforeAll(async () => {
      pos = await connectClient(daemon, USERS.pos);
      hq = await connectClient(daemon, HQ);
      hq.on('message', (topic) => hqGot.push(topic));
      await hq.subscribeAsync(`${ROOT}/reply/hq/#`, { qos: 1 });
    });
    afterAll(async () => {
      await pos?.endAsync(true);
      await hq?.endAsync(true);
    });

    /**
     * hq sends itself a reply and waits for it: the edge publishes replies in order on one connection, and the
     * broker forwards one connection's messages in order, so anything the edge sent to reply/hq/ before is there.
     */
    const sentinel = async (n: number) => {
      const got = new Promise<void>((r) => {
        const on = (topic: string) => topic === `${ROOT}/reply/hq/sentinel-${n}` && (hq.off('message', on), r());
        hq.on('message', on);
      });
      await hq.publishAsync(`${ROOT}/in/price`, priceEvent(`sentinel-${n}`, 50 + n, `${ROOT}/reply/hq/sentinel-${n}`), { qos: 1 });
      await got;
    };

    it("processes pos's event with replyTo under reply/hq/ but sends no reply there", async () => {
      await pos.publishAsync(`${ROOT}/in/price`, priceEvent('foreign-reply-1', 201, `${ROOT}/reply/hq/stolen`), { qos: 1 });
      await sentinel(1);
      expect(hqGot).not.toContain(`${ROOT}/reply/hq/stolen`);
      expect(await daemon.db.get('SELECT 1 AS ok FROM events WHERE id = ?', ['foreign-reply-1'])).toEqual({ ok: 1 });
      // Its own prefix still works, with and without further levels (README: replyTo "…/reply/pos").
      const own = new Promise<string>((r) => pos.once('message', (topic) => r(topic)));
      await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
      await pos.publishAsync(`${ROOT}/in/price`, priceEvent('own-reply-1', 202, `${ROOT}/reply/pos`), { qos: 1 });
      expect(await own).toBe(`${ROOT}/reply/pos`);
    });

    it('refuses a request whose replyTo is under another user\'s prefix (connection closed, nothing answered)', async () => {
      const c = await posConnected();
      const req = Buffer.from(JSON.stringify({ id: 'steal-1', replyTo: `${ROOT}/reply/hq/stolen-req` }));
      expect(await publishOutcome(c, rawPublish(Buffer.from(`${ROOT}/req/audit`), req))).toBe('closed');
      await sentinel(2);
      expect(hqGot).not.toContain(`${ROOT}/reply/hq/stolen-req`);
      // pos's own prefix: answered.
      const own = new Promise<string>((r) => {
        const on = (topic: string, payload: Buffer) => topic === `${ROOT}/reply/pos/req-1` && (pos.off('message', on), r(payload.toString('utf8')));
        pos.on('message', on);
      });
      await pos.publishAsync(`${ROOT}/req/audit`, JSON.stringify({ id: 'req-1', replyTo: `${ROOT}/reply/pos/req-1` }), { qos: 1 });
      expect(JSON.parse(await own)).toMatchObject({ id: 'req-1', status: 'ok' });
    });
  });
});
