/**
 * The MQTT request handler (request/reply, zigbee2mqtt style): `esl/{chain}/{store}/req/{kind}`, a JSON object with
 * an `id` (correlation id) and a `replyTo` under the store's reply/ topic, plus the operation's input fields. The
 * answer goes to `replyTo` with the same id: `{ id, status: "ok", result }` or `{ id, status: "error", code, reason }`.
 * Each kind runs one store operation of src/domain/operations/ (REQUEST_OPERATIONS) — the same implementation the
 * HTTP routes call. Requests are not events: they change no state worth keeping, so they need no de-duplication or
 * durability. The topics are in docs/asyncapi.json (`npm run docs:asyncapi`).
 */
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import { EdgeError, EdgeErrorCode, errorMessage, isCodedError } from '#contracts';
import { invoke } from '../domain/operations/operation.js';
import { REQUEST_OPERATIONS, type StoreOperations } from '../domain/operations/store-operations.js';
import { storeRoot } from './mqtt-acl.js';

const EnvelopeSchema = z.object({ id: z.string().min(1).max(128), replyTo: z.string().max(256) }).passthrough();
const MAX_REQUEST_BYTES = 256 * 1024;

export type RequestReply = { id: string; status: 'ok'; result: unknown } | { id: string; status: 'error'; code: string; reason: string };

export class MqttRequestSource {
  private readonly root: string;
  private readonly onMessage = (topic: string, payload: Buffer) => void this.handle(topic, payload);

  constructor(
    private readonly client: MqttClient,
    private readonly operations: StoreOperations,
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
      if (payload.length > MAX_REQUEST_BYTES) throw new EdgeError(EdgeErrorCode.REQUEST_TOO_LARGE, 'request too large');
      envelope = EnvelopeSchema.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.opts.log.warn({ evt: 'request.rejected', topic, err: errorMessage(err) }, 'request refused: no id/replyTo');
      return;
    }
    if (!envelope.replyTo.startsWith(`${this.root}/reply/`) || /[+#]/.test(envelope.replyTo)) {
      this.opts.log.warn({ evt: 'request.reply_refused', replyTo: envelope.replyTo }, 'reply topic outside the store reply/ namespace');
      return;
    }
    const { id, replyTo, ...input } = envelope;
    const answer = await this.answer(kind, id, input);
    await this.client
      .publishAsync(replyTo, JSON.stringify(answer), { qos: 1 })
      .catch((err: unknown) => this.opts.log.warn({ evt: 'request.reply_failed', err: errorMessage(err) }, 'reply not sent'));
  }

  private async answer(kind: string, id: string, input: Record<string, unknown>): Promise<RequestReply> {
    try {
      const name = Object.hasOwn(REQUEST_OPERATIONS, kind) ? REQUEST_OPERATIONS[kind as keyof typeof REQUEST_OPERATIONS] : undefined;
      if (!name) throw new EdgeError(EdgeErrorCode.REQUEST_FAILED, `unknown request "${kind}"`);
      const op = this.operations[name] as StoreOperations[typeof name] & { run(i: unknown, c: unknown): Promise<unknown> };
      return { id, status: 'ok', result: await invoke(op, input, { via: 'mqtt' }) };
    } catch (err) {
      if (err instanceof z.ZodError) return { id, status: 'error', code: EdgeErrorCode.REQUEST_SCHEMA, reason: err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
      this.opts.log.warn({ evt: 'request.failed', kind, err: errorMessage(err) }, 'request failed');
      return { id, status: 'error', code: isCodedError(err) ? err.code : EdgeErrorCode.REQUEST_FAILED, reason: errorMessage(err) };
    }
  }
}
