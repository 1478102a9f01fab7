import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, EventReplySchema, EventSchema, REQUEST_KINDS } from '#contracts';
import { ASYNCAPI_FILE, buildAsyncApiDocument, renderAsyncApi } from '../../hq/src/asyncapi.js';

type Json = Record<string, unknown>;
const doc = buildAsyncApiDocument() as Json;
const get = (obj: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((o, k) => (o as Json | undefined)?.[k], obj);

function resolvePointer(ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return get(doc, ...ref.slice(2).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')));
}

function collectRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) collectRefs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else collectRefs(v, out);
    }
  }
  return out;
}

describe('AsyncAPI document', () => {
  it('the committed docs/asyncapi.json is what the generator produces now (run `npm run docs:asyncapi` after a schema change)', () => {
    expect(readFileSync(ASYNCAPI_FILE, 'utf8')).toBe(renderAsyncApi());
  });

  it('is AsyncAPI 3.0 with a channel, a message, a payload schema and a receive operation with a reply for every event type', () => {
    expect(doc.asyncapi).toBe('3.0.0');
    for (const type of EVENT_TYPES) {
      expect(get(doc, 'channels', `in_${type}`, 'address')).toBe(`esl/{chain}/{store}/in/${type}`);
      const message = resolvePointer(`#/components/messages/${type}Event`) as Json;
      expect(message.contentType).toBe('application/json');
      expect(resolvePointer((message.payload as Json).$ref as string)).toMatchObject({ type: 'object', required: expect.arrayContaining(['id', 'source', 'version', 'type', 'data']) });
      const op = get(doc, 'operations', `receive_${type}`) as Json;
      expect(op.action).toBe('receive');
      expect(get(op, 'reply', 'address', 'location')).toBe('$message.payload#/replyTo');
      expect(get(op, 'bindings', 'mqtt', 'qos')).toBe(1);
    }
    expect(get(doc, 'channels', 'reply', 'address')).toBe('esl/{chain}/{store}/reply/{publisher}/{replyId}');
  });

  it('describes the AP channels with the binary payload of the protocol spec', () => {
    for (const [channel, leaf] of [
      ['ap_up', 'up'],
      ['ap_down', 'down'],
      ['ap_status', 'status'],
    ] as const) {
      expect(get(doc, 'channels', channel, 'address')).toBe(`esl/{chain}/{store}/ap/{apId}/${leaf}`);
    }
    expect(get(doc, 'components', 'messages', 'apFrame', 'contentType')).toBe('application/octet-stream');
    expect(JSON.stringify(get(doc, 'components', 'messages', 'apFrame'))).toContain('firmware-protocol/README.md §3');
    expect(get(doc, 'operations', 'send_ap_down', 'action')).toBe('send');
  });

  it('every $ref resolves and every example satisfies the zod contract', () => {
    const refs = collectRefs(doc);
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) expect(resolvePointer(ref), ref).toBeDefined();
    for (const type of EVENT_TYPES) {
      const examples = get(doc, 'components', 'messages', `${type}Event`, 'examples') as { payload: unknown }[];
      expect(examples.length).toBeGreaterThan(0);
      for (const e of examples) expect(EventSchema.parse(e.payload).type).toBe(type);
    }
    for (const e of get(doc, 'components', 'messages', 'eventReply', 'examples') as { payload: unknown }[]) expect(EventReplySchema.safeParse(e.payload).success).toBe(true);
  });

  it('states the constraints JSON Schema cannot express', () => {
    expect(get(doc, 'components', 'schemas', 'Gtin', 'description')).toMatch(/check digit/);
    expect(get(doc, 'components', 'schemas', 'PromotionData', 'description')).toMatch(/Exactly one of promoPriceCents and percentOff; end after start/);
    expect(get(doc, 'components', 'schemas', 'PriceData', 'properties', 'priceCents')).toEqual({ type: 'integer', minimum: 0, maximum: 100_000_000 });
  });

  it('describes a request channel with the envelope and a reply for every store operation offered over MQTT', () => {
    for (const kind of REQUEST_KINDS) {
      expect(get(doc, 'channels', `req_${kind}`, 'address')).toBe(`esl/{chain}/{store}/req/${kind}`);
      const op = get(doc, 'operations', `receive_req_${kind}`) as Json;
      expect(get(op, 'reply', 'address', 'location')).toBe('$message.payload#/replyTo');
      const message = resolvePointer((get(doc, 'channels', `req_${kind}`, 'messages', `${kind}Request`) as Json).$ref as string) as Json;
      expect(resolvePointer((message.payload as Json).$ref as string)).toMatchObject({ type: 'object', required: expect.arrayContaining(['id', 'replyTo']) });
    }
  });
});
