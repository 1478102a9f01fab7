/**
 * Promotions land on time (protocol §6.5 timed display): the edge renders the promotion's labels ahead of its start,
 * stages them with displayAt = start, and the simulated panels switch at the start instant — not before, and not
 * a wake-up interval later. Edge and store share one paced clock (D22), so their clocks agree and every instant below
 * is simulated time, whatever else the machine does.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { StoreSimulator } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { loadContent } from '../../src/domain/labels/image-store.js';
import { PRODUCTS, catalogueBatch, simWaitFor } from '../support/edge-fixture.js';
import { useEdgeStore } from '../support/edge-store.js';

const LABEL = '0000AABBCC0000C1'; // a 1.54" BW label: 2 s panel refresh
const GTIN = PRODUCTS[1]!.gtin;

describe('timed display at a promotion start', () => {
  const e = useEdgeStore({
    speed: 5,
    config: { dispatch: { prestageLeadS: 60, retryBaseMs: 200, heartbeatIntervalS: 5, checkinReportIntervalS: 30 } },
    seed: [catalogueBatch(), JSON.stringify({ id: 'bind-c1', source: 't', version: 1, type: 'binding', data: { labelId: LABEL, gtin: GTIN } })],
    store: { labels: [{ labelId: LABEL, labelType: 1, apId: 'AP-1' }], radio: { frameLoss: 0, wakeIntervalMs: 1_000 }, seed: 5 },
  });
  let daemon: Daemon;
  let sim: StoreSimulator;
  let clock: PacedClock;
  // The label store's record (D17): what the dispatcher and planner see.
  const row = () => {
    const l = daemon.labels.get(LABEL)!;
    return Promise.resolve({ desired_hash: l.desiredHash!, confirmed_hash: l.confirmedHash!, next_hash: l.nextHash, transfer_state: l.transferState, transfer_display_at: l.transferDisplayAt });
  };

  beforeAll(async () => {
    ({ daemon, sim, clock } = e);
    await simWaitFor(
      clock,
      'label consistent',
      async () => {
        const r = await row();
        return r.desired_hash && r.confirmed_hash === r.desired_hash && sim.groundTruth(LABEL)?.hash === r.desired_hash;
      },
      60_000,
      { everySimMs: 200 },
    );
  }, 300_000);

  it('switches the shelf at the start instant', async () => {
    const before = (await row()).desired_hash;
    const start = Math.floor(clock.now()) + 30_000;
    const r = await daemon.intake.ingest(
      JSON.stringify({ id: 'promo-1', source: 'hq', version: 1, type: 'promotion', data: { promotionId: 'flash-sale', gtins: [GTIN], promoPriceCents: 99, start: new Date(start).toISOString(), end: new Date(start + 3_600_000).toISOString(), badge: 'Aktion' } }),
      { channel: 'local' },
    );
    expect(r.reply.status).toBe('applied');

    // Ahead of the start: the next picture is rendered and the label already holds it, for displayAt = start.
    const staged = await simWaitFor(
      clock,
      'timed picture delivered to the label',
      async () => {
        const x = await row();
        return x.transfer_state === 'delivered' && x.transfer_display_at === start ? x : undefined;
      },
      29_000,
      { everySimMs: 50 },
    );
    expect(clock.now()).toBeLessThan(start);
    const next = staged.next_hash!;
    expect(next).not.toBe(before);
    expect((await loadContent(daemon.db, next))?.priceCents).toBe(99);
    // Until the start instant the panel shows the regular price.
    await clock.sleep(Math.max(0, start - clock.now() - 300));
    expect(sim.groundTruth(LABEL)?.hash).toBe(before);

    // From the start instant: the panel switches by itself (2 s refresh), without waiting for a wake-up + transfer.
    const switched = await simWaitFor(clock, 'panel switched', () => (sim.groundTruth(LABEL)?.hash === next ? clock.now() : undefined), 6_000, { everySimMs: 20 });
    expect(switched - start).toBeLessThan(3_500);
    // And the edge sees it: at the start its desired picture is the promotion, and the label confirms it.
    await simWaitFor(
      clock,
      'edge consistent with the promotion',
      async () => {
        const x = await row();
        return x.desired_hash === next && x.confirmed_hash === next;
      },
      10_000,
      { everySimMs: 100 },
    );
  }, 300_000);
});
