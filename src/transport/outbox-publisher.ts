/**
 * Drains the outbox to one MQTT broker: QoS 1, in order, each message marked sent only after its PUBACK. While the
 * broker is unreachable it waits and tries again; nothing is dropped (src/domain/outbox/outbox.ts).
 *
 * The one exception is a message larger than the broker accepts: a broker refuses it by closing the connection
 * (MQTT 3.1.1 has no negative PUBACK), so it could never be delivered, and retrying it would hold up every message
 * behind it and cut the edge's link to its APs once a second. It is recorded as a dead letter (OUTBOX_TOO_LARGE),
 * logged as an error, and skipped. The edge's own messages are built to fit (the audit report trims its exceptions).
 */
import type { MqttClient } from 'mqtt';
import type { Database } from '../persistence/database.js';
import { recordDeadLetter } from '../persistence/dead-letters.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { EdgeErrorCode, errorMessage } from '#contracts';
import { markSent, markSentMany, pending, type OutboxDestination, type OutboxMessage } from '../domain/outbox/outbox.js';

export class OutboxPublisher {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** Every message up to this seq was delivered or skipped: the next read starts after it (outbox.ts `pending`). */
  private cursor = 0;
  sent = 0;

  constructor(
    private readonly deps: {
      db: Database;
      client: MqttClient;
      dest: OutboxDestination;
      root: string;
      clock: Clock;
      log: Logger;
      retryMs?: number;
      /** The largest MQTT message the broker accepts (payload and topic). */
      maxMessageBytes: number;
    },
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
    const { db, client, dest, root, log } = this.deps;
    try {
      for (;;) {
        if (!client.connected || this.stopped) return this.retryLater();
        const batch = await pending(db, dest, 100, this.cursor);
        if (batch.length === 0) return;
        // A batch is published with every message in flight at once and marked in one statement after the PUBACKs
        // (one commit per batch, not per message: D66). MQTT 3.1.1 §4.6 keeps a connection's messages in order.
        let run: OutboxMessage[] = [];
        for (const m of batch) {
          const topic = `${root}/${m.topic}`;
          const bytes = Buffer.byteLength(m.payload) + Buffer.byteLength(topic) + 16;
          if (bytes > this.deps.maxMessageBytes) {
            await this.publishRun(run);
            run = [];
            await this.skipTooLarge(m, topic, bytes);
            this.cursor = m.seq;
            continue;
          }
          run.push(m);
        }
        await this.publishRun(run);
      }
    } catch (err) {
      log.warn({ evt: 'outbox.publish_failed', dest, err: errorMessage(err) }, 'outbox delivery failed; will retry');
      this.retryLater();
    }
  }

  /**
   * Publishes `run` (QoS 1, all in flight), then marks delivered the messages up to the first that failed; throws
   * that failure, so the rest is retried in order (a receiver de-duplicates by id what it may see twice).
   */
  private async publishRun(run: readonly OutboxMessage[]): Promise<void> {
    if (run.length === 0) return;
    const { db, client, dest, root, clock } = this.deps;
    const results = await Promise.allSettled(run.map((m) => client.publishAsync(`${root}/${m.topic}`, m.payload, { qos: 1 })));
    const failed = results.findIndex((r) => r.status === 'rejected');
    const acked = failed < 0 ? run : run.slice(0, failed);
    if (acked.length > 0) {
      await markSentMany(
        db,
        dest,
        acked.map((m) => m.seq),
        clock.now(),
      );
      this.sent += acked.length;
      this.cursor = acked[acked.length - 1]!.seq;
    }
    if (failed >= 0) throw (results[failed] as PromiseRejectedResult).reason;
  }

  private async skipTooLarge(m: OutboxMessage, topic: string, bytes: number): Promise<void> {
    const { db, dest, clock, log } = this.deps;
    const reason = `outbox message ${m.id} for ${topic} is ${bytes} bytes; the ${dest} broker takes at most ${this.deps.maxMessageBytes}`;
    log.error({ evt: 'outbox.too_large', dest, id: m.id, topic, bytes, limit: this.deps.maxMessageBytes }, 'outbox message too large for the broker; skipped');
    await db.transaction(async (tx) => {
      await recordDeadLetter(tx, { at: clock.now(), channel: `outbox-${dest}`, topic, source: 'esl-edge', id: m.id, code: EdgeErrorCode.OUTBOX_TOO_LARGE, reason, payload: Buffer.from(m.payload).subarray(0, 4096) });
      await markSent(tx, dest, m.seq, clock.now());
    });
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
