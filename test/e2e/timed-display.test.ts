/**
 * Promotions land on time (protocol §6.5 timed display): the edge renders the promotion's labels ahead of its start,
 * stages them with displayAt = start, and the simulated panels switch at the start instant — not before, and not
 * a wake-up interval later. Real time, so the edge's and the simulated APs' clocks agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { RealClock } from '../../simulator/src/real-clock.js';
import { loadContent } from '../../src/domain/labels/image-store.js';
import { CHAIN, PRODUCTS, STORE, USERS, catalogueBatch, startTestDaemon, tempDir, waitFor } from '../support/edge-fixture.js';

const LABEL = '0000AABBCC0000C1'; // a 1.54" BW label: 2 s panel refresh
const GTIN = PRODUCTS[1]!.gtin;

describe('timed display at a promotion start', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let sim: StoreSimulator;
  // The label store's record (D17): what the dispatcher and planner see.
  const row = () => {
    const l = daemon.labels.get(LABEL)!;
    return Promise.resolve({ desired_hash: l.desiredHash!, confirmed_hash: l.confirmedHash!, next_hash: l.nextHash, transfer_state: l.transferState, transfer_display_at: l.transferDisplayAt });
  };

  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir, { dispatch: { prestageLeadS: 60, retryBaseMs: 200, heartbeatIntervalS: 5, checkinReportIntervalS: 30 } });
    await daemon.intake.ingest(catalogueBatch(), { channel: 'local' });
    await daemon.intake.ingest(JSON.stringify({ id: 'bind-c1', source: 't', version: 1, type: 'binding', data: { labelId: LABEL, gtin: GTIN } }), { channel: 'local' });
    sim = await StoreSimulator.start({
      brokerUrl: daemon.mqttUrl,
      chain: CHAIN,
      store: STORE,
      aps: [{ apId: USERS.ap1.apId, username: USERS.ap1.username, password: USERS.ap1.password }],
      labels: [{ labelId: LABEL, labelType: 1, apId: 'AP-1' }],
      clock: new RealClock({ speed: 1 }),
      radio: { frameLoss: 0, wakeIntervalMs: 1_000 },
      seed: 5,
    });
    await waitFor('label consistent', async () => {
      const r = await row();
      return r.desired_hash && r.confirmed_hash === r.desired_hash && sim.groundTruth(LABEL)?.hash === r.desired_hash;
    }, 30_000);
  }, 60_000);

  afterAll(async () => {
    await sim?.stop();
    await daemon?.stop();
    tmp.remove();
  });

  it('switches the shelf at the start instant', async () => {
    const before = (await row()).desired_hash;
    const start = Date.now() + 8_000;
    const r = await daemon.intake.ingest(
      JSON.stringify({ id: 'promo-1', source: 'hq', version: 1, type: 'promotion', data: { promotionId: 'flash-sale', gtins: [GTIN], promoPriceCents: 99, start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), badge: 'Aktion' } }),
      { channel: 'local' },
    );
    expect(r.reply.status).toBe('applied');

    // Ahead of the start: the next picture is rendered and the label already holds it, for displayAt = start.
    const staged = await waitFor('timed picture delivered to the label', async () => {
      const x = await row();
      return x.transfer_state === 'delivered' && x.transfer_display_at === start ? x : undefined;
    }, 7_000, 50);
    expect(Date.now()).toBeLessThan(start);
    const next = staged.next_hash!;
    expect(next).not.toBe(before);
    expect((await loadContent(daemon.db, next))?.priceCents).toBe(99);
    // Until the start instant the panel shows the regular price.
    await new Promise((res) => setTimeout(res, Math.max(0, start - Date.now() - 300)));
    expect(sim.groundTruth(LABEL)?.hash).toBe(before);

    // From the start instant: the panel switches by itself (2 s refresh), without waiting for a wake-up + transfer.
    const switched = await waitFor('panel switched', () => (sim.groundTruth(LABEL)?.hash === next ? Date.now() : undefined), 6_000, 20);
    expect(switched - start).toBeLessThan(3_500);
    // And the edge sees it: at the start its desired picture is the promotion, and the label confirms it.
    await waitFor('edge consistent with the promotion', async () => {
      const x = await row();
      return x.desired_hash === next && x.confirmed_hash === next;
    }, 10_000);
  }, 30_000);
});
