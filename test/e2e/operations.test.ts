/**
 * Store operations and reports, end to end: find-my-label and pick-to-light reach the simulated labels' LEDs
 * (over HTTP and as MQTT requests), the audit is answered on request over MQTT, and label alerts (low battery)
 * are raised once through the outbox. Edge and store share a paced clock (D22): every wait is simulated time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import type { StoreSimulator } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { LABELS, PRODUCTS, ROOT, authHeaders, simWaitFor } from '../support/edge-fixture.js';
import { useEdgeStore } from '../support/edge-store.js';

describe('operations and reports', () => {
  const e = useEdgeStore({ store: {}, pos: true });
  let daemon: Daemon;
  let sim: StoreSimulator;
  let pos: MqttClient;
  let clock: PacedClock;
  const inbox: { topic: string; body: Record<string, unknown> }[] = [];
  beforeAll(async () => {
    ({ daemon, sim, pos, clock } = e);
    await pos.subscribeAsync([`${ROOT}/reply/pos/#`, `${ROOT}/out/#`], { qos: 1 });
    pos.on('message', (topic, p) => inbox.push({ topic, body: JSON.parse(p.toString()) as Record<string, unknown> }));
    await simWaitFor(clock, 'labels checked in', async () => [...daemon.labels.all()].filter((l) => l.apId !== null).length === LABELS.length, 600_000);
  }, 600_000);

  it('flashes a label found over HTTP; refuses a bad body and an unknown label', { timeout: 300_000 }, async () => {
    const label = LABELS[0]!; // 2.9" with LED
    const res = await daemon.http.inject({ method: 'POST', url: `/api/v1/labels/${label.labelId}/flash`, headers: { ...authHeaders(), 'content-type': 'application/json' }, payload: JSON.stringify({ colour: 'blue', repeat: 3 }) });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ labelId: label.labelId, apId: 'AP-1', outcome: 'sent' });
    await simWaitFor(clock, 'LED flashed on the simulated label', () => (sim.labelStats(label.labelId)?.ledFlashes ?? 0) >= 1, 400_000);
    const bad = await daemon.http.inject({ method: 'POST', url: `/api/v1/labels/${label.labelId}/flash`, headers: { ...authHeaders(), 'content-type': 'application/json' }, payload: '{"repeat": 0}' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/repeat/);
    const unknown = await daemon.http.inject({ method: 'POST', url: '/api/v1/labels/00000000000000FF/flash', headers: authHeaders() });
    expect(unknown.statusCode).toBe(404);
  });

  it('pick-to-light over MQTT flashes every label of the order and names products without a label', { timeout: 300_000 }, async () => {
    const before = LABELS.map((l) => sim.labelStats(l.labelId)?.ledFlashes ?? 0);
    const order = [PRODUCTS[0]!.gtin, '4000417025012'];
    await pos.publishAsync(`${ROOT}/req/pick`, JSON.stringify({ id: 'order-77', replyTo: `${ROOT}/reply/pos/pick`, orderId: 'CC-77', gtins: order }), { qos: 1 });
    const reply = await simWaitFor(clock, 'pick reply', () => inbox.find((m) => m.body.id === 'order-77'));
    expect(reply.body.status).toBe('ok');
    const result = reply.body.result as { results: { labelId: string; outcome: string }[]; missingGtins: string[] };
    // Product 0 has two labels: the 2.9" and the 2.13" (both with LED).
    expect(result.results.map((r) => [r.labelId, r.outcome]).sort()).toEqual([
      [LABELS[0]!.labelId, 'sent'],
      [LABELS[3]!.labelId, 'sent'],
    ]);
    expect(result.missingGtins).toEqual(['4000417025012']);
    await simWaitFor(clock, 'both LEDs flashed', () => sim.labelStats(LABELS[0]!.labelId)!.ledFlashes > before[0]! && sim.labelStats(LABELS[3]!.labelId)!.ledFlashes > before[3]!, 400_000);
    expect(sim.labelStats(LABELS[1]!.labelId)!.ledFlashes).toBe(before[1]);
  });

  it('answers an audit request over MQTT and refuses a malformed one with a reason', { timeout: 300_000 }, async () => {
    await simWaitFor(clock, 'store consistent', async () => daemon.labels.counts().consistent === LABELS.length, 600_000);
    await pos.publishAsync(`${ROOT}/req/audit`, JSON.stringify({ id: 'a1', replyTo: `${ROOT}/reply/pos/audit` }), { qos: 1 });
    const reply = await simWaitFor(clock, 'audit reply', () => inbox.find((m) => m.body.id === 'a1'));
    const report = reply.body.result as { counts: Record<string, number>; total: number; store: string; exceptions: unknown[] };
    expect(report).toMatchObject({ store: 'store-1', total: LABELS.length });
    expect(report.counts.consistent).toBe(LABELS.length);
    expect(report.exceptions).toEqual([]);
    // Time to consistency per change: every label of the initial fill converged, with percentiles.
    const waves = (reply.body.result as { timeToConsistencyByChange: { labels: number; consistent: number; p50: number | null; p95: number | null }[] }).timeToConsistencyByChange;
    expect(waves.reduce((n, w) => n + w.labels, 0)).toBe(LABELS.length);
    expect(waves.reduce((n, w) => n + w.consistent, 0)).toBe(LABELS.length);
    for (const w of waves) expect(w.p95! >= w.p50!).toBe(true);
    await pos.publishAsync(`${ROOT}/req/pick`, JSON.stringify({ id: 'bad-pick', replyTo: `${ROOT}/reply/pos/pick`, orderId: 'x', gtins: [] }), { qos: 1 });
    const bad = await simWaitFor(clock, 'bad request reply', () => inbox.find((m) => m.body.id === 'bad-pick'));
    expect(bad.body).toMatchObject({ status: 'error', code: 'REQUEST_SCHEMA' });
  });

  it('queues a report on demand and delivers it on out/audit', { timeout: 300_000 }, async () => {
    const res = await daemon.http.inject({ method: 'POST', url: '/api/v1/audit/report', headers: authHeaders() });
    expect(res.statusCode).toBe(202);
    const id = (res.json() as { reportId: string }).reportId;
    const msg = await simWaitFor(clock, 'report on out/audit', () => inbox.find((m) => m.topic === `${ROOT}/out/audit` && m.body.id === id));
    expect(msg.body).toMatchObject({ chain: 'testchain', store: 'store-1', total: LABELS.length });
  });

  it('raises one low-battery alert per label, not one per check-in', { timeout: 300_000 }, async () => {
    const label = LABELS[2]!;
    await daemon.dispatcher.labelCheckin('AP-1', { type: 'LABEL_CHECKIN', labelId: label.labelId, labelType: label.labelType, displayedHash: daemon.labels.get(label.labelId)!.confirmedHash!, page: 0, batteryMv: 2300, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: 0, pendingTransferId: 0 });
    await simWaitFor(clock, 'alert', () => inbox.find((m) => m.body.type === 'label-battery-low' && m.body.labelId === label.labelId));
    await daemon.dispatcher.labelCheckin('AP-1', { type: 'LABEL_CHECKIN', labelId: label.labelId, labelType: label.labelType, displayedHash: daemon.labels.get(label.labelId)!.confirmedHash!, page: 0, batteryMv: 2290, rssi: -60, lqi: 200, temperatureC: 20, wakeReason: 0, pendingTransferId: 0 });
    await clock.sleep(6_000);
    expect(inbox.filter((m) => m.body.type === 'label-battery-low' && m.body.labelId === label.labelId)).toHaveLength(1);
  });
});
