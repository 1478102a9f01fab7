/**
 * Where the edge may send a reply (docs/decisions.md D25). A requester names its reply topic (an event's `replyTo`,
 * a request's `replyTo`, an MQTT 5 response topic), and the edge publishes there with its own, unrestricted rights.
 * Unchecked, that lets a publisher make the edge write into another user's namespace (`pos` into `reply/hq/…`), which
 * the ACL forbids `pos` to do itself. So a reply goes only under the requester's own prefix
 * esl/{chain}/{store}/reply/{username} — the one namespace the ACL lets that user read (mqtt-acl.ts).
 *
 * On an external broker (and the HQ uplink) the edge does not know who published; there the old, weaker rule holds:
 * anywhere under the store's reply/ topic.
 */
import { topicNameProblem } from './topic-router.js';

/** Longest reply topic accepted (the request envelope's limit, mqtt-request-source.ts). */
export const MAX_REPLY_TOPIC_CHARS = 256;

export function ownReplyPrefix(root: string, username: string): string {
  return `${root}/reply/${username}`;
}

/** The prefix a reply must lie under: the user's own one when known, else the store's reply/ namespace. */
export function replyPrefixFor(root: string, username?: string): string {
  return username === undefined ? `${root}/reply` : ownReplyPrefix(root, username);
}

/** True when `replyTopic` is `prefix` itself or below it, and a valid topic name without wildcards. */
export function replyTopicWithin(replyTopic: string, prefix: string): boolean {
  if (replyTopic.length > MAX_REPLY_TOPIC_CHARS || topicNameProblem(replyTopic) !== null) return false;
  return replyTopic === prefix || replyTopic.startsWith(`${prefix}/`);
}

/**
 * The `replyTo` of a request envelope, when the payload is a JSON object with a string replyTo; else undefined (the
 * request source drops such a request with its own log line).
 */
export function envelopeReplyTo(payload: Buffer): string | undefined {
  try {
    const body: unknown = JSON.parse(payload.toString('utf8'));
    const replyTo = typeof body === 'object' && body !== null ? (body as { replyTo?: unknown }).replyTo : undefined;
    return typeof replyTo === 'string' ? replyTo : undefined;
  } catch {
    return undefined;
  }
}
