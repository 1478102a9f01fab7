/**
 * §4.8 Switches each AP's wake reports (§5.6) on, as part of the AP session (D34, D89).
 *
 * Reports are off after every AP_HELLO (§4.8.1), so each session starts `pending`: WAKE_REPORT_CONFIG goes out after
 * the EDGE_HELLO that answers the hello, and is sent again — with the backoff of every other edge→AP command that
 * failed (backoff.ts, dispatch.retryBaseMs … retryMaxMs) — until the AP acknowledges it. Before D89 one lost frame
 * (no ACK, link down, AP restarted in between) left the AP without reports for the rest of its session, and
 * wake-aware staging silently fell back to D19 for its labels. The state of each session is recorded in the AP
 * registry (`wakeReports`), so the AP listing and /metrics show an AP without reports.
 *
 * What ends the retries: an ACK OK (`on`); a NACK a resend cannot change, such as UNSUPPORTED_FEATURE (`refused`,
 * logged); the AP going offline (`off`: its next AP_HELLO starts a new session, §7.3 "sent again as a new frame").
 * Answers that belong to an earlier session of the same AP are ignored.
 */
import { ApCapability, StatusCode, type StatusCodeValue } from '#protocol';
import { errorMessage, isEslError } from '#contracts';
import type { Clock, Random, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { Config } from '../../config/config-schema.js';
import type { ApGateway } from '../ports.js';
import type { ApRegistry } from '../aps/ap-registry.js';
import { backoffMs } from './backoff.js';

/** NACKs that say "not now" (§13.2): the same config is sent again later. Any other NACK is a refusal. */
const TRANSIENT: ReadonlySet<StatusCodeValue> = new Set([StatusCode.RETRY, StatusCode.QUEUE_FULL, StatusCode.BUSY, StatusCode.INTERNAL_ERROR, StatusCode.HELLO_REQUIRED]);
/** §7.1 After QUEUE_FULL or BUSY the sender backs off at least one heartbeat interval. */
const BACK_OFF: ReadonlySet<StatusCodeValue> = new Set([StatusCode.QUEUE_FULL, StatusCode.BUSY]);

interface Session {
  attempts: number;
  timer: TimerHandle | null;
}

export class WakeReportSwitch {
  /** Sessions whose config is not yet acknowledged or refused, by AP; an answer counts only for its own session. */
  private readonly sessions = new Map<string, Session>();
  private stopped = false;

  constructor(
    private readonly deps: {
      gateway: ApGateway;
      aps: Pick<ApRegistry, 'get' | 'setWakeReports'>;
      clock: Clock;
      random: Random;
      log: Logger;
      config: Pick<Config['dispatch'], 'wakeReportIntervalMs' | 'retryBaseMs' | 'retryMaxMs' | 'heartbeatIntervalS'>;
      /** The AP acknowledged the config: its reports are on from now (the dispatcher stages by them, D35). */
      onReporting: (apId: string) => void;
    },
  ) {}

  /**
   * The AP said hello (a new session, reports off). Only an AP with capability WAKE_REPORT is asked (§4.8); the
   * first send waits for the next turn of the clock, after the EDGE_HELLO that answers the AP_HELLO (§4.8.1).
   */
  apHello(apId: string): void {
    this.end(apId);
    const { aps, config } = this.deps;
    const ap = aps.get(apId);
    if (!ap || this.stopped) return;
    if ((ap.capabilities & ApCapability.WAKE_REPORT) === 0) return aps.setWakeReports(apId, 'unsupported', 0);
    if (config.wakeReportIntervalMs <= 0) return aps.setWakeReports(apId, 'disabled', 0);
    const s: Session = { attempts: 0, timer: null };
    this.sessions.set(apId, s);
    aps.setWakeReports(apId, 'pending', 0);
    this.sendLater(apId, s, 0);
  }

  /** The AP went offline: nothing more is sent in this session; its next hello starts again. */
  apOffline(apId: string): void {
    const ap = this.deps.aps.get(apId);
    this.end(apId);
    if (ap && (ap.wakeReports === 'pending' || ap.wakeReports === 'on')) this.deps.aps.setWakeReports(apId, 'off');
  }

  stop(): void {
    this.stopped = true;
    for (const apId of [...this.sessions.keys()]) this.end(apId);
  }

  private end(apId: string): void {
    const s = this.sessions.get(apId);
    if (s?.timer) this.deps.clock.clearTimeout(s.timer);
    this.sessions.delete(apId);
  }

  private sendLater(apId: string, s: Session, ms: number): void {
    s.timer = this.deps.clock.setTimeout(() => {
      s.timer = null;
      this.send(apId, s);
    }, ms);
  }

  private send(apId: string, s: Session): void {
    if (this.stopped || this.sessions.get(apId) !== s) return;
    s.attempts++;
    this.deps.aps.setWakeReports(apId, 'pending', s.attempts);
    // The gateway waits for the ACK (§7.1) and, on the serial line, retransmits the same frame (§7.3).
    const intervalMs = Math.min(0xffff, this.deps.config.wakeReportIntervalMs);
    this.deps.gateway.send(apId, { type: 'WAKE_REPORT_CONFIG', intervalMs }).then(
      (status) => this.answered(apId, s, status),
      (err: unknown) => this.failed(apId, s, err),
    );
  }

  private answered(apId: string, s: Session, status: StatusCodeValue): void {
    if (this.stopped || this.sessions.get(apId) !== s) return;
    const { aps, log } = this.deps;
    if (status === StatusCode.OK) {
      this.sessions.delete(apId);
      aps.setWakeReports(apId, 'on');
      log.info({ evt: 'ap.wake_reports_on', apId, attempts: s.attempts }, 'AP wake reports on');
      this.deps.onReporting(apId);
      return;
    }
    if (TRANSIENT.has(status)) {
      const floor = BACK_OFF.has(status) ? this.deps.config.heartbeatIntervalS * 1000 : 0;
      this.retry(apId, s, `AP answered status ${status}`, floor);
      return;
    }
    this.sessions.delete(apId);
    aps.setWakeReports(apId, 'refused');
    log.warn({ evt: 'ap.wake_report_refused', apId, status, attempts: s.attempts }, 'AP refused wake reports; its labels are staged without them');
  }

  private failed(apId: string, s: Session, err: unknown): void {
    if (this.stopped || this.sessions.get(apId) !== s) return;
    if (isEslError(err, 'AP_OFFLINE', 'SHUTTING_DOWN')) {
      // No session on the link any more: the AP's next hello switches its reports on (apHello).
      this.end(apId);
      this.deps.aps.setWakeReports(apId, 'off');
      this.deps.log.info({ evt: 'ap.wake_report_offline', apId, attempts: s.attempts, err: errorMessage(err) }, 'AP went offline before its wake reports were on');
      return;
    }
    this.retry(apId, s, errorMessage(err), 0);
  }

  private retry(apId: string, s: Session, reason: string, floorMs: number): void {
    const delayMs = Math.max(floorMs, backoffMs(s.attempts, this.deps.config, this.deps.random));
    this.deps.log.warn({ evt: 'ap.wake_report_retry', apId, attempts: s.attempts, delayMs, reason }, 'wake-report config not acknowledged; sending it again');
    this.sendLater(apId, s, delayMs);
  }
}
