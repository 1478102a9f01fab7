/**
 * The MQTT request/reply part of the AsyncAPI document (issue 15): one channel `esl/{chain}/{store}/req/{kind}` per
 * store operation offered over MQTT (REQUEST_OPERATIONS), its payload the request envelope (`id` = correlation id,
 * `replyTo` under the store's reply/ topic) plus the operation's own zod input, and the answer on `replyTo`
 * (zigbee2mqtt's request/response style). Kept beside asyncapi.ts so that a new kind without its input schema here
 * does not compile (the map is checked against RequestKind).
 */
import { z } from 'zod';
import {
  AuditSummaryRequestSchema,
  BindRequestSchema,
  FlashRequestSchema,
  PickRequestSchema,
  ReportRequestSchema,
  ResendRequestSchema,
  type RequestKind,
} from '#contracts';

const REQUESTS: Record<RequestKind, { input: z.ZodObject; summary: string; example: Record<string, unknown> }> = {
  audit: { input: AuditSummaryRequestSchema, summary: 'The audit summary as sent to HQ on out/audit (counts, times to consistency, worst exceptions), answered at once.', example: {} },
  report: { input: ReportRequestSchema, summary: 'Queue an audit report to HQ now (out/audit, durable outbox); answers { reportId }.', example: {} },
  flash: { input: FlashRequestSchema, summary: "Flash a label's LED (find-my-label); answers { labelId, apId, outcome }.", example: { labelId: '0000AABBCC000001', colour: 'blue' } },
  pick: { input: PickRequestSchema, summary: 'Pick-to-light: flash the labels of all products of an order; answers each outcome and the GTINs without a label.', example: { orderId: 'CC-77', gtins: ['4006381333931'] } },
  resend: { input: ResendRequestSchema, summary: 'Send a label its desired picture again now (full image, attempts reset); answers { labelId, outcome }.', example: { labelId: '0000AABBCC000001' } },
  bind: { input: BindRequestSchema, summary: 'Bind a label to a product and template, or unbind it (gtin null); answers the event reply of the binding.', example: { labelId: '0000AABBCC000001', gtin: '4006381333931' } },
};

const Envelope = z.object({
  id: z.string().min(1).max(128).describe('Correlation id, chosen by the requester; the reply carries it.'),
  replyTo: z.string().max(256).describe("Where the reply goes: under esl/{chain}/{store}/reply/ (on the embedded broker under the requester's own reply/{username}/)."),
});

const RequestReplySchema = z.union([
  z.object({ id: z.string(), status: z.literal('ok'), result: z.unknown().describe("The operation's result.") }),
  z.object({ id: z.string(), status: z.literal('error'), code: z.string().describe('REQUEST_SCHEMA, REQUEST_FAILED or an operation\'s own code (docs/error-codes.md).'), reason: z.string() }),
]);

const ref = (to: string) => ({ $ref: to });
const MQTT_QOS1 = { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } };

/** Adds the request channels, operations, messages and schemas to the document's maps. */
export function addRequestChannels(doc: { channels: Record<string, unknown>; operations: Record<string, unknown>; messages: Record<string, unknown>; schemas: Record<string, unknown> }, storeParameters: Record<string, unknown>): void {
  doc.schemas.RequestReply = z.toJSONSchema(RequestReplySchema, { target: 'draft-7', unrepresentable: 'any' });
  doc.messages.requestReply = {
    name: 'requestReply',
    title: 'Request reply',
    contentType: 'application/json',
    payload: ref('#/components/schemas/RequestReply'),
    examples: [
      { name: 'ok', payload: { id: 'order-77', status: 'ok', result: { orderId: 'CC-77', results: [], missingGtins: ['4006381333931'] } } },
      { name: 'schema', payload: { id: 'bad-pick', status: 'error', code: 'REQUEST_SCHEMA', reason: 'gtins: Too small: expected array to have >=1 items' } },
    ],
  };
  for (const [kind, r] of Object.entries(REQUESTS) as [RequestKind, (typeof REQUESTS)[RequestKind]][]) {
    const id = `${kind[0]!.toUpperCase()}${kind.slice(1)}Request`;
    const message = `${kind}Request`;
    doc.schemas[id] = z.toJSONSchema(r.input.extend(Envelope.shape), { target: 'draft-7', io: 'input', unrepresentable: 'any' });
    doc.messages[message] = {
      name: message,
      title: `${kind} request`,
      summary: r.summary,
      contentType: 'application/json',
      payload: ref(`#/components/schemas/${id}`),
      examples: [{ name: kind, payload: { id: `${kind}-1`, replyTo: `esl/acme/store-0042/reply/pos/${kind}-1`, ...r.example } }],
    };
    doc.channels[`req_${kind}`] = {
      address: `esl/{chain}/{store}/req/${kind}`,
      title: `${kind} requests to a store`,
      description: `Store operation "${kind}" (src/domain/operations/), the same the HTTP API runs. ${r.summary}`,
      parameters: storeParameters,
      messages: { [message]: ref(`#/components/messages/${message}`) },
    };
    doc.operations[`receive_req_${kind}`] = {
      action: 'receive',
      title: `The edge runs the ${kind} operation`,
      description: 'QoS 1. Not an event: no de-duplication, nothing durable; a request without id or with a replyTo outside the store\'s reply/ topic is dropped (no one to answer).',
      channel: ref(`#/channels/req_${kind}`),
      messages: [ref(`#/channels/req_${kind}/messages/${message}`)],
      bindings: MQTT_QOS1,
      reply: {
        address: { location: '$message.payload#/replyTo', description: 'The request\'s replyTo, under esl/{chain}/{store}/reply/.' },
        channel: ref('#/channels/reply'),
        messages: [ref('#/channels/reply/messages/requestReply')],
      },
    };
  }
}
