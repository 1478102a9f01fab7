/**
 * Event intake over MQTT: esl/{chain}/{store}/in/{type}, QoS 1.
 *
 * "Durable before acknowledged": MQTT.js sends the PUBACK only when the `handleMessage` callback is called, and we
 * call it after the event's transaction committed (or after it was dead-lettered). A crash before that makes the
 * broker redeliver; the event id makes the redelivery a no-op. Replies go to the MQTT 5 response topic or the
 * envelope's replyTo, and only under the publisher's own reply prefix when the embedded broker names the publisher
 * (reply-scope.ts, docs/decisions.md D25), else under the store's reply/ topic, so the edge cannot be used to
 * publish anywhere else. An event with a foreign reply topic is still processed (the publisher may send events);
 * only the reply is withheld, with a warning.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from '../core/logger.js';
import { errorMessage, EVENT_TYPES, type EventType } from '#contracts';
import type { EventIntake } from '../domain/events/event-intake.js';
import { storeRoot } from './mqtt-acl.js';
import { replyPrefixFor, replyTopicWithin } from './reply-scope.js';

export class MqttEventSource {
  private readonly root: string;
  private stopped = false;

  constructor(
    private readonly client: MqttClient,
    private readonly intake: EventIntake,
    private readonly opts: { chain: string; store: string; log: Logger },
  ) {
    this.root = storeRoot(opts.chain, opts.store);
  }

  /**
   * subscribe=true: take events from the broker as a subscriber (an external broker, persistent session; the PUBACK
   * to the broker follows the commit). subscribe=false: the embedded broker calls `handle` before it acknowledges
   * the publisher (embedded-broker.ts).
   */
  async start(opts: { subscribe: boolean }): Promise<void> {
    if (!opts.subscribe) return;
    const previous = this.client.handleMessage.bind(this.client);
    this.client.handleMessage = (packet, callback) => {
      const topic = packet.topic;
      if (!topic.startsWith(`${this.root}/in/`)) return previous(packet, callback);
      if (this.stopped) return; // no PUBACK: the broker redelivers to the next edge session
      void this.handle(topic, packet.payload as Buffer, packet.properties?.responseTopic).then(
        () => callback(),
        (err: unknown) => {
          // Only a failure to commit lands here (e.g. disk full): do not acknowledge, so the broker redelivers.
          this.opts.log.error({ evt: 'intake.failed', topic, err: errorMessage(err) }, 'event not committed; not acknowledged');
        },
      );
    };
    // subscribe() is queued by MQTT.js until connected, and a persistent session keeps it across reconnects.
    this.client.subscribe(`${this.root}/in/+`, { qos: 1 }, (err) => {
      if (err) this.opts.log.error({ evt: 'intake.subscribe_failed', err: err.message }, 'cannot subscribe to events');
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** `publisher`: the username that published the event, when known (the embedded broker). */
  async handle(topic: string, payload: Buffer, responseTopic?: string, publisher?: string, receivedAt?: number): Promise<void> {
    if (this.stopped) throw new Error('event intake is stopping');
    const typeSegment = topic.slice(`${this.root}/in/`.length);
    const expectedType = (EVENT_TYPES as readonly string[]).includes(typeSegment) ? (typeSegment as EventType) : undefined;
    if (!expectedType) {
      // Strict routing (docs/decisions.md D24): only in/{event type} is an event topic. The embedded broker refuses
      // other topics before they get here; from an external broker (a subscriber cannot refuse) the message is
      // acknowledged and dropped, never ingested.
      this.opts.log.warn({ evt: 'intake.unknown_topic', topic: topic.slice(0, 200) }, 'message on an undocumented topic dropped');
      return;
    }
    const result = await this.intake.ingest(payload, { channel: 'mqtt', topic, expectedType, ...(receivedAt !== undefined ? { receivedAt } : {}) });
    const replyTopic = responseTopic ?? result.replyTo;
    if (!replyTopic) return;
    const replyPrefix = replyPrefixFor(this.root, publisher);
    if (replyTopicWithin(replyTopic, replyPrefix)) {
      // Not awaited: inside MQTT.js's handleMessage no further packet (so not the PUBACK of this reply) is read
      // until the callback runs — awaiting here would stall the session after the first event.
      this.client
        .publishAsync(replyTopic, JSON.stringify(result.reply), { qos: 1 })
        .catch((err: unknown) => this.opts.log.warn({ evt: 'intake.reply_failed', replyTopic, err: errorMessage(err) }, 'reply not sent'));
    } else {
      this.opts.log.warn(
        { evt: 'intake.reply_refused', code: 'REPLY_TO_FOREIGN', replyTopic: replyTopic.slice(0, 256), allowed: replyPrefix, publisher: publisher ?? null, status: result.reply.status },
        'reply topic outside the publisher\'s reply namespace; event processed, reply withheld',
      );
    }
  }
}
