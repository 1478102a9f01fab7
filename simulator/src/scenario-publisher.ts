/**
 * Sends events to the edge over MQTT as a POS or HQ publisher does: QoS 1 on esl/{chain}/{store}/in/{type}, the
 * envelope's replyTo under the publisher's own reply/ namespace (the only one its ACL lets it read), and waits for
 * the edge's answer. "applied", "duplicate" and "stale" are answers; "rejected" is an EslError SCENARIO_EVENT_REJECTED, because a
 * scenario only sends events the edge must accept.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { type EdgeEvent, errorMessage, EslError, type EventReply, EventReplySchema } from '#contracts';

export interface PublisherOptions {
  brokerUrl: string;
  username: string;
  password: string;
  chain: string;
  store: string;
  /** How long to wait for the edge's reply to one event (wall-clock ms, default 60 s: a large batch is one sqlite transaction). */
  replyTimeoutMs?: number;
}

export interface PublisherStats {
  /** MQTT messages published (a batch is one). */
  messages: number;
  /** Events they contained (a batch counts its events). */
  events: number;
  bytes: number;
}

interface Waiter {
  resolve: (r: EventReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class EventPublisher {
  readonly stats: PublisherStats = { messages: 0, events: 0, bytes: 0 };
  private readonly waiters = new Map<string, Waiter>();

  private constructor(
    private readonly client: MqttClient,
    private readonly root: string,
    private readonly replyTopic: string,
    private readonly replyTimeoutMs: number,
  ) {
    client.on('message', (topic, payload) => {
      if (topic !== this.replyTopic) return;
      let reply: EventReply;
      try {
        reply = EventReplySchema.parse(JSON.parse(payload.toString('utf8')));
      } catch {
        return;
      }
      const w = reply.eventId === null ? undefined : this.waiters.get(reply.eventId);
      if (w === undefined) return;
      clearTimeout(w.timer);
      this.waiters.delete(reply.eventId!);
      w.resolve(reply);
    });
  }

  static async connect(opts: PublisherOptions): Promise<EventPublisher> {
    const root = `esl/${opts.chain}/${opts.store}`;
    const replyTopic = `${root}/reply/${opts.username}/esl-sim-${randomBytes(4).toString('hex')}`;
    let client: MqttClient;
    try {
      client = await mqtt.connectAsync(opts.brokerUrl, {
        username: opts.username,
        password: opts.password,
        clientId: `esl-sim-publisher-${randomBytes(4).toString('hex')}`,
        clean: true,
        // MQTT 3.1.1: the edge's embedded aedes broker speaks no MQTT 5.
        protocolVersion: 4,
        reconnectPeriod: 1_000,
        connectTimeout: 10_000,
      });
    } catch (err) {
      throw new EslError('SCENARIO_EDGE_ERROR', `publisher ${opts.username} cannot connect to ${opts.brokerUrl}: ${errorMessage(err)}`);
    }
    const granted = await client.subscribeAsync(replyTopic, { qos: 1 });
    // A refused subscription is granted with QoS 128: the publisher would never hear the edge's answers.
    if (granted.some((g) => g.qos === 128)) {
      await client.endAsync(true);
      throw new EslError('SCENARIO_CREDENTIALS', `user ${opts.username} may not read ${replyTopic}: is it a "publisher" user of this store (${root})?`);
    }
    return new EventPublisher(client, root, replyTopic, opts.replyTimeoutMs ?? 60_000);
  }

  /** Publishes one event (single or batch) and resolves with the edge's reply. */
  async send(event: EdgeEvent): Promise<EventReply> {
    const payload = JSON.stringify({ ...event, replyTo: this.replyTopic });
    const reply = new Promise<EventReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(event.id);
        reject(new EslError('SCENARIO_EVENT_TIMEOUT', `no reply from the edge to event ${event.id} within ${this.replyTimeoutMs} ms`));
      }, this.replyTimeoutMs);
      // The embedded broker commits the event before it acknowledges the publish, so the reply can arrive first.
      this.waiters.set(event.id, { resolve, reject, timer });
    });
    // close() or the timer may reject the reply while the publish is still in flight; the rejection is handled by
    // the `await reply` below, and must not surface as an unhandled rejection before it.
    reply.catch(() => undefined);
    try {
      await this.client.publishAsync(`${this.root}/in/${event.type}`, payload, { qos: 1 });
    } catch (err) {
      const w = this.waiters.get(event.id);
      if (w !== undefined) clearTimeout(w.timer);
      this.waiters.delete(event.id);
      throw new EslError('SCENARIO_EDGE_ERROR', `cannot publish event ${event.id}: ${errorMessage(err)}`);
    }
    this.stats.messages++;
    this.stats.events += event.type === 'batch' ? event.data.events.length : 1;
    this.stats.bytes += Buffer.byteLength(payload);
    const r = await reply;
    if (r.status === 'rejected') throw new EslError('SCENARIO_EVENT_REJECTED', `the edge rejected event ${event.id}: ${r.code ?? ''} ${r.reason ?? ''}`.trim());
    return r;
  }

  async close(): Promise<void> {
    for (const [id, w] of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new EslError('SCENARIO_EDGE_ERROR', `publisher closed before the reply to ${id}`));
    }
    this.waiters.clear();
    await this.client.endAsync(true).catch(() => undefined);
  }
}
