/**
 * Issue 16 item 4 (D34–D35): a real daemon and the simulated store on one simulated clock. AP-1 announces
 * WAKE_REPORT (protocol §5.6), AP-2 is an AP of before it. Both hold only 4 staged transfers, so a repricing has more
 * work than slots. With the reports the edge stages transfers by predicted wake (stagedPredicted > 0) and a transfer
 * holds its slot for a shorter time on AP-1 than on AP-2 (Little's law); every label of both APs converges.
 * Timing verdicts are on simulated time only (D22).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import type { PacedClock } from '../../simulator/src/paced-clock.js';
import { gtin13 } from '#contracts';
import { CHAIN, STORE, USERS, pacedClock, simWaitFor, startTestDaemon, tempDir } from '../support/edge-fixture.js';

const N = 48;
const gtin = (i: number) => gtin13(`403${String(i).padStart(9, '0')}`);
const labelId = (i: number) => `0000D0DE${String(i).padStart(8, '0')}`;
const apOf = (i: number) => (i % 2 === 0 ? USERS.ap1.apId : USERS.ap2.apId);

describe('wake reports: a store with and without the capability', () => {
  const tmp = tempDir();
  let daemon: Daemon | null = null;
  let sim: StoreSimulator | null = null;
  let clock: PacedClock | null = null;
  afterAll(async () => {
    await sim?.stop();
    await daemon?.stop();
    clock?.stop();
    tmp.remove();
  });

  const converged = (d: Daemon, s: StoreSimulator) => {
    for (let i = 0; i < N; i++) {
      const l = d.labels.get(labelId(i));
      if (!l?.desiredHash || l.confirmedHash !== l.desiredHash || s.groundTruth(labelId(i))?.hash !== l.desiredHash) return false;
    }
    return true;
  };
  const ingest = async (d: Daemon, id: string, version: number, events: unknown[]) => {
    const r = await d.intake.ingest(JSON.stringify({ id, source: 'hq', version, type: 'batch', data: { events } }), { channel: 'local' });
    expect(r.reply.status).toBe('applied');
  };

  it('stages by predicted wake on the reporting AP, holds slots shorter there, and converges on both', async () => {
    clock = pacedClock(20);
    const c = clock;
    daemon = await startTestDaemon(tmp.dir, { dispatch: { retryBaseMs: 2_000, retryMaxMs: 20_000, transferTimeoutMs: 300_000, heartbeatIntervalS: 5 } }, { clock: c });
    const d = daemon;
    const seed: unknown[] = [];
    for (let i = 0; i < N; i++) {
      seed.push({ id: `prod-${i}`, source: 'hq', version: 1, type: 'product', data: { gtin: gtin(i), name: `Artikel ${i}`, brand: 'Hausmarke', packSize: { quantity: 500, unit: 'g' } } });
      seed.push({ id: `price-${i}-1`, source: 'pos', version: 1, type: 'price', data: { gtin: gtin(i), priceCents: 199 } });
      seed.push({ id: `bind-${i}`, source: 'hq', version: 1, type: 'binding', data: { labelId: labelId(i), gtin: gtin(i) } });
    }
    await ingest(d, 'seed', 1, seed);
    sim = await StoreSimulator.start({
      brokerUrl: d.mqttUrl,
      chain: CHAIN,
      store: STORE,
      aps: [
        { apId: USERS.ap1.apId, username: USERS.ap1.username, password: USERS.ap1.password, queueCapacity: 4 },
        { apId: USERS.ap2.apId, username: USERS.ap2.username, password: USERS.ap2.password, queueCapacity: 4, wakeReport: false },
      ],
      labels: Array.from({ length: N }, (_, i) => ({ labelId: labelId(i), labelType: 2, apId: apOf(i) })),
      clock: c,
      radio: { frameLoss: 0 },
      seed: 7,
    });
    const s = sim;
    await simWaitFor(c, 'the store filled', () => converged(d, s), 1_200_000);
    const reportsBefore = d.dispatcher.stats.wakeReportEntries;
    expect(reportsBefore).toBeGreaterThan(0);
    // Only AP-1 was asked (§4.8): AP-2 never announced the capability.
    expect(s.apStats(USERS.ap1.apId).ap.wakeReports).toBeGreaterThan(0);
    expect(s.apStats(USERS.ap2.apId).ap.wakeReports).toBe(0);

    d.dispatcher.holdByAp.clear();
    const predictedBefore = d.dispatcher.stats.stagedPredicted;
    const prices: unknown[] = [];
    for (let i = 0; i < N; i++) prices.push({ id: `price-${i}-2`, source: 'pos', version: 2, type: 'price', data: { gtin: gtin(i), priceCents: 249 } });
    const before = Array.from({ length: N }, (_, i) => d.labels.get(labelId(i))!.desiredHash);
    await ingest(d, 'reprice', 2, prices);
    await simWaitFor(c, 'the repricing planned', () => before.every((h, i) => d.labels.get(labelId(i))!.desiredHash !== h), 600_000);
    await simWaitFor(c, 'the repricing converged', () => converged(d, s), 1_200_000);

    expect(d.dispatcher.stats.stagedPredicted - predictedBefore).toBeGreaterThan(0);
    const h1 = d.dispatcher.holdByAp.get(USERS.ap1.apId)!;
    const h2 = d.dispatcher.holdByAp.get(USERS.ap2.apId)!;
    expect(h1.count).toBeGreaterThanOrEqual(N / 2);
    expect(h2.count).toBeGreaterThanOrEqual(N / 2);
    const mean1 = h1.sum / h1.count;
    const mean2 = h2.sum / h2.count;
    console.log(`wake-report e2e: mean hold AP-1 (reports) ${(mean1 / 1000).toFixed(1)} s, AP-2 ${(mean2 / 1000).toFixed(1)} s; stats ${JSON.stringify(d.dispatcher.stats)}`);
    expect(mean1).toBeLessThan(mean2);
  }, 900_000);
});
