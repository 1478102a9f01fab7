/**
 * Bad input never stops the service: malformed JSON and schema violations are refused with a reason (reply topic,
 * log, dead-letter record), and the next valid event is processed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import type { EventReply } from '#contracts';
import { PRODUCTS, ROOT, authHeaders, waitFor } from '../support/edge-fixture.js';
import { useEdgeStore } from '../support/edge-store.js';

describe('bad input', () => {
  // The edge on the system clock, no simulated store: the catalogue and a POS client.
  const e = useEdgeStore({ speed: null, pos: true });
  let daemon: Daemon;
  let pos: MqttClient;
  const replies: EventReply[] = [];
  beforeAll(async () => {
    ({ daemon, pos } = e);
    await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
    pos.on('message', (_t, p) => replies.push(JSON.parse(p.toString()) as EventReply));
  });

  const deadLetters = () => daemon.db.all<{ code: string; reason: string; channel: string }>('SELECT code, reason, channel FROM dead_letters ORDER BY seq');

  it('refuses malformed JSON with a logged reason and a dead-letter record, and acknowledges the delivery', async () => {
    // PUBACK arrives (publishAsync resolves): the refusal is durable, so the broker must not redeliver it.
    await pos.publishAsync(`${ROOT}/in/price`, '{"id": "x", this is not json', { qos: 1 });
    const dl = await waitFor('dead letter', async () => (await deadLetters()).find((d) => d.code === 'EVENT_MALFORMED_JSON'));
    expect(dl.channel).toBe('mqtt');
    expect(dl.reason).toMatch(/not valid JSON/);
    expect(pos.connected).toBe(true);
  });

  it('refuses a schema violation naming the field, on the envelope replyTo', async () => {
    await pos.publishAsync(
      `${ROOT}/in/price`,
      JSON.stringify({ id: 'bad-1', source: 'pos', version: 1, type: 'price', data: { gtin: '4006381333932', priceCents: -5 }, replyTo: `${ROOT}/reply/pos` }),
      { qos: 1 },
    );
    const reply = await waitFor('reply', () => replies.find((r) => r.eventId === 'bad-1'));
    expect(reply).toMatchObject({ status: 'rejected', code: 'EVENT_SCHEMA' });
    expect(reply.reason).toMatch(/data\.gtin: GTIN check digit is wrong/);
    expect(reply.reason).toMatch(/data\.priceCents/);
    expect((await deadLetters()).some((d) => d.code === 'EVENT_SCHEMA')).toBe(true);
    // A refused event is not remembered as seen: the corrected event with the same id applies.
    const row = await daemon.db.get('SELECT 1 FROM events WHERE id = ?', ['bad-1']);
    expect(row).toBeUndefined();
  });

  it('refuses an event on the wrong type topic', async () => {
    await pos.publishAsync(`${ROOT}/in/stock`, JSON.stringify({ id: 'bad-2', source: 'pos', version: 1, type: 'price', data: { gtin: PRODUCTS[0]!.gtin, priceCents: 5 }, replyTo: `${ROOT}/reply/pos` }), { qos: 1 });
    expect(await waitFor('reply', () => replies.find((r) => r.eventId === 'bad-2'))).toMatchObject({ status: 'rejected', code: 'EVENT_TOPIC_MISMATCH' });
  });

  it('still processes the next valid event, over MQTT and over HTTP', async () => {
    await pos.publishAsync(
      `${ROOT}/in/price`,
      JSON.stringify({ id: 'good-1', source: 'pos', version: 10, type: 'price', data: { gtin: PRODUCTS[0]!.gtin, priceCents: 199 }, replyTo: `${ROOT}/reply/pos` }),
      { qos: 1 },
    );
    expect(await waitFor('reply', () => replies.find((r) => r.eventId === 'good-1'))).toMatchObject({ status: 'applied' });
    const price = await daemon.db.get<{ cents: number }>('SELECT cents FROM prices WHERE gtin = ? ORDER BY valid_from DESC LIMIT 1', [PRODUCTS[0]!.gtin]);
    expect(price?.cents).toBe(199);

    const badHttp = await daemon.http.inject({ method: 'POST', url: '/api/v1/events', headers: { ...authHeaders(), 'content-type': 'application/json' }, payload: '{"nope": ' });
    expect(badHttp.statusCode).toBe(400);
    expect(badHttp.json()).toMatchObject({ status: 'rejected', code: 'EVENT_MALFORMED_JSON' });
    const goodHttp = await daemon.http.inject({
      method: 'POST',
      url: '/api/v1/events/price',
      headers: { ...authHeaders(), 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'good-2', source: 'erp', version: 11, type: 'price', data: { gtin: PRODUCTS[0]!.gtin, priceCents: 189 } }),
    });
    expect(goodHttp.statusCode).toBe(200);
    expect(goodHttp.json()).toMatchObject({ status: 'applied', eventId: 'good-2' });
    const health = await daemon.http.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
  });

  it('refuses an oversized event', async () => {
    const res = await daemon.intake.ingest('x'.repeat(daemon.config.intake.maxEventBytes + 1), { channel: 'local' });
    expect(res.reply).toMatchObject({ status: 'rejected', code: 'EVENT_TOO_LARGE' });
  });
});
