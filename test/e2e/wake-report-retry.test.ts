/**
 * D89: the wake-report config (protocol §4.8) is part of an AP's session. A real daemon (embedded broker, real AP
 * hub) and the simulated store on one simulated clock. AP-1 announces WAKE_REPORT, AP-2 does not.
 *
 * 1. AP-1 restarts (power) and loses the first two WAKE_REPORT_CONFIG frames of its new session (dropped as a frame
 *    with a bad CRC is, §13.1: no ACK): the edge shows it `pending` (API and /metrics), sends the config again after
 *    each ACK timeout with the dispatch backoff, and the third one switches the reports on — the AP reports again.
 * 2. AP-1's uplink drops while its config is unacknowledged: the session ends (`off`), and after the reconnect's
 *    AP_HELLO the config is sent again and acknowledged.
 *
 * Before D89 the edge sent the config once per hello: step 1 never reached `on`. Every wait is on simulated time (D22).
 */
import { describe, expect, it } from 'vitest';
import { gtin13 } from '#contracts';
import { USERS, authHeaders, simWaitFor } from '../support/edge-fixture.js';
import { edgeStore, hqBatch, numberedCatalogue, simAp } from '../support/edge-store.js';

const N = 12;
const AP1 = USERS.ap1.apId;
const AP2 = USERS.ap2.apId;
const gtin = (i: number) => gtin13(`404${String(i).padStart(9, '0')}`);
const labelId = (i: number) => `0000D0DF${String(i).padStart(8, '0')}`;
const apOf = (i: number) => (i % 3 === 2 ? AP2 : AP1);

interface ApListing {
  apId: string;
  online: boolean;
  wakeReports: string;
  wakeReportConfigsSent: number;
}

describe('wake-report config: sent again until acknowledged, in every AP session', () => {
  const e = edgeStore({ speed: 20 });

  it('an AP whose first configs are lost, or whose link drops before the ACK, ends up reporting', async () => {
    const d = await e.startEdge();
    const c = e.clock;
    await e.ingest(hqBatch('seed', 1, numberedCatalogue(N, gtin, labelId)));
    const s = await e.startStore({
      aps: [simAp(USERS.ap1, { queueCapacity: 8 }), simAp(USERS.ap2, { queueCapacity: 8, wakeReport: false })],
      labels: Array.from({ length: N }, (_, i) => ({ labelId: labelId(i), labelType: 2, apId: apOf(i) })),
      seed: 11,
    });
    const listing = async (apId: string): Promise<ApListing> => {
      const res = await d.http.inject({ method: 'GET', url: '/api/v1/aps', headers: authHeaders() });
      expect(res.statusCode).toBe(200);
      const ap = (res.json() as { aps: ApListing[] }).aps.find((a) => a.apId === apId);
      if (!ap) throw new Error(`${apId} not listed`);
      return ap;
    };
    const gauge = async (apId: string): Promise<number | null> => {
      const res = await d.http.inject({ method: 'GET', url: '/metrics', headers: authHeaders() });
      const m = new RegExp(`^esl_edge_ap_wake_reports_on\\{ap="${apId}"\\} (\\d+)$`, 'm').exec(res.body);
      return m ? Number(m[1]) : null;
    };

    await simWaitFor(c, 'AP-1 wake reports on', async () => (await listing(AP1)).wakeReports === 'on', 120_000);
    expect((await listing(AP2)).wakeReports).toBe('unsupported');
    expect(await gauge(AP1)).toBe(1);
    expect(await gauge(AP2)).toBeNull(); // an AP without the capability is not an AP without reports

    // 1. AP-1 restarts and loses the first two configs of its new session.
    s.loseFromEdge(AP1, 'WAKE_REPORT_CONFIG', 2);
    await s.setApOnline(AP1, false, 'power');
    await simWaitFor(c, 'the edge sees AP-1 offline', async () => {
      const a = await listing(AP1);
      return !a.online && a.wakeReports === 'off';
    });
    const reportsBefore = s.apStats(AP1).ap.wakeReports;
    const entriesBefore = d.dispatcher.stats.wakeReportEntries;
    await s.setApOnline(AP1, true);
    // The second config is lost too: the operator sees an AP without reports.
    await simWaitFor(c, 'AP-1 pending, the config sent again', async () => {
      const a = await listing(AP1);
      return a.online && a.wakeReports === 'pending' && a.wakeReportConfigsSent >= 2 && (await gauge(AP1)) === 0;
    }, 120_000);
    await simWaitFor(c, 'AP-1 wake reports on again', async () => (await listing(AP1)).wakeReports === 'on', 300_000);
    expect(s.lostFromEdge(AP1, 'WAKE_REPORT_CONFIG')).toBe(2);
    expect((await listing(AP1)).wakeReportConfigsSent).toBe(3);
    expect(await gauge(AP1)).toBe(1);
    await simWaitFor(c, 'AP-1 reporting, the edge applying its reports', () => s.apStats(AP1).ap.wakeReports > reportsBefore && d.dispatcher.stats.wakeReportEntries > entriesBefore, 120_000);

    // 2. The uplink drops while the first config of the next session awaits its ACK.
    s.loseFromEdge(AP1, 'WAKE_REPORT_CONFIG', 1);
    await s.setApOnline(AP1, false, 'network');
    await simWaitFor(c, 'the edge sees AP-1 offline (network)', async () => !(await listing(AP1)).online);
    await s.setApOnline(AP1, true);
    await simWaitFor(c, 'the first config of the new session lost', () => s.lostFromEdge(AP1, 'WAKE_REPORT_CONFIG') === 3, 120_000);
    expect((await listing(AP1)).wakeReports).toBe('pending');
    await s.setApOnline(AP1, false, 'network');
    await simWaitFor(c, 'the unacknowledged session ended', async () => {
      const a = await listing(AP1);
      return !a.online && a.wakeReports === 'off';
    });
    const reportsBefore2 = s.apStats(AP1).ap.wakeReports;
    await s.setApOnline(AP1, true);
    await simWaitFor(c, 'AP-1 wake reports on after the reconnect', async () => (await listing(AP1)).wakeReports === 'on', 300_000);
    expect((await listing(AP1)).wakeReportConfigsSent).toBe(1);
    await simWaitFor(c, 'AP-1 reporting after the reconnect', () => s.apStats(AP1).ap.wakeReports > reportsBefore2, 120_000);

    // D143 The dispatcher's passes, the planner's chunks and (D147) the AP frames timed how long they held the loop, on /metrics.
    const m = (await d.http.inject({ method: 'GET', url: '/metrics', headers: authHeaders() })).body;
    const count = (task: string) => Number(new RegExp(`^esl_edge_loop_task_ms_count\\{stage="${task}"\\} (\\d+)$`, 'm').exec(m)?.[1]);
    expect(count('dispatch_pass')).toBeGreaterThan(0);
    expect(count('plan_rendered')).toBeGreaterThan(0);
    // D147 Both planner stretches run in slices (a chunk may record several of either), and each AP frame is timed.
    expect(count('plan_committed')).toBeGreaterThan(0);
    expect(count('ap_frame')).toBeGreaterThan(0);
    expect(m).toMatch(/^esl_edge_loop_task_ms_bucket\{stage="delta_turn",le="\+Inf"\} \d+$/m);
  }, 300_000);
});
