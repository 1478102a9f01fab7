/**
 * What the edge knows of each access point: online state, capabilities and queue, from AP_HELLO and AP_HEARTBEAT
 * (protocol §5.1, §5.2). Kept in memory for dispatch decisions and mirrored to sqlite for the API and restarts.
 */
import { z } from 'zod';
import type { Database } from '../../persistence/database.js';
import type { MessageOf } from '#protocol';

/**
 * §4.8 Whether the AP's wake reports (§5.6) are on, as far as the edge knows (D89): `unsupported` (no capability bit
 * 9), `disabled` (dispatch.wakeReportIntervalMs 0), `pending` (WAKE_REPORT_CONFIG sent or to be sent again, not yet
 * acknowledged), `on` (acknowledged OK), `refused` (the AP answered a NACK that a resend will not change), `off`
 * (the AP is offline: its reports are off after its next AP_HELLO anyway). Only `on` gives wake-aware staging (D35);
 * any other state of an AP with the bit is the D19 fallback an operator should see.
 */
export const WakeReportsStateSchema = z.enum(['unsupported', 'disabled', 'pending', 'on', 'refused', 'off']);
export type WakeReportsState = z.infer<typeof WakeReportsStateSchema>;

export interface ApState {
  apId: string;
  online: boolean;
  fwVersion: string | null;
  protocolVersion: number | null;
  capabilities: number;
  channel: number | null;
  queueCapacity: number;
  queueDepth: number;
  maxBlockSize: number;
  lastSeenAt: number | null;
  /** Dispatch holds back until then after a QUEUE_FULL NACK (backpressure, §7.1). */
  backoffUntil: number;
  /** §4.8 Wake reports of this AP session (D89), and how many WAKE_REPORT_CONFIG were sent in it. */
  wakeReports: WakeReportsState;
  wakeReportConfigsSent: number;
}

export class ApRegistry {
  private readonly aps = new Map<string, ApState>();
  constructor(private readonly db: Database) {}

  async load(): Promise<void> {
    const rows = await this.db.all<{ ap_id: string; fw_version: string | null; protocol_version: number | null; capabilities: number; channel: number | null; queue_capacity: number; max_block_size: number; last_seen_at: number | null }>(
      'SELECT * FROM aps',
    );
    // Every AP starts offline: it must say hello again before the edge sends it anything.
    for (const r of rows) {
      this.aps.set(r.ap_id, {
        apId: r.ap_id,
        online: false,
        fwVersion: r.fw_version,
        protocolVersion: r.protocol_version,
        capabilities: r.capabilities,
        channel: r.channel,
        queueCapacity: r.queue_capacity,
        queueDepth: 0,
        maxBlockSize: r.max_block_size,
        lastSeenAt: r.last_seen_at,
        backoffUntil: 0,
        wakeReports: 'off',
        wakeReportConfigsSent: 0,
      });
    }
    await this.db.run('UPDATE aps SET online = 0');
  }

  get(apId: string): ApState | undefined {
    return this.aps.get(apId);
  }
  all(): ApState[] {
    return [...this.aps.values()];
  }
  online(): ApState[] {
    return this.all().filter((a) => a.online);
  }

  async hello(apId: string, h: MessageOf<'AP_HELLO'>, version: number, now: number): Promise<void> {
    const state: ApState = {
      apId,
      online: true,
      fwVersion: h.fwVersion,
      protocolVersion: version,
      capabilities: h.capabilities,
      channel: h.channel,
      queueCapacity: h.queueCapacity,
      queueDepth: 0,
      maxBlockSize: Math.min(h.maxBlockSize || 4096, 4096),
      lastSeenAt: now,
      backoffUntil: 0,
      // A new session: reports are off after every AP_HELLO (§4.8.1) until the dispatcher switches them on.
      wakeReports: 'off',
      wakeReportConfigsSent: 0,
    };
    this.aps.set(apId, state);
    await this.db.run(
      `INSERT INTO aps (ap_id, online, fw_version, protocol_version, capabilities, channel, queue_capacity, queue_depth, max_block_size, last_seen_at)
       VALUES (?, 1, ?, ?, ?, ?, ?, 0, ?, ?)
       ON CONFLICT(ap_id) DO UPDATE SET online = 1, fw_version = excluded.fw_version, protocol_version = excluded.protocol_version,
         capabilities = excluded.capabilities, channel = excluded.channel, queue_capacity = excluded.queue_capacity,
         queue_depth = 0, max_block_size = excluded.max_block_size, last_seen_at = excluded.last_seen_at`,
      [apId, h.fwVersion, version, h.capabilities, h.channel, h.queueCapacity, state.maxBlockSize, now],
    );
  }

  async heartbeat(apId: string, hb: MessageOf<'AP_HEARTBEAT'>, now: number): Promise<void> {
    const s = this.aps.get(apId);
    if (!s) return;
    s.online = true;
    s.queueDepth = hb.queueDepth;
    s.queueCapacity = hb.queueCapacity;
    s.channel = hb.channel;
    s.lastSeenAt = now;
    await this.db.run('UPDATE aps SET online = 1, queue_depth = ?, queue_capacity = ?, channel = ?, last_seen_at = ? WHERE ap_id = ?', [
      hb.queueDepth,
      hb.queueCapacity,
      hb.channel,
      now,
      apId,
    ]);
  }

  touch(apId: string, now: number): void {
    const s = this.aps.get(apId);
    if (s) s.lastSeenAt = now;
  }

  /** The dispatcher's wake-report switch (D89) records the session's state here, for the API and metrics. */
  setWakeReports(apId: string, state: WakeReportsState, configsSent?: number): void {
    const s = this.aps.get(apId);
    if (!s) return;
    s.wakeReports = state;
    if (configsSent !== undefined) s.wakeReportConfigsSent = configsSent;
  }

  async offline(apId: string): Promise<void> {
    const s = this.aps.get(apId);
    if (s) s.online = false;
    await this.db.run('UPDATE aps SET online = 0 WHERE ap_id = ?', [apId]);
  }
}
