/**
 * The published MQTT contract of a store's edge as an AsyncAPI 3.0 document (docs/asyncapi.json), generated from
 * the zod schemas in event-schemas.ts so that it cannot say something the edge does not do. The document describes
 * the edge: it receives events on esl/{chain}/{store}/in/{type}, answers on the event's replyTo, and speaks the
 * binary AP protocol on esl/{chain}/{store}/ap/{apId}/… (firmware-protocol/README.md §11); store operations are
 * requested on esl/{chain}/{store}/req/{kind} and answered on the request's replyTo (asyncapi-requests.ts).
 *
 * `npm run docs:asyncapi` writes the file; test/hq/asyncapi.test.ts fails when the committed file differs from
 * what this generator produces, so a schema change without a regenerated document does not pass.
 *
 * JSON Schema draft-07 (what AsyncAPI's schema format extends); refinements zod cannot express (the GTIN check
 * digit, "exactly one of promoPriceCents or percentOff", "end after start") are stated in descriptions.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  BatchEventSchema,
  BindingDataSchema,
  BindingEventSchema,
  EVENT_TYPES,
  LotEventSchema,
  RulesEventSchema,
  EventReplySchema,
  EventSchema,
  GtinSchema,
  LabelIdSchema,
  PackUnitSchema,
  PriceDataSchema,
  PriceEventSchema,
  ProductDataSchema,
  ProductEventSchema,
  PromotionDataSchema,
  PromotionEventSchema,
  SingleEventSchema,
  StockDataSchema,
  StockEventSchema,
  type EdgeEvent,
  type EventType,
} from '#contracts';
import { addRequestChannels } from './asyncapi-requests.js';

/**
 * The package root: this module runs from source (`npm run docs:asyncapi`, the test), two folders below it. The HQ tool
 * imports nothing of the edge but the shared contracts (D77), so not the edge's package-root.ts.
 */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ASYNCAPI_FILE = path.join(PACKAGE_ROOT, 'docs', 'asyncapi.json');

const EVENT_SCHEMAS: Record<EventType, { schema: z.ZodType; id: string; summary: string }> = {
  product: { schema: ProductEventSchema, id: 'ProductEvent', summary: 'Product master data: name, brand, pack size (the unit-price basis, PAngV §4/§5).' },
  price: { schema: PriceEventSchema, id: 'PriceEvent', summary: 'A regular price in cents, from an instant or at once.' },
  stock: { schema: StockEventSchema, id: 'StockEvent', summary: 'Stock level of a product in the store.' },
  promotion: { schema: PromotionEventSchema, id: 'PromotionEvent', summary: 'A promotion: GTINs, a promotion price or a percent off, start and end.' },
  binding: { schema: BindingEventSchema, id: 'BindingEvent', summary: 'Binds a label to a product (or unbinds it).' },
  rules: { schema: RulesEventSchema, id: 'RulesEvent', summary: 'A label rule set (low-stock promotion, short-dated markdown, price guard, out-of-stock picture) for the chain or this store; replaces the set of that scope atomically.' },
  lot: { schema: LotEventSchema, id: 'LotEvent', summary: 'A lot of a product on hand with its best-before date (drives the short-dated markdown).' },
  batch: { schema: BatchEventSchema, id: 'BatchEvent', summary: 'Many events applied in one transaction, all or nothing (a whole price list).' },
};

function schemaComponents(): Record<string, unknown> {
  const registry = z.registry<{ id: string; description?: string }>();
  registry.add(GtinSchema, { id: 'Gtin', description: 'GTIN-8, -12, -13 or -14 with a valid GS1 check digit.' });
  registry.add(LabelIdSchema, { id: 'LabelId', description: 'Label id: 16 upper-case hex digits.' });
  registry.add(PackUnitSchema, { id: 'PackUnit' });
  registry.add(ProductDataSchema, { id: 'ProductData' });
  registry.add(PriceDataSchema, { id: 'PriceData', description: 'Money is integer cents (EUR). validFrom: when the price takes effect at the till; default at once.' });
  registry.add(StockDataSchema, { id: 'StockData' });
  registry.add(PromotionDataSchema, {
    id: 'PromotionData',
    description: 'Exactly one of promoPriceCents and percentOff; end after start (end is exclusive). Instants carry the store-local offset.',
  });
  registry.add(BindingDataSchema, { id: 'BindingData', description: 'gtin null unbinds the label.' });
  for (const { schema, id, summary } of Object.values(EVENT_SCHEMAS)) registry.add(schema, { id, description: summary });
  registry.add(SingleEventSchema, { id: 'SingleEvent', description: 'Any event except a batch (batches do not nest).' });
  registry.add(EventSchema, { id: 'Event' });
  registry.add(EventReplySchema, {
    id: 'EventReply',
    description: 'The edge\'s answer to one event. For a batch, applied/stale count the contained events; "duplicate" means the id was applied before.',
  });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-7', io: 'input', metadata: registry, uri: (id) => `#/components/schemas/${id}` }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  // Components are embedded, not standalone documents: their $schema/$id would only confuse resolvers.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $schema: _s, $id: _i, ...rest } = s;
      return [id, rest];
    }),
  );
}

/** One example per event type; generation fails if an example does not satisfy the contract. */
function examples(): Record<EventType, EdgeEvent> {
  const source = 'erp-central';
  const price = { id: 'price-4006381333931-20261127', source, version: 1795302000000, type: 'price', replyTo: 'esl/acme/store-0042/reply/erp/price-1', data: { gtin: '4006381333931', priceCents: 149, currency: 'EUR', validFrom: '2026-11-27T00:00:00+01:00' } };
  const all = {
    product: { id: 'product-4006381333931-v7', source, version: 7, type: 'product', data: { gtin: '4006381333931', name: 'Bio-Vollmilch 3,8 % Fett', brand: 'Landliebe', packSize: { quantity: 1, unit: 'l' } } },
    price,
    stock: { id: 'stock-4006381333931-88', source: 'pos-store-0042', version: 88, type: 'stock', data: { gtin: '4006381333931', quantity: 24, restockThreshold: 6 } },
    rules: {
      id: 'rules-store-0042-v5',
      source,
      version: 5,
      type: 'rules',
      data: {
        scope: 'store',
        timeZone: 'Europe/Berlin',
        rules: [
          { id: 'low-stock-evening', kind: 'low-stock', categories: ['Backwaren'], threshold: 5, releaseAbove: 10, percentOff: 30, badge: 'Feierabend', window: { from: '19:30', to: '21:30' } },
          { id: 'short-dated-fresh', kind: 'short-dated', categories: ['Molkerei'], withinDays: 2, percentOff: 30, rounding: 'end-9' },
          { id: 'guard-cost', kind: 'price-guard', floorCents: 19, costCents: { '4006381333931': 89 } },
          { id: 'oos-webshop', kind: 'out-of-stock', shopUrl: 'https://shop.example.de/p/{gtin}?store={store}' },
        ],
      },
    },
    lot: { id: 'lot-4006381333931-L2411-3', source: 'erp-central', version: 3, type: 'lot', data: { gtin: '4006381333931', lotId: 'L2411', bestBefore: '2026-12-02', quantity: 12 } },
    promotion: {
      id: 'promo-BF-2026',
      source,
      version: 3,
      type: 'promotion',
      data: { promotionId: 'BF-2026', gtins: ['4006381333931', '4012345000016'], percentOff: 20, start: '2026-11-27T00:00:00+01:00', end: '2026-12-01T00:00:00+01:00', badge: 'Black Friday' },
    },
    binding: { id: 'binding-0000AABBCC000001-1', source: 'store-app', version: 1, type: 'binding', data: { labelId: '0000AABBCC000001', gtin: '4006381333931' } },
    batch: {
      id: 'hq-3f2a9c1b7d4e5f60-store-0042-1of1',
      source: 'hq-push',
      version: 1795302000000,
      type: 'batch',
      replyTo: 'esl/acme/store-0042/reply/hq/push-hq-3f2a9c1b7d4e5f60-store-0042-1of1',
      data: {
        events: [
          { id: 'hq-3f2a9c1b7d4e5f60-store-0042-r2', source: 'hq-push', version: 1795302000000, type: 'price', data: { gtin: '4006381333931', priceCents: 149, currency: 'EUR' } },
          { id: 'hq-3f2a9c1b7d4e5f60-store-0042-r3', source: 'hq-push', version: 1795302000000, type: 'price', data: { gtin: '4012345000016', priceCents: 129900, currency: 'EUR' } },
        ],
      },
    },
  };
  return Object.fromEntries(Object.entries(all).map(([type, e]) => [type, EventSchema.parse(e)])) as Record<EventType, EdgeEvent>;
}

const ref = (to: string) => ({ $ref: to });
const MQTT_QOS1 = { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } };
const STORE_PARAMETERS = { chain: ref('#/components/parameters/chain'), store: ref('#/components/parameters/store') };

function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

export function buildAsyncApiDocument(): Record<string, unknown> {
  const ex = examples();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const type of EVENT_TYPES) {
    const { id, summary } = EVENT_SCHEMAS[type];
    const message = `${type}Event`;
    messages[message] = {
      name: message,
      title: `${type} event`,
      summary,
      contentType: 'application/json',
      payload: ref(`#/components/schemas/${id}`),
      examples: [{ name: type, payload: ex[type] }],
    };
    channels[`in_${type}`] = {
      address: `esl/{chain}/{store}/in/${type}`,
      title: `${type} events to a store`,
      description: `Events of type "${type}" for one store. The payload's type must be "${type}" (else EVENT_TOPIC_MISMATCH).`,
      parameters: STORE_PARAMETERS,
      messages: { [message]: ref(`#/components/messages/${message}`) },
    };
    operations[`receive_${type}`] = {
      action: 'receive',
      title: `The edge applies a ${type} event`,
      description:
        'QoS 1. The edge acknowledges (PUBACK) only after the event is committed, so a crash before that means redelivery; the id makes a redelivery a no-op ("duplicate"). A version not newer than the newest applied for the same entity is "stale".',
      channel: ref(`#/channels/in_${type}`),
      messages: [ref(`#/channels/in_${type}/messages/${message}`)],
      bindings: MQTT_QOS1,
      reply: {
        address: {
          location: '$message.payload#/replyTo',
          description: 'The envelope\'s replyTo (or the MQTT 5 response topic); it must lie under esl/{chain}/{store}/reply/, else no reply is sent.',
        },
        channel: ref('#/channels/reply'),
        messages: [ref('#/channels/reply/messages/eventReply')],
      },
    };
  }

  messages.eventReply = {
    name: 'eventReply',
    title: 'Event reply',
    contentType: 'application/json',
    payload: ref('#/components/schemas/EventReply'),
    examples: [
      { name: 'batch applied', payload: { eventId: 'hq-3f2a9c1b7d4e5f60-store-0042-1of1', status: 'applied', applied: 2, stale: 0 } },
      { name: 'rejected', payload: { eventId: 'price-1', status: 'rejected', code: 'EVENT_SCHEMA', reason: 'data.gtin: GTIN check digit is wrong' } },
    ],
  };
  channels.reply = {
    address: 'esl/{chain}/{store}/reply/{publisher}/{replyId}',
    title: 'Replies to events',
    description:
      'The edge answers every event that names a replyTo under the store\'s reply/ topic. On the embedded broker a publisher may subscribe only to esl/{chain}/{store}/reply/{its username}/#.',
    parameters: { ...STORE_PARAMETERS, publisher: ref('#/components/parameters/publisher'), replyId: ref('#/components/parameters/replyId') },
    messages: { eventReply: ref('#/components/messages/eventReply'), requestReply: ref('#/components/messages/requestReply') },
  };
  const schemas = schemaComponents();
  addRequestChannels({ channels, operations, messages, schemas }, STORE_PARAMETERS);

  const apSpec = 'firmware-protocol/README.md';
  messages.apFrame = {
    name: 'apFrame',
    title: 'AP protocol frame',
    summary: `Exactly one binary frame of the access-point protocol (${apSpec} §3 framing, §4–§5 messages, §11.2).`,
    contentType: 'application/octet-stream',
    payload: { type: 'string', format: 'binary', description: `One frame as specified in ${apSpec} §3; a message that is not exactly one frame is rejected (§3.6).` },
  };
  messages.apStatus = {
    name: 'apStatus',
    title: 'AP online status',
    summary: `Retained "online" / "offline"; "offline" is also the AP's last will (${apSpec} §11.2).`,
    contentType: 'text/plain',
    payload: { type: 'string', enum: ['online', 'offline'] },
    bindings: { mqtt: { bindingVersion: '0.2.0' } },
  };
  const apParameters = { ...STORE_PARAMETERS, apId: ref('#/components/parameters/apId') };
  const apChannels: [string, string, string, 'apFrame' | 'apStatus', 'send' | 'receive'][] = [
    ['ap_up', 'up', 'AP → edge frames', 'apFrame', 'receive'],
    ['ap_down', 'down', 'Edge → AP frames; only the edge may publish here (§11.3)', 'apFrame', 'send'],
    ['ap_status', 'status', 'AP presence, retained', 'apStatus', 'receive'],
  ];
  for (const [channel, leaf, title, message, action] of apChannels) {
    channels[channel] = {
      address: `esl/{chain}/{store}/ap/{apId}/${leaf}`,
      title,
      description: `See ${apSpec} §11.1.`,
      parameters: apParameters,
      messages: { [message]: ref(`#/components/messages/${message}`) },
    };
    operations[`${action}_${channel}`] = {
      action,
      channel: ref(`#/channels/${channel}`),
      messages: [ref(`#/channels/${channel}/messages/${message}`)],
      bindings: { mqtt: { qos: 1, retain: leaf === 'status', bindingVersion: '0.2.0' } },
    };
  }

  const idParameter = (description: string, example: string) => ({ description: `${description} 1–32 of [A-Za-z0-9_-].`, examples: [example] });
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'esl-edge store MQTT interface',
      version: packageVersion(),
      description:
        'Events in, replies out, store operations requested (req/{kind}) and answered, and the access-point link of one store\'s esl-edge. Every event has an id (unique per sender; a repeat is a no-op), a source and a version that grows per entity (epoch ms of the change is a good choice). Money is integer cents (EUR). All publications use QoS 1; the edge keeps a persistent session on the chain\'s HQ broker, so events sent while a store is offline arrive when it returns. Generated from contracts/src/event-schemas.ts.',
      license: { name: 'Apache-2.0', url: 'https://www.apache.org/licenses/LICENSE-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      store: {
        host: '{edgeHost}:1883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: 'The broker embedded in the store\'s edge (aedes): username/password per client, topic ACLs per role, 256 KiB packet limit by default.',
        variables: { edgeHost: { default: '127.0.0.1', description: 'The edge\'s host in the store network.' } },
        security: [ref('#/components/securitySchemes/userPassword')],
      },
      hq: {
        host: '{hqHost}',
        protocol: 'mqtt',
        description: 'The chain\'s HQ broker (optional, config `hq`): the edge subscribes esl/{chain}/{store}/in/+ there with a persistent session and replies there.',
        variables: { hqHost: { default: 'hq-broker:8883', description: 'Host and port of the chain\'s broker.' } },
        security: [ref('#/components/securitySchemes/userPassword')],
      },
    },
    channels,
    operations,
    components: {
      schemas,
      messages,
      parameters: {
        chain: idParameter('Chain id.', 'acme'),
        store: idParameter('Store id.', 'store-0042'),
        apId: idParameter('Access point id.', 'AP-1'),
        publisher: { description: 'Username of the publisher the reply is for.', examples: ['hq'] },
        replyId: { description: 'Chosen by the publisher, one topic level (no "/", "+" or "#").', examples: ['push-hq-3f2a9c1b7d4e5f60-store-0042-1of1'] },
      },
      securitySchemes: { userPassword: { type: 'userPassword', description: 'MQTT username and password; roles ap, publisher, observer and their topic ACLs (src/transport/mqtt-acl.ts).' } },
    },
  };
}

export function renderAsyncApi(): string {
  return `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
}

// `node --import tsx hq/src/asyncapi.ts` (npm run docs:asyncapi) writes the document.
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  writeFileSync(ASYNCAPI_FILE, renderAsyncApi());
  process.stdout.write(`wrote ${path.relative(process.cwd(), ASYNCAPI_FILE)}\n`);
}
