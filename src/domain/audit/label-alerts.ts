/**
 * Alerts about labels, each raised once and cleared when the cause is gone: a battery below the threshold, and a
 * label not heard from for `unreachableAfterS`. They go through the durable outbox to out/alerts on the local broker
 * and to HQ (src/domain/outbox/outbox.ts). The flags that say "raised" belong to the label store (D17) and are
 * written in the same transaction as the alert.
 */
import type { Database } from '../../persistence/database.js';
import type { LabelStore } from '../labels/label-store.js';
import { enqueue } from '../outbox/outbox.js';

export const AlertFlag = { LOW_BATTERY: 1, NOT_HEARD: 2 } as const;
/** Hysteresis: a battery alert clears only 100 mV above the threshold, so a battery at the edge does not flap. */
const BATTERY_HYSTERESIS_MV = 100;

export class LabelAlerts {
  constructor(
    private readonly deps: { db: Database; labels: LabelStore; lowBatteryMv: number; unreachableAfterS: number; onOutbox: () => void },
  ) {}

  /** After a check-in: battery alert raised or cleared, a "not heard" alert cleared. */
  async checkin(labelId: string, batteryMv: number, now: number): Promise<void> {
    // Most check-ins change nothing: decide from memory, and open a transaction only to raise or clear an alert.
    if (this.decide(labelId, batteryMv).raised.length === 0) return;
    let changed = false;
    await this.deps.db.transaction(async (tx) => {
      // Again inside the transaction: an alert committed just before (another check-in) is in memory by now.
      const label = this.deps.labels.get(labelId);
      const { flags, raised } = this.decide(labelId, batteryMv);
      if (!label || raised.length === 0) return;
      for (const [type, extra] of raised) {
        const id = `${type}-${labelId}-${now}`;
        await enqueue(tx, { id, topic: 'out/alerts', payload: { id, type, labelId, gtin: label.gtin, apId: label.apId, at: new Date(now).toISOString(), ...extra } }, now);
      }
      await this.deps.labels.setAlertFlagsTx(tx, labelId, flags);
      changed = true;
    });
    if (changed) this.deps.onOutbox();
  }

  private decide(labelId: string, batteryMv: number): { flags: number; raised: [string, Record<string, unknown>][] } {
    const label = this.deps.labels.get(labelId);
    const raised: [string, Record<string, unknown>][] = [];
    if (!label) return { flags: 0, raised };
    let flags = label.alertFlags;
    if (!(flags & AlertFlag.LOW_BATTERY) && batteryMv < this.deps.lowBatteryMv) {
      flags |= AlertFlag.LOW_BATTERY;
      raised.push(['label-battery-low', { batteryMv, thresholdMv: this.deps.lowBatteryMv }]);
    } else if (flags & AlertFlag.LOW_BATTERY && batteryMv >= this.deps.lowBatteryMv + BATTERY_HYSTERESIS_MV) {
      flags &= ~AlertFlag.LOW_BATTERY;
      raised.push(['label-battery-ok', { batteryMv }]);
    }
    if (flags & AlertFlag.NOT_HEARD) {
      flags &= ~AlertFlag.NOT_HEARD;
      raised.push(['label-heard-again', {}]);
    }
    return { flags, raised };
  }

  /** Periodic: labels not heard from for too long raise one alert each. Returns how many were raised. */
  async sweep(now: number): Promise<number> {
    const limit = now - this.deps.unreachableAfterS * 1000;
    const silent = () => [...this.deps.labels.all()].filter((l) => l.lastSeenAt !== null && l.lastSeenAt < limit && (l.alertFlags & AlertFlag.NOT_HEARD) === 0);
    if (silent().length === 0) return 0;
    let raised = 0;
    await this.deps.db.transaction(async (tx) => {
      for (const l of silent()) {
        const id = `label-not-heard-${l.id}-${now}`;
        await enqueue(tx, { id, topic: 'out/alerts', payload: { id, type: 'label-not-heard', labelId: l.id, gtin: l.gtin, apId: l.apId, lastSeenAt: new Date(l.lastSeenAt!).toISOString(), at: new Date(now).toISOString() } }, now);
        await this.deps.labels.setAlertFlagsTx(tx, l.id, l.alertFlags | AlertFlag.NOT_HEARD);
        raised++;
      }
    });
    if (raised > 0) this.deps.onOutbox();
    return raised;
  }
}
