/**
 * Issue 10, defect 4 on an external broker (the HQ uplink, Mosquitto): the edge is only a subscriber there and
 * cannot refuse a publish, so a message on an undocumented in/ topic is acknowledged and dropped — never ingested,
 * never a dead letter (docs/decisions.md D24).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { CHAIN, STORE, startTestDaemon, tempDir, waitFor } from '../support/edge-fixture.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';

const HQ_USERS = [
  { username: 'hq-pim', password: 'hq-pim-password' },
  { username: 'edge-store-1', password: 'edge-store-1-password' },
];
const ROOT = `esl/${CHAIN}/${STORE}`;

describe('undocumented event topics on the HQ broker', () => {
  const tmp = tempDir();
  let broker: Mosquitto;
  let daemon: Daemon;
  let pim: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto({ dir: tmp.dir, users: HQ_USERS });
    daemon = await startTestDaemon(`${tmp.dir}/edge`, { hq: { url: broker.url, ...HQ_USERS[1]! } });
    await broker.waitForSubscription(`esl-edge-${CHAIN}-${STORE}`, `${ROOT}/in/+`);
    pim = await mqtt.connectAsync(broker.url, { ...HQ_USERS[0]!, reconnectPeriod: 0 });
  });

  afterAll(async () => {
    await pim?.endAsync(true);
    await daemon?.stop();
    await broker?.stop();
    tmp.remove();
  });

  it('drops a valid event sent to in/nosuchtype and takes the next one on in/price', async () => {
    const count = async (table: string) => (await daemon.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n;
    const deadBefore = await count('dead_letters');
    const event = (id: string) => JSON.stringify({ id, source: 'hq', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 149, currency: 'EUR' } });
    await pim.publishAsync(`${ROOT}/in/nosuchtype`, event('hq-undocumented-1'), { qos: 1 });
    await pim.publishAsync(`${ROOT}/in/price`, event('hq-documented-1'), { qos: 1 });
    // The edge handles one subscription's messages in order: once the second is in, the first was seen.
    await waitFor('documented event ingested', async () => (await daemon.db.get('SELECT 1 AS ok FROM events WHERE id = ?', ['hq-documented-1'])) ?? false);
    expect(await daemon.db.get('SELECT 1 AS ok FROM events WHERE id = ?', ['hq-undocumented-1'])).toBeUndefined();
    expect(await count('dead_letters')).toBe(deadBefore);
  });
});
