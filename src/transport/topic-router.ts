/**
 * Strict topic routing of the embedded broker (docs/decisions.md D24): a client other than the edge may publish only
 * to the topics the edge documents (docs/asyncapi.json, README "Topics", protocol §11.1); anything else is refused
 * before it reaches intake, never ingested with a warning.
 *
 * A refusal closes the connection: MQTT 3.1.1 gives a Server that does not accept a PUBLISH no way to say so, "it
 * MUST either make a positive acknowledgement … or close the Network Connection" [MQTT-3.3.5-2]; closing makes the
 * mistake visible to the publisher instead of silently dropping its data.
 */
import { EVENT_TYPES, REQUEST_KINDS as OPERATION_REQUEST_KINDS } from '#contracts';
import type { Principal } from './mqtt-acl.js';

/** The request kinds of `…/req/{kind}`: one per store operation offered over MQTT (src/domain/operations/store-operations.ts). */
export const REQUEST_KINDS: readonly string[] = OPERATION_REQUEST_KINDS;

/** Longest topic any documented route has is ~140 characters (three 32-character ids); generous headroom. */
export const MAX_TOPIC_CHARS = 1024;

export type TopicRoute = 'event' | 'request' | 'ap-up' | 'ap-status' | 'edge';
export type TopicVerdict = { ok: true; route: TopicRoute } | { ok: false; reason: string };

/**
 * Why a topic name is not well formed, or null. Applies to every client, the edge included.
 * - U+0000 is forbidden in any UTF-8 string, topic names included [MQTT-1.5.3-2], [MQTT-4.7.3-2].
 * - Ill-formed UTF-8 must close the connection [MQTT-1.5.3-1]. The packet parser (mqtt-packet) decodes with
 *   Buffer#toString, which turns every ill-formed sequence into U+FFFD; no documented topic contains U+FFFD, so
 *   seeing one means the bytes were not UTF-8 (or, harmlessly, a literal U+FFFD in a topic that is refused anyway).
 * - Control characters U+0001–U+001F and U+007F–U+009F "SHOULD NOT" appear and a receiver MAY close the
 *   connection on them (§1.5.3); we do.
 */
export function topicNameProblem(topic: string): string | null {
  if (topic.length === 0) return 'empty topic name [MQTT-4.7.3-1]';
  if (topic.length > MAX_TOPIC_CHARS) return `topic longer than ${MAX_TOPIC_CHARS} characters`;
  if (topic.includes('\u0000')) return 'U+0000 in topic name [MQTT-4.7.3-2]';
  if (topic.includes('\uFFFD')) return 'ill-formed UTF-8 in topic name [MQTT-1.5.3-1]';
  // eslint-disable-next-line no-control-regex
  if (/[\u0001-\u001f\u007f-\u009f]/.test(topic)) return 'control character in topic name (§1.5.3)';
  if (/[+#]/.test(topic)) return 'wildcard in topic name [MQTT-3.3.2-2]';
  return null;
}

/** The route of a PUBLISH from `p`, or why it is refused. `root` = esl/{chain}/{store}. */
export function routePublish(p: Principal, root: string, topic: string): TopicVerdict {
  const problem = topicNameProblem(topic);
  if (problem) return { ok: false, reason: problem };
  if (p.role === 'edge') return { ok: true, route: 'edge' };
  if (!topic.startsWith(`${root}/`)) return { ok: false, reason: 'not under the store topic root' };
  const levels = topic.slice(root.length + 1).split('/');
  const [area, a, b] = levels;
  switch (p.role) {
    case 'publisher':
      if (levels.length === 2 && area === 'in' && (EVENT_TYPES as readonly string[]).includes(a!)) return { ok: true, route: 'event' };
      if (levels.length === 2 && area === 'req' && (REQUEST_KINDS as readonly string[]).includes(a!)) return { ok: true, route: 'request' };
      return { ok: false, reason: 'not a documented event or request topic (in/{type}, req/{kind})' };
    case 'ap':
      // Protocol §11.1: an AP publishes frames to ap/{apId}/up and its retained status to ap/{apId}/status.
      if (levels.length === 3 && area === 'ap' && a === p.apId && b === 'up') return { ok: true, route: 'ap-up' };
      if (levels.length === 3 && area === 'ap' && a === p.apId && b === 'status') return { ok: true, route: 'ap-status' };
      return { ok: false, reason: 'not the AP\'s own up or status topic (protocol §11.1)' };
    case 'observer':
      return { ok: false, reason: 'observers do not publish' };
  }
}
