/**
 * Requests over MQTT (request/reply, zigbee2mqtt style): esl/{chain}/{store}/req/{audit|flash|pick}, JSON with an
 * `id` and a `replyTo` under the store's reply/ topic; the answer carries the same id. Requests are not events: they
 * change no state worth keeping, so they need no de-duplication or durability.
 */
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { storeRoot } from './mqtt-acl.js';

export type RequestHandler = (body: unknown) => Promise<unknown>;

const EnvelopeSchema = z.object({ id: z.string().min(1).max(128), replyTo: z.string().max(256) }).passthrough();
const MAX_REQUEST_BYTES = 256 * 1024;

export class MqttRequestSource {
  private readonly root: string;
  private readonly onMessage = (topic: string, payload: Buffer) => void this.handle(topic, payload);

  constructor(
    private readonly client: MqttClient,
    private readonly handlers: Record<string, RequestHandler>,
    private readonly opts: { chain: string; store: string; log: Logger },
  ) {
    this.root = storeRoot(opts.chain, opts.store);
  }

  async start(): Promise<void> {
    this.client.on('message', this.onMessage);
    this.client.subscribe(`${this.root}/req/+`, { qos: 1 }, (err) => {
      if (err) this.opts.log.error({ evt: 'requests.subscribe_failed', err: err.message }, 'cannot subscribe to requests');
    });
  }

  stop(): void {
    this.client.off('message', this.onMessage);
  }

  private async handle(topic: string, payload: Buffer): Promise<void> {
    if (!topic.startsWith(`${this.root}/req/`)) return;
    const kind = topic.slice(`${this.root}/req/`.length);
    let envelope: z.infer<typeof EnvelopeSchema>;
    try {
      if (payload.length > MAX_REQUEST_BYTES) throw new Error('request too large');
      envelope = EnvelopeSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.opts.log.warn({ evt: 'request.rejected', topic, err: errorMessage(err) }, 'request refused: no id/replyTo');
      return;
    }
    if (!envelope.replyTo.startsWith(`${this.root}/reply/`) || /[+#]/.test(envelope.replyTo)) {
      this.opts.log.warn({ evt: 'request.reply_refused', replyTo: envelope.replyTo }, 'reply topic outside the store reply/ namespace');
      return;
    }
    const handler = this.handlers[kind];
    let answer: unknown;
    try {
      if (!handler) throw new Error(`unknown request "${kind}"`);
      answer = { id: envelope.id, status: 'ok', result: await handler(envelope) };
    } catch (err) {
      const message = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : errorMessage(err);
      answer = { id: envelope.id, status: 'error', code: err instanceof z.ZodError ? 'REQUEST_SCHEMA' : 'REQUEST_FAILED', reason: message };
    }
    await this.client
      .publishAsync(envelope.replyTo, JSON.stringify(answer), { qos: 1 })
      .catch((err: unknown) => this.opts.log.warn({ evt: 'request.reply_failed', err: errorMessage(err) }, 'reply not sent'));
  }
}
