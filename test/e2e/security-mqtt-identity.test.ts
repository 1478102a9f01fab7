/**
 * Issue 10, defects 1 and 2: client ids are bound to users (docs/decisions.md D24). A user connects only with the
 * ids its role allows; an id held (connected, or owning a persistent session) by one user is refused to every
 * other user with CONNACK 2 "Identifier rejected" (MQTT 3.1.1 §3.2.2.3) — never a takeover [MQTT-3.1.4-2], never
 * a hand-over of queued messages [MQTT-3.1.2-4] — while the same user may still take over its own id.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { startDaemon } from '../../src/daemon.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/core/logger.js';
import { CHAIN, ROOT, STORE, USERS, connectClient, startTestDaemon, tempDir, testConfig } from '../support/edge-fixture.js';
import { connackCode } from '../support/raw-mqtt.js';

const EDGE_ID = `esl-edge-${CHAIN}-${STORE}`;
const HQ = { username: 'hq', password: 'hq-password-1', role: 'publisher' as const };
const DASH = { username: 'dash', password: 'dash-password', role: 'observer' as const };
const PINNED = { username: 'pinned', password: 'pinned-password', role: 'publisher' as const, clientIds: ['pinned-*'] };

function priceEvent(id: string, cents: number, replyTo?: string): string {
  return JSON.stringify({ id, source: 'test', version: Date.now(), type: 'price', data: { gtin: '4006381333931', priceCents: cents, currency: 'EUR' }, ...(replyTo ? { replyTo } : {}) });
}

async function code(daemon: Daemon, user: { username: string; password: string }, clientId: string, clean = true): Promise<number | null> {
  const { code: c, client } = await connackCode({ port: daemon.mqttPort, username: user.username, password: user.password, clientId, clean });
  client.end();
  return c;
}

function nextMessage(client: MqttClient, topicPrefix: string): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) => {
    const on = (topic: string, payload: Buffer) => {
      if (!topic.startsWith(topicPrefix)) return;
      client.off('message', on);
      resolve({ topic, payload: payload.toString('utf8') });
    };
    client.on('message', on);
  });
}

describe('client ids bound to users (test fixture users)', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  beforeAll(async () => {
    const base = testConfig(tmp.dir);
    daemon = await startTestDaemon(tmp.dir, { mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [...Object.values(USERS), HQ, DASH, PINNED] } });
    expect(base.mqtt.users.length).toBe(3);
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  it('lets every role connect with the ids it is allowed and refuses the others with CONNACK 2', async () => {
    // AP: only its apId (protocol §11.3).
    expect(await code(daemon, USERS.ap1, 'AP-1')).toBe(0);
    expect(await code(daemon, USERS.ap1, 'AP-2')).toBe(2);
    expect(await code(daemon, USERS.ap1, 'ap-1-other')).toBe(2);
    expect(await code(daemon, USERS.ap1, EDGE_ID)).toBe(2);
    expect(await code(daemon, USERS.ap2, 'AP-2')).toBe(0);
    expect(await code(daemon, USERS.ap2, 'AP-1')).toBe(2);
    // AP: a zero-length id (server-assigned, [MQTT-3.1.3-6]) is not its apId either.
    expect(await code(daemon, USERS.ap1, '')).toBe(2);
    // Publisher without configured ids: any id nobody else claims; not an AP's, not the edge's, not a pinned one.
    expect(await code(daemon, USERS.pos, 'pos-terminal-7')).toBe(0);
    expect(await code(daemon, USERS.pos, '')).toBe(0);
    expect(await code(daemon, USERS.pos, EDGE_ID)).toBe(2);
    expect(await code(daemon, USERS.pos, 'esl-edge-anything')).toBe(2);
    expect(await code(daemon, USERS.pos, 'AP-1')).toBe(2);
    expect(await code(daemon, USERS.pos, 'pinned-1')).toBe(2);
    expect(await code(daemon, HQ, 'AP-2')).toBe(2);
    expect(await code(daemon, HQ, EDGE_ID)).toBe(2);
    // Publisher with configured ids: only those.
    expect(await code(daemon, PINNED, 'pinned-1')).toBe(0);
    expect(await code(daemon, PINNED, 'pos-terminal-7')).toBe(2);
    // Observer: like a publisher.
    expect(await code(daemon, DASH, 'dash-wall')).toBe(0);
    expect(await code(daemon, DASH, EDGE_ID)).toBe(2);
    expect(await code(daemon, DASH, 'AP-1')).toBe(2);
  });

  it("refuses the edge's own id to pos, and the edge keeps its connection and its queue (defect 1)", async () => {
    expect(await code(daemon, USERS.pos, EDGE_ID, false)).toBe(2);
    // The edge still answers: an event goes in and its reply comes back.
    const pos = await connectClient(daemon, USERS.pos);
    await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
    const reply = nextMessage(pos, `${ROOT}/reply/pos/d1`);
    await pos.publishAsync(`${ROOT}/in/price`, priceEvent('d1-price', 111, `${ROOT}/reply/pos/d1`), { qos: 1 });
    expect(JSON.parse((await reply).payload)).toMatchObject({ status: expect.stringMatching(/applied|stale|rejected/) });
    await pos.endAsync();
  });

  it("never hands one user's persistent session to another user; its owner resumes it with the queue (defect 1)", async () => {
    const owner = await connectClient(daemon, USERS.pos, { clientId: 'shared-session', clean: false });
    await owner.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
    await owner.endAsync();
    // While the session's owner is away, a reply for it is queued (QoS 1, persistent session).
    const sender = await connectClient(daemon, USERS.pos, { clientId: 'pos-sender' });
    await sender.publishAsync(`${ROOT}/in/price`, priceEvent('queued-price', 112, `${ROOT}/reply/pos/queued`), { qos: 1 });
    await sender.endAsync();
    // hq may not take the session over: clean=false (resume) and clean=true (discard) are both refused.
    expect(await code(daemon, HQ, 'shared-session', false)).toBe(2);
    expect(await code(daemon, HQ, 'shared-session', true)).toBe(2);
    // The owner gets its session back, queue included.
    const back = mqtt.connect(daemon.mqttUrl, { username: USERS.pos.username, password: USERS.pos.password, clientId: 'shared-session', clean: false, reconnectPeriod: 0 });
    const queued = nextMessage(back, `${ROOT}/reply/pos/queued`);
    const connack = await new Promise<{ sessionPresent: boolean }>((r) => back.once('connect', (p) => r(p as { sessionPresent: boolean })));
    expect(connack.sessionPresent).toBe(true);
    expect(JSON.parse((await queued).payload)).toMatchObject({ eventId: 'queued-price' });
    await back.endAsync();
  });

  it("refuses a second user on a connected client's id and leaves the first connected, its will unsent (defect 2)", async () => {
    const watcher = await connectClient(daemon, DASH, { clientId: 'dash-watch' });
    const statuses: string[] = [];
    watcher.on('message', (topic, payload) => {
      if (topic === `${ROOT}/ap/AP-2/status`) statuses.push(payload.toString('utf8'));
    });
    await watcher.subscribeAsync(`${ROOT}/ap/AP-2/status`, { qos: 1 });
    const ap2 = await connectClient(daemon, USERS.ap2, { clientId: 'AP-2', will: { topic: `${ROOT}/ap/AP-2/status`, payload: Buffer.from('offline'), qos: 1, retain: true } });
    let ap2Closed = false;
    ap2.on('close', () => (ap2Closed = true));
    expect(await code(daemon, USERS.ap1, 'AP-2')).toBe(2);
    // Same for publishers: hq cannot knock pos's live connection off.
    const pos = await connectClient(daemon, USERS.pos, { clientId: 'pos-live' });
    expect(await code(daemon, HQ, 'pos-live')).toBe(2);
    // Both are still connected: a QoS 1 round trip on each (a PUBACK needs the connection).
    await ap2.publishAsync(`${ROOT}/ap/AP-2/status`, 'online', { qos: 1, retain: true });
    await pos.publishAsync(`${ROOT}/in/price`, priceEvent('still-live', 113), { qos: 1 });
    // The watcher sees AP-2's "online" and no "offline" before it (the will was not published).
    await new Promise<void>((r) => {
      const t = setInterval(() => statuses.includes('online') && (clearInterval(t), r()), 20);
    });
    expect(statuses).not.toContain('offline');
    expect(ap2Closed).toBe(false);
    await Promise.all([ap2.endAsync(), pos.endAsync(), watcher.endAsync()]);
  });

  it('lets the same user take its own id over (an AP reconnecting after a broken link)', async () => {
    const first = await connectClient(daemon, USERS.ap1, { clientId: 'AP-1', clean: false });
    const firstClosed = new Promise<void>((r) => first.once('close', () => r()));
    const second = await connectClient(daemon, USERS.ap1, { clientId: 'AP-1', clean: false });
    await firstClosed; // [MQTT-3.1.4-2]: the broker closed the older connection
    expect(second.connected).toBe(true);
    await second.subscribeAsync(`${ROOT}/ap/AP-1/down`, { qos: 1 });
    await second.endAsync();
    await first.endAsync(true);
  });
});

describe('client ids bound to users (every user of config/demo.json)', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  const raw = JSON.parse(readFileSync(new URL('../../config/demo.json', import.meta.url), 'utf8')) as {
    store: { chain: string; id: string };
    mqtt: { users: { username: string; password: string; role: string; apId?: string }[] };
  };
  beforeAll(async () => {
    const config = parseConfig({ ...raw, dataDir: tmp.dir, log: { level: 'silent' }, mqtt: { ...raw.mqtt, embedded: { enabled: true, host: '127.0.0.1', port: 0 } }, http: { host: '127.0.0.1', port: 0, tokens: [{ name: 't', token: 'test-token-0123456789abcdef' }] } });
    daemon = await startDaemon(config, { log: createLogger({ level: 'silent' }), listenHttp: false });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  it('each user connects with its own id and is refused the edge id and other users\' ids', async () => {
    const edgeId = `esl-edge-${raw.store.chain}-${raw.store.id}`;
    const apIds = raw.mqtt.users.filter((u) => u.role === 'ap').map((u) => u.apId!);
    expect(raw.mqtt.users.map((u) => u.role)).toEqual(expect.arrayContaining(['ap', 'publisher', 'observer']));
    for (const u of raw.mqtt.users) {
      const own = u.role === 'ap' ? u.apId! : `${u.username}-probe`;
      expect([u.username, await code(daemon, u, own)]).toEqual([u.username, 0]);
      expect([u.username, await code(daemon, u, edgeId, false)]).toEqual([u.username, 2]);
      const foreignAp = apIds.find((id) => id !== u.apId)!;
      expect([u.username, await code(daemon, u, foreignAp)]).toEqual([u.username, 2]);
    }
  });
});
