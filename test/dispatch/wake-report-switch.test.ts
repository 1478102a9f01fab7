/**
 * D89 The wake-report config (protocol §4.8) is AP session state: sent after each hello, sent again with the dispatch
 * backoff until the AP acknowledges it, never after a refusal or for a session that ended. Every wait is on the
 * injected ManualClock; the gateway is a stand-in whose answers the test gives (the e2e test
 * test/e2e/wake-report-retry.test.ts runs the real hub, broker and simulated AP).
 */
import { describe, expect, it } from 'vitest';
import { ApCapability, StatusCode, type Message, type StatusCodeValue } from '#protocol';
import { EdgeError, EdgeErrorCode } from '#contracts';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { WakeReportSwitch } from '../../src/domain/dispatch/wake-report-switch.js';
import type { WakeReportsState } from '../../src/domain/aps/ap-registry.js';

const T0 = Date.UTC(2026, 10, 30, 8, 0);
const CONFIG = { wakeReportIntervalMs: 1_000, retryBaseMs: 4_000, retryMaxMs: 40_000, heartbeatIntervalS: 30 };

interface Sent {
  apId: string;
  message: Message;
  at: number;
  answer: (status: StatusCodeValue) => void;
  fail: (err: Error) => void;
}

function rig(capabilities = ApCapability.WAKE_REPORT, config = CONFIG) {
  const clock = new ManualClock(T0);
  const sent: Sent[] = [];
  const aps = new Map<string, { capabilities: number; wakeReports: WakeReportsState; wakeReportConfigsSent: number }>();
  aps.set('AP-1', { capabilities, wakeReports: 'off', wakeReportConfigsSent: 0 });
  const reporting: string[] = [];
  const sw = new WakeReportSwitch({
    gateway: {
      send: (apId, message) =>
        new Promise<StatusCodeValue>((answer, fail) => {
          sent.push({ apId, message, at: clock.now(), answer, fail });
        }),
    },
    aps: {
      get: (apId) => aps.get(apId) as never,
      setWakeReports: (apId, state, n) => {
        const a = aps.get(apId)!;
        a.wakeReports = state;
        if (n !== undefined) a.wakeReportConfigsSent = n;
      },
    },
    clock,
    random: () => 0.5, // backoff jitter factor 1.0
    log: createLogger({ level: 'silent' }),
    config,
    onReporting: (apId) => reporting.push(apId),
  });
  const ap = () => aps.get('AP-1')!;
  return { clock, sent, sw, ap, reporting };
}
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('wake-report switch (D89)', () => {
  it('sends after the hello, and again with backoff until the AP acknowledges', async () => {
    const { clock, sent, sw, ap, reporting } = rig();
    sw.apHello('AP-1');
    expect(ap().wakeReports).toBe('pending');
    expect(sent).toHaveLength(0); // §4.8.1 after the EDGE_HELLO: the next turn of the clock
    clock.advance(0);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toEqual({ type: 'WAKE_REPORT_CONFIG', intervalMs: 1_000 });

    sent[0]!.fail(new EdgeError(EdgeErrorCode.AP_ACK_TIMEOUT, 'no ACK'));
    await settle();
    expect(ap().wakeReports).toBe('pending');
    clock.advance(3_999);
    expect(sent).toHaveLength(1);
    clock.advance(1); // backoffMs(1) = retryBaseMs
    expect(sent).toHaveLength(2);

    sent[1]!.answer(StatusCode.RETRY);
    await settle();
    clock.advance(7_999);
    expect(sent).toHaveLength(2);
    clock.advance(1); // backoffMs(2) = 2 × retryBaseMs
    expect(sent).toHaveLength(3);

    sent[2]!.answer(StatusCode.OK);
    await settle();
    expect(ap().wakeReports).toBe('on');
    expect(ap().wakeReportConfigsSent).toBe(3);
    expect(reporting).toEqual(['AP-1']);
    clock.advance(600_000);
    expect(sent).toHaveLength(3);
  });

  it('backs off at least a heartbeat interval after BUSY (§7.1)', async () => {
    const { clock, sent, sw } = rig();
    sw.apHello('AP-1');
    clock.advance(0);
    sent[0]!.answer(StatusCode.BUSY);
    await settle();
    clock.advance(29_999);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent).toHaveLength(2);
  });

  it('stops after a refusal a resend cannot change, and shows it', async () => {
    const { clock, sent, sw, ap, reporting } = rig();
    sw.apHello('AP-1');
    clock.advance(0);
    sent[0]!.answer(StatusCode.UNSUPPORTED_FEATURE);
    await settle();
    expect(ap().wakeReports).toBe('refused');
    clock.advance(600_000);
    expect(sent).toHaveLength(1);
    expect(reporting).toEqual([]);
  });

  it('waits for the next hello when the AP is offline, and ignores answers of an ended session', async () => {
    const { clock, sent, sw, ap, reporting } = rig();
    sw.apHello('AP-1');
    clock.advance(0);
    sent[0]!.fail(new EdgeError(EdgeErrorCode.AP_OFFLINE, 'AP AP-1 went offline'));
    await settle();
    expect(ap().wakeReports).toBe('off');
    clock.advance(600_000);
    expect(sent).toHaveLength(1);

    sw.apHello('AP-1');
    clock.advance(0);
    expect(sent).toHaveLength(2);
    expect(ap().wakeReportConfigsSent).toBe(1);
    // The AP restarts while the config is unacknowledged: a new session; the old send's OK says nothing of it.
    sw.apHello('AP-1');
    clock.advance(0);
    expect(sent).toHaveLength(3);
    sent[1]!.answer(StatusCode.OK);
    await settle();
    expect(ap().wakeReports).toBe('pending');
    expect(reporting).toEqual([]);
    sent[2]!.answer(StatusCode.OK);
    await settle();
    expect(ap().wakeReports).toBe('on');
    expect(reporting).toEqual(['AP-1']);

    sw.apOffline('AP-1');
    expect(ap().wakeReports).toBe('off');
  });

  it('never asks an AP without the capability, nor when reports are configured off', () => {
    const a = rig(0);
    a.sw.apHello('AP-1');
    a.clock.advance(60_000);
    expect(a.sent).toHaveLength(0);
    expect(a.ap().wakeReports).toBe('unsupported');
    const b = rig(ApCapability.WAKE_REPORT, { ...CONFIG, wakeReportIntervalMs: 0 });
    b.sw.apHello('AP-1');
    b.clock.advance(60_000);
    expect(b.sent).toHaveLength(0);
    expect(b.ap().wakeReports).toBe('disabled');
  });

  it('sends nothing after stop()', async () => {
    const { clock, sent, sw } = rig();
    sw.apHello('AP-1');
    clock.advance(0);
    sent[0]!.fail(new EdgeError(EdgeErrorCode.AP_ACK_TIMEOUT, 'no ACK'));
    await settle();
    sw.stop();
    clock.advance(600_000);
    expect(sent).toHaveLength(1);
  });
});
