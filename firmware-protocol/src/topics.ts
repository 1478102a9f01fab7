/**
 * MQTT topic layout (README.md §11). Per AP, under the chain and store:
 *
 *   esl/{chain}/{store}/ap/{apId}/up      AP → edge, one binary frame per message, QoS 1
 *   esl/{chain}/{store}/ap/{apId}/down    edge → AP, one binary frame per message, QoS 1
 *   esl/{chain}/{store}/ap/{apId}/status  retained UTF-8 text "online" / "offline" (the AP's last will)
 *
 * Ids are 1–32 characters of [A-Za-z0-9_-], so they can never contain '/', '+', '#' or '$' and a topic built
 * from them is always a plain, wildcard-free topic name.
 */
import { z } from 'zod';
import { ProtocolError } from './errors.js';

export const TOPIC_ROOT = 'esl';
/** §11 An id of a topic level. */
const TOPIC_ID = /^[A-Za-z0-9_-]{1,32}$/;
export const TopicIdSchema = z.string().regex(TOPIC_ID, 'id must be 1-32 characters of A-Z a-z 0-9 _ -');
export const TopicDirectionSchema = z.enum(['up', 'down', 'status']);
export type TopicDirection = z.infer<typeof TopicDirectionSchema>;
export const ApStatusSchema = z.enum(['online', 'offline']);
export type ApStatus = z.infer<typeof ApStatusSchema>;
/** §11.2 Retained payloads of the status topic; "offline" is also the AP's last will. */
export const AP_STATUS_ONLINE: ApStatus = 'online';
export const AP_STATUS_OFFLINE: ApStatus = 'offline';
/** §11.2 All traffic is QoS 1. */
export const MQTT_QOS = 1;

export interface ApTopics {
  up: string;
  down: string;
  status: string;
}
export interface ParsedApTopic {
  chain: string;
  store: string;
  apId: string;
  dir: TopicDirection;
}

/**
 * TopicIdSchema's verdict. D149: the regular expression itself, not a zod parse — every frame's topic is parsed and
 * every frame sent names its AP's topic, and the parse's result objects were ~0.2 GB of a reference repricing's
 * allocations on the edge's main thread (heap sampling).
 */
export function isValidTopicId(id: string): boolean {
  return typeof id === 'string' && TOPIC_ID.test(id);
}

const DIRECTIONS: readonly string[] = TopicDirectionSchema.options;

function check(what: string, id: string): void {
  if (!isValidTopicId(id)) throw new ProtocolError('TOPIC_BAD_ID', `${what} ${JSON.stringify(id)} is not a valid topic id`, { [what]: id });
}

function storePrefix(chain: string, store: string): string {
  check('chain', chain);
  check('store', store);
  return `${TOPIC_ROOT}/${chain}/${store}/ap`;
}

/** The three topics of one AP. Throws ProtocolError TOPIC_BAD_ID for an invalid id. */
export function apTopics(chain: string, store: string, apId: string): ApTopics {
  const prefix = storePrefix(chain, store);
  check('apId', apId);
  const base = `${prefix}/${apId}`;
  return { up: `${base}/up`, down: `${base}/down`, status: `${base}/status` };
}

/** The subscriptions of a store's edge: the up and status topics of all its APs (single-level wildcards). */
export function edgeSubscriptions(chain: string, store: string): { up: string; status: string } {
  const prefix = storePrefix(chain, store);
  return { up: `${prefix}/+/up`, status: `${prefix}/+/status` };
}

/** §11.3 What an AP's credentials allow: publish to its own up and status, subscribe to its own down. */
export function apAcl(chain: string, store: string, apId: string): { publish: string[]; subscribe: string[] } {
  const t = apTopics(chain, store, apId);
  return { publish: [t.up, t.status], subscribe: [t.down] };
}

/** Parses an AP topic; null for anything that is not exactly one of the three forms with valid ids. */
export function parseApTopic(topic: string): ParsedApTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 6) return null;
  const [root, chain, store, ap, apId, dir] = parts as [string, string, string, string, string, string];
  if (root !== TOPIC_ROOT || ap !== 'ap') return null;
  if (!isValidTopicId(chain) || !isValidTopicId(store) || !isValidTopicId(apId)) return null;
  if (!DIRECTIONS.includes(dir)) return null;
  return { chain, store, apId, dir: dir as TopicDirection };
}
