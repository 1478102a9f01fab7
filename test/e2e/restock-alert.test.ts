/**
 * Stock drives the staff: a product falling to its restock threshold raises one alert on the store's out/alerts
 * topic (from the durable outbox), not one per stock event, and again only after it was restocked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import { PRODUCTS, ROOT, waitFor } from '../support/edge-fixture.js';
import { useEdgeStore } from '../support/edge-store.js';

describe('restock alerts', () => {
  // The edge on the system clock, no simulated store: the catalogue and a POS client that observes the alerts.
  const e = useEdgeStore({ speed: null, pos: true });
  let daemon: Daemon;
  let observer: MqttClient;
  const alerts: { type: string; gtin: string; quantity: number; id: string }[] = [];
  beforeAll(async () => {
    ({ daemon, pos: observer } = e);
    await observer.subscribeAsync(`${ROOT}/out/alerts`, { qos: 1 });
    observer.on('message', (_t, p) => alerts.push(JSON.parse(p.toString()) as (typeof alerts)[number]));
  });

  it('alerts once when stock falls to the threshold, and again only after a restock', async () => {
    const gtin = PRODUCTS[2]!.gtin;
    let v = 0;
    const stock = async (quantity: number) => {
      v++;
      const r = await daemon.intake.ingest(JSON.stringify({ id: `stock-${v}`, source: 'erp', version: v, type: 'stock', data: { gtin, quantity, restockThreshold: 5 } }), { channel: 'local' });
      expect(r.reply.status).toBe('applied');
    };
    await stock(12);
    await stock(5); // at the threshold: alert
    await stock(3); // still low: no new alert
    await stock(1);
    await waitFor('first alert', () => alerts.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts.map((a) => [a.type, a.quantity])).toEqual([['restock', 5]]);
    await stock(40); // restocked
    await stock(4); // low again: a new alert
    await waitFor('three messages', () => alerts.length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    expect(alerts.map((a) => [a.type, a.quantity])).toEqual([
      ['restock', 5],
      ['restocked', 40],
      ['restock', 4],
    ]);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(3);
    // Delivered means acknowledged by the broker: nothing left in the outbox for the local broker.
    const left = await daemon.db.get<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE sent_local IS NULL');
    expect(left?.n).toBe(0);
  });
});
