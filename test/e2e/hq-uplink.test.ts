/**
 * Issue 6 uplink test: the HQ broker (Mosquitto) is stopped while the edge produces audit reports, and started
 * again; HQ then receives every report, exactly once after de-duplication by report id — the durable outbox
 * delivers what was produced while the uplink was down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { CHAIN, STORE, authHeaders, catalogueBatch, startTestDaemon, tempDir, waitFor } from '../support/edge-fixture.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';

const HQ_USERS = [
  { username: 'hq-reports', password: 'hq-reports-password' },
  { username: 'edge-store-1', password: 'edge-store-1-password' },
];

describe('reports to HQ across an uplink outage', () => {
  const tmp = tempDir();
  let broker: Mosquitto;
  let daemon: Daemon;
  let hq: MqttClient;
  const received: { id: string }[] = [];

  beforeAll(async () => {
    broker = await startMosquitto({ dir: tmp.dir, users: HQ_USERS, persistence: true });
    // HQ's report consumer: a persistent session, so reports queued at the broker survive a broker restart.
    hq = await mqtt.connectAsync(broker.url, { ...HQ_USERS[0]!, clientId: 'hq-report-consumer', clean: false, reconnectPeriod: 300 });
    hq.on('error', () => undefined);
    await hq.subscribeAsync(`esl/${CHAIN}/${STORE}/out/audit`, { qos: 1 });
    hq.on('message', (_t, p) => received.push(JSON.parse(p.toString()) as { id: string }));
    daemon = await startTestDaemon(`${tmp.dir}/edge`, { hq: { url: broker.url, ...HQ_USERS[1]! } });
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    await waitFor('edge connected to HQ', () => /New client connected .* as esl-edge-/.test(broker.log()));
  });

  afterAll(async () => {
    await hq?.endAsync(true);
    await daemon?.stop();
    await broker?.stop();
    tmp.remove();
  });

  const report = async () => {
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/audit/report', headers: authHeaders() });
    expect(res.statusCode).toBe(202);
    return (res.json() as { reportId: string }).reportId;
  };

  it('delivers every report exactly once (by id) after the HQ broker comes back', async () => {
    const ids = [await report()];
    await waitFor('first report at HQ', () => received.some((r) => r.id === ids[0]));

    await broker.stop();
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 5)); // distinct generation times, distinct ids
      ids.push(await report());
    }
    // Produced while the uplink is down: waiting in the outbox, not lost.
    const waiting = await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE topic = ? AND sent_hq IS NULL', ['out/audit']);
    expect(waiting?.n).toBe(3);

    broker = await startMosquitto({ dir: tmp.dir, users: HQ_USERS, persistence: true, port: broker.port });
    await waitFor('all reports at HQ', () => ids.every((id) => received.some((r) => r.id === id)));
    const unique = new Set(received.map((r) => r.id));
    expect([...unique].sort()).toEqual([...ids].sort());
    // Marked delivered after the PUBACK, which reaches the edge after HQ's subscriber may already have the message.
    const left = async () => (await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_hq IS NULL'))?.n;
    await waitFor('outbox drained', async () => (await left()) === 0);
    expect(await left()).toBe(0);
  });
});
