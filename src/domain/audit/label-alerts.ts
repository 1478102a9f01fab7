/**
 * Alerts about labels, each raised once and cleared when the cause is gone: a battery below the threshold, and a
 * label not heard from for `unreachableAfterS`. They go through the durable outbox to out/alerts on the local broker
 * and to HQ (src/domain/outbox/outbox.ts).
 */
import type { Database } from '../../persistence/database.js';
import { enqueue } from '../outbox/outbox.js';

export const AlertFlag = { LOW_BATTERY: 1, NOT_HEARD: 2 } as const;
/** Hysteresis: a battery alert clears only 100 mV above the threshold, so a battery at the edge does not flap. */
const BATTERY_HYSTERESIS_MV = 100;

export class LabelAlerts {
  constructor(
    private readonly deps: { db: Database; lowBatteryMv: number; unreachableAfterS: number; onOutbox: () => void },
  ) {}

  /** After a check-in: battery alert raised or cleared, a "not heard" alert cleared. */
  async checkin(labelId: string, batteryMv: number, now: number): Promise<void> {
    let changed = false;
    await this.deps.db.transaction(async (tx) => {
      const row = await tx.get<{ alert_flags: number; gtin: string | null; ap_id: string | null }>('SELECT alert_flags, gtin, ap_id FROM labels WHERE label_id = ?', [labelId]);
      if (!row) return;
      let flags = row.alert_flags;
      const raise = async (type: string, extra: Record<string, unknown>) => {
        const id = `${type}-${labelId}-${now}`;
        await enqueue(tx, { id, topic: 'out/alerts', payload: { id, type, labelId, gtin: row.gtin, apId: row.ap_id, at: new Date(now).toISOString(), ...extra } }, now);
        changed = true;
      };
      if (!(flags & AlertFlag.LOW_BATTERY) && batteryMv < this.deps.lowBatteryMv) {
        flags |= AlertFlag.LOW_BATTERY;
        await raise('label-battery-low', { batteryMv, thresholdMv: this.deps.lowBatteryMv });
      } else if (flags & AlertFlag.LOW_BATTERY && batteryMv >= this.deps.lowBatteryMv + BATTERY_HYSTERESIS_MV) {
        flags &= ~AlertFlag.LOW_BATTERY;
        await raise('label-battery-ok', { batteryMv });
      }
      if (flags & AlertFlag.NOT_HEARD) {
        flags &= ~AlertFlag.NOT_HEARD;
        await raise('label-heard-again', {});
      }
      if (flags !== row.alert_flags) await tx.run('UPDATE labels SET alert_flags = ? WHERE label_id = ?', [flags, labelId]);
    });
    if (changed) this.deps.onOutbox();
  }

  /** Periodic: labels not heard from for too long raise one alert each. Returns how many were raised. */
  async sweep(now: number): Promise<number> {
    let raised = 0;
    await this.deps.db.transaction(async (tx) => {
      const silent = await tx.all<{ label_id: string; gtin: string | null; ap_id: string | null; last_seen_at: number }>(
        `SELECT label_id, gtin, ap_id, last_seen_at FROM labels
         WHERE last_seen_at IS NOT NULL AND last_seen_at < ? AND (alert_flags & ${AlertFlag.NOT_HEARD}) = 0`,
        [now - this.deps.unreachableAfterS * 1000],
      );
      for (const l of silent) {
        const id = `label-not-heard-${l.label_id}-${now}`;
        await enqueue(tx, { id, topic: 'out/alerts', payload: { id, type: 'label-not-heard', labelId: l.label_id, gtin: l.gtin, apId: l.ap_id, lastSeenAt: new Date(l.last_seen_at).toISOString(), at: new Date(now).toISOString() } }, now);
        await tx.run(`UPDATE labels SET alert_flags = alert_flags | ${AlertFlag.NOT_HEARD} WHERE label_id = ?`, [l.label_id]);
        raised++;
      }
    });
    if (raised > 0) this.deps.onOutbox();
    return raised;
  }
}
