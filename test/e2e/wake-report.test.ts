/**
 * Issue 16 item 4 (D34–D35): a real daemon and the simulated store on one simulated clock. AP-1 announces
 * WAKE_REPORT (protocol §5.6), AP-2 is an AP of before it. Both hold only 4 staged transfers, so a repricing has more
 * work than slots. With the reports the edge stages transfers by predicted wake (stagedPredicted > 0) and a transfer
 * holds its slot for a shorter time on AP-1 than on AP-2 (Little's law); every label of both APs converges.
 * Timing verdicts are on simulated time only (D22).
 */
import { describe, expect, it } from 'vitest';
import { gtin13 } from '#contracts';
import { USERS, simWaitFor } from '../support/edge-fixture.js';
import { edgeStore, hqBatch, numberedCatalogue, simAp } from '../support/edge-store.js';

const N = 48;
const gtin = (i: number) => gtin13(`403${String(i).padStart(9, '0')}`);
const labelId = (i: number) => `0000D0DE${String(i).padStart(8, '0')}`;
const apOf = (i: number) => (i % 2 === 0 ? USERS.ap1.apId : USERS.ap2.apId);
const ALL = Array.from({ length: N }, (_, i) => labelId(i));

describe('wake reports: a store with and without the capability', () => {
  const e = edgeStore({ speed: 20, config: { dispatch: { retryBaseMs: 2_000, retryMaxMs: 20_000, transferTimeoutMs: 300_000, heartbeatIntervalS: 5 } } });

  it('stages by predicted wake on the reporting AP, holds slots shorter there, and converges on both', async () => {
    const d = await e.startEdge();
    const c = e.clock;
    await e.ingest(hqBatch('seed', 1, numberedCatalogue(N, gtin, labelId)));
    const s = await e.startStore({
      aps: [simAp(USERS.ap1, { queueCapacity: 4 }), simAp(USERS.ap2, { queueCapacity: 4, wakeReport: false })],
      labels: Array.from({ length: N }, (_, i) => ({ labelId: labelId(i), labelType: 2, apId: apOf(i) })),
      seed: 7,
    });
    await simWaitFor(c, 'the store filled', () => e.converged(ALL), 1_200_000);
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
    await e.ingest(hqBatch('reprice', 2, prices));
    await simWaitFor(c, 'the repricing planned', () => before.every((h, i) => d.labels.get(labelId(i))!.desiredHash !== h), 600_000);
    await simWaitFor(c, 'the repricing converged', () => e.converged(ALL), 1_200_000);

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
