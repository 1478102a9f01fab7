/**
 * The embedded broker remembers, per connection, the event topics it already routed and authorised, and skips
 * aedes' fan-out of events the intake committed (docs/decisions.md D43). What must not change: every packet's
 * size is still checked, a verdict never carries over to another connection or user, and every acknowledged
 * event is committed. Raw MQTT (test/support/raw-mqtt.ts) to see exactly which packet closes the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { gtin13 } from '#contracts';
import { ROOT, USERS, startTestDaemon, tempDir } from '../support/edge-fixture.js';
import { rawConnect, rawPublish, type RawClient } from '../support/raw-mqtt.js';

const VIEWER = { username: 'viewer', password: 'viewer-password-1', role: 'observer' as const };
const MAX_PACKET = 2048;
const TOPIC = Buffer.from(`${ROOT}/in/price`);

function priceEvent(id: string, i: number, pad = 0): Buffer {
  return Buffer.from(JSON.stringify({ id, source: 'test', version: 1, type: 'price', data: { gtin: gtin13(`4300000${String(i).padStart(5, '0')}`), priceCents: 100 + i }, ...(pad ? { replyTo: 'x'.repeat(pad) } : {}) }));
}

describe('event topic verdicts per connection', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir, { mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0, maxPacketBytes: MAX_PACKET }, users: [...Object.values(USERS), VIEWER] } });
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
  });

  const connected = async (user: { username: string; password: string }, clientId: string): Promise<RawClient> => {
    const c = await rawConnect({ port: daemon.mqttPort, username: user.username, password: user.password, clientId });
    expect((await c.next())?.cmd).toBe('connack');
    return c;
  };
  const outcome = async (c: RawClient, bytes: Buffer): Promise<'closed' | 'puback'> => {
    c.sendBytes(bytes);
    const p = await c.next();
    return p?.cmd === 'puback' ? 'puback' : 'closed';
  };
  const committed = async (id: string) => (await daemon.db.get<{ status: string }>('SELECT status FROM events WHERE id = ?', [id]))?.status ?? null;

  it('acknowledges repeated events on one topic only after their commit, and still refuses an oversized one there', async () => {
    const c = await connected(USERS.pos, 'pos-verdicts');
    for (let i = 0; i < 20; i++) {
      expect(await outcome(c, rawPublish(TOPIC, priceEvent(`tv-${i}`, i), i + 1))).toBe('puback');
      // The PUBACK is here: the event is in the database.
      expect(await committed(`tv-${i}`)).toBe('applied');
    }
    const big = priceEvent('tv-big', 99, MAX_PACKET);
    expect(big.length).toBeGreaterThan(MAX_PACKET);
    expect(await outcome(c, rawPublish(TOPIC, big, 21))).toBe('closed');
    expect(await committed('tv-big')).toBeNull();
    c.end();
  });

  it('does not carry a verdict to another user: an observer on the same topic is refused', async () => {
    const pos = await connected(USERS.pos, 'pos-verdicts-2');
    expect(await outcome(pos, rawPublish(TOPIC, priceEvent('tv-pos', 50), 1))).toBe('puback');
    const viewer = await connected(VIEWER, 'viewer-verdicts');
    expect(await outcome(viewer, rawPublish(TOPIC, priceEvent('tv-viewer', 51), 1))).toBe('closed');
    expect(await committed('tv-viewer')).toBeNull();
    // The publisher's connection is unaffected and its verdict still stands.
    expect(await outcome(pos, rawPublish(TOPIC, priceEvent('tv-pos-2', 52), 2))).toBe('puback');
    expect(await committed('tv-pos-2')).toBe('applied');
    pos.end();
    viewer.end();
  });
});
