/**
 * Drains the outbox to one MQTT broker: QoS 1, in order, each message marked sent only after its PUBACK. While the
 * broker is unreachable it waits and tries again; nothing is dropped (src/domain/outbox/outbox.ts).
 */
import type { MqttClient } from 'mqtt';
import type { Database } from '../persistence/database.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { markSent, pending, type OutboxDestination } from '../domain/outbox/outbox.js';

export class OutboxPublisher {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: TimerHandle | null = null;
  private stopped = false;
  sent = 0;

  constructor(
    private readonly deps: { db: Database; client: MqttClient; dest: OutboxDestination; root: string; clock: Clock; log: Logger; retryMs?: number },
  ) {
    deps.client.on('connect', () => this.kick());
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    const { db, client, dest, root, clock, log } = this.deps;
    try {
      for (;;) {
        if (!client.connected || this.stopped) return this.retryLater();
        const batch = await pending(db, dest, 100);
        if (batch.length === 0) return;
        for (const m of batch) {
          await client.publishAsync(`${root}/${m.topic}`, m.payload, { qos: 1 });
          await markSent(db, dest, m.seq, clock.now());
          this.sent++;
        }
      }
    } catch (err) {
      log.warn({ evt: 'outbox.publish_failed', dest, err: errorMessage(err) }, 'outbox delivery failed; will retry');
      this.retryLater();
    }
  }

  private retryLater(): void {
    if (this.stopped || this.timer) return;
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = null;
      this.kick();
    }, this.deps.retryMs ?? 5_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.deps.clock.clearTimeout(this.timer);
    await this.running;
  }
}
