/**
 * Issue 2 acceptance: a price change travels from an MQTT publisher through the real daemon (embedded aedes,
 * sqlite file, sharp renderer) to a simulated access point and label, and the audit reports it consistent. Edge and
 * store share a paced clock (D22): the waits below are simulated time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import type { Daemon } from '../../src/daemon.js';
import type { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { labelTypeById } from '#protocol';
import { loadImage } from '../../src/domain/labels/image-store.js';
import type { AuditReport } from '../../src/domain/audit/price-audit.js';
import type { EventReply } from '#contracts';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { LABELS, PRODUCTS, ROOT, authHeaders, simWaitFor, waitFor } from '../support/edge-fixture.js';
import { useEdgeStore } from '../support/edge-store.js';

describe('a price change, end to end', () => {
  // The catalogue is applied before the store starts (useEdgeStore checks each seed event).
  const e = useEdgeStore({ store: {}, pos: true });
  let daemon: Daemon;
  let sim: StoreSimulator;
  let pos: MqttClient;
  let clock: PacedClock;
  const replies: EventReply[] = [];

  const audit = async (): Promise<AuditReport> => {
    const res = await daemon.http.inject({ method: 'GET', url: '/api/v1/audit', headers: authHeaders() });
    expect(res.statusCode).toBe(200);
    return res.json() as AuditReport;
  };
  const entry = async (labelId: string) => (await audit()).labels.find((l) => l.labelId === labelId)!;

  beforeAll(async () => {
    ({ daemon, sim, pos, clock } = e);
    await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
    pos.on('message', (_t, payload) => replies.push(JSON.parse(payload.toString()) as EventReply));
    // The whole store converges first: every bound label shows its product.
    await simWaitFor(clock, 'initial convergence', async () => (await audit()).counts.consistent === LABELS.length, 600_000);
  }, 600_000);

  const publishPrice = async (id: string, version: number, gtin: string, priceCents: number) => {
    // Forget earlier replies to the same id, so we wait for the answer to this publish.
    for (let i = replies.length - 1; i >= 0; i--) if (replies[i]!.eventId === id) replies.splice(i, 1);
    await pos.publishAsync(
      `${ROOT}/in/price`,
      JSON.stringify({ id, source: 'pos', version, type: 'price', data: { gtin, priceCents }, replyTo: `${ROOT}/reply/pos` }),
      { qos: 1 },
    );
    return waitFor(`reply to ${id}`, () => replies.find((r) => r.eventId === id));
  };

  it('renders, sends and confirms the new price; the acknowledged hash is a fresh render of it', { timeout: 600_000 }, async () => {
    const label = LABELS[0]!; // a 2.9" label bound to product 0
    const before = await entry(label.labelId);
    expect(before.status).toBe('consistent');
    expect(before.shownPriceCents).toBe(PRODUCTS[0]!.cents);

    const reply = await publishPrice('price-change-1', 1_000, label.gtin, 99);
    expect(reply.status).toBe('applied');

    const after = await simWaitFor(
      clock,
      'label consistent with the new price',
      async () => {
        const e = await entry(label.labelId);
        return e.status === 'consistent' && e.shownPriceCents === 99 ? e : undefined;
      },
      600_000,
    );
    // What the label acknowledged is what the simulated panel really shows (decoded from received planes) ...
    expect(sim.groundTruth(label.labelId)?.hash).toBe(after.confirmedHash);
    // ... and equals a fresh render of the content with the new price.
    const stored = await loadImage(daemon.db, after.confirmedHash!);
    expect(stored?.content.priceCents).toBe(99);
    const fresh = await daemon.renderer.render(stored!.content, labelTypeById(label.labelType)!);
    expect(fresh.hash).toBe(after.confirmedHash);
    // The other label of the same product (a 2.13") converged too; labels of other products did not change.
    const sibling = await simWaitFor(
      clock,
      'sibling label',
      async () => {
        const e = await entry(LABELS[3]!.labelId);
        return e.status === 'consistent' && e.shownPriceCents === 99 ? e : undefined;
      },
      400_000,
    );
    expect(sibling.confirmedHash).not.toBe(after.confirmedHash); // another panel, another image
    expect((await entry(LABELS[1]!.labelId)).shownPriceCents).toBe(PRODUCTS[1]!.cents);
  });

  it('an event with an older version is recorded as stale and does not change the label', { timeout: 300_000 }, async () => {
    const label = LABELS[0]!;
    const current = await entry(label.labelId);
    const reply = await publishPrice('price-change-old', 500, label.gtin, 555);
    expect(reply.status).toBe('stale');
    await daemon.settle();
    // Give a (wrong) transfer every chance to happen: several simulated wake-ups.
    await clock.sleep(40_000);
    const later = await entry(label.labelId);
    expect(later.confirmedHash).toBe(current.confirmedHash);
    expect(later.tillPriceCents).toBe(99);
    expect(later.status).toBe('consistent');
    const row = await daemon.db.get<{ status: string }>('SELECT status FROM events WHERE id = ?', ['price-change-old']);
    expect(row?.status).toBe('stale');
  });

  it('a duplicate event id changes nothing and is answered as duplicate', async () => {
    const reply = await publishPrice('price-change-1', 2_000, LABELS[0]!.gtin, 1234);
    expect(reply.status).toBe('duplicate');
    expect((await entry(LABELS[0]!.labelId)).tillPriceCents).toBe(99);
  });

  it('serves the PNG of what a label shows', async () => {
    const res = await daemon.http.inject({ method: 'GET', url: `/api/v1/labels/${LABELS[0]!.labelId}/image.png?scale=1`, headers: authHeaders() });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    expect(res.headers['x-content-hash']).toBe((await entry(LABELS[0]!.labelId)).confirmedHash);
  });
});
