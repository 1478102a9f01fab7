/**
 * D146 Appointments end to end (protocol §4.9): a real daemon and the simulated store on one simulated clock. 60
 * labels whose first wakes fall within 0.3 s share one AP that holds 8 transfers, so at every wake-up most of them
 * find nothing staged and would sleep a whole interval. The edge plans the AP's channel from the wake reports and
 * sends WORK_AHEAD; the AP tells the labels it passes over to come back at their appointments; the edge sees those
 * short sleeps in the reports, does not take them for misses, and stages the transfers for them. Every label
 * converges. Verdicts on simulated time and counters only (D22).
 */
import { describe, expect, it } from 'vitest';
import { gtin13 } from '#contracts';
import { USERS, simWaitFor } from '../support/edge-fixture.js';
import { edgeStore, hqBatch, numberedCatalogue, simAp } from '../support/edge-store.js';

const N = 60;
const gtin = (i: number) => gtin13(`404${String(i).padStart(9, '0')}`);
const labelId = (i: number) => `0000A4EA${String(i).padStart(8, '0')}`;
const ALL = Array.from({ length: N }, (_, i) => labelId(i));

describe('work ahead (§4.9): appointments from the edge, kept by the AP', () => {
  // The default since D154 (opt-in under D146), stated so the test does not move with it: a plan every 2 s.
  const e = edgeStore({ speed: 20, config: { dispatch: { workAheadIntervalMs: 2_000 } } });

  it('labels the channel passes over come back at their appointments, and the store fills', async () => {
    const d = await e.startEdge();
    await e.ingest(hqBatch('seed', 1, numberedCatalogue(N, gtin, labelId)));
    const s = await e.startStore({
      aps: [simAp(USERS.ap1, { queueCapacity: 8 })],
      labels: Array.from({ length: N }, (_, i) => ({ labelId: labelId(i), labelType: 2, apId: USERS.ap1.apId })),
      startSpreadMs: 300,
      seed: 11,
    });
    await simWaitFor(e.clock, 'the store filled', () => e.converged(ALL), 1_200_000);
    const st = d.dispatcher.stats;
    const radio = s.apStats(USERS.ap1.apId).radio;
    console.log(`work-ahead e2e: edge ${JSON.stringify({ aheadPlans: st.aheadPlans, appointmentsSent: st.appointmentsSent, aheadMessages: st.aheadMessages, aheadFailures: st.aheadFailures, missCancels: st.missCancels })}, AP appointments ${radio.appointments} (late ${radio.appointmentsLate})`);
    expect(st.aheadPlans).toBeGreaterThan(0);
    expect(st.appointmentsSent).toBeGreaterThan(0);
    expect(st.aheadFailures).toBe(0);
    // The AP told labels their appointments (RADIO_SLEEP shorter than the normal one, §4.9.1).
    expect(radio.appointments).toBeGreaterThan(0);
  }, 900_000);
});
