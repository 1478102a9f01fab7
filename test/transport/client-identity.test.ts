/**
 * The pure rules behind D24 and D25: which client ids a user may use, who holds an id, which topics are routed,
 * where a reply may go. The broker-level behaviour is in test/e2e/security-mqtt-*.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ClientIdPolicy, ClientIdRegistry, clientIdMatches } from '../../src/transport/client-identity.js';
import { routePublish, topicNameProblem } from '../../src/transport/topic-router.js';
import { envelopeReplyTo, ownReplyPrefix, replyPrefixFor, replyTopicWithin } from '../../src/transport/reply-scope.js';

const R = 'esl/c/s';
const edge = { username: 'edge-s', role: 'edge' as const };
const ap1 = { username: 'ap-1', role: 'ap' as const, apId: 'AP-1' };
const pos = { username: 'pos', role: 'publisher' as const };
const dash = { username: 'dash', role: 'observer' as const };

describe('client id policy', () => {
  const policy = new ClientIdPolicy([
    { ...ap1 },
    { username: 'ap-2', role: 'ap', apId: 'AP-2', clientIds: ['AP-2', 'AP-2-backup'] },
    { ...pos },
    { username: 'hq', role: 'publisher', clientIds: ['hq-*'] },
    { ...dash },
  ]);

  it('matches exact ids and "*" prefixes', () => {
    expect(clientIdMatches('hq-*', 'hq-1')).toBe(true);
    expect(clientIdMatches('hq-*', 'hq')).toBe(false);
    expect(clientIdMatches('AP-1', 'AP-10')).toBe(false);
  });

  it('reserves esl-edge-* to the edge and gives the edge nothing else', () => {
    expect(policy.allows(edge, 'esl-edge-c-s').ok).toBe(true);
    expect(policy.allows(edge, 'AP-1').ok).toBe(false);
    expect(policy.allows(edge, 'aedes_x', true).ok).toBe(false);
    for (const p of [ap1, pos, dash]) expect(policy.allows(p, 'esl-edge-c-s').ok).toBe(false);
  });

  it('lets an AP use only its own ids (protocol §11.3), not a server-assigned one', () => {
    expect(policy.allows(ap1, 'AP-1').ok).toBe(true);
    expect(policy.allows(ap1, 'AP-2').ok).toBe(false);
    expect(policy.allows(ap1, 'aedes_1', true).ok).toBe(false);
    expect(policy.allows({ username: 'ap-2', role: 'ap', apId: 'AP-2' }, 'AP-2-backup').ok).toBe(true);
  });

  it('lets publishers and observers use unclaimed ids, or only their configured ones', () => {
    expect(policy.allows(pos, 'till-4').ok).toBe(true);
    expect(policy.allows(pos, 'aedes_1', true).ok).toBe(true);
    expect(policy.allows(pos, 'hq-1').ok).toBe(false);
    expect(policy.allows(pos, 'AP-2-backup').ok).toBe(false);
    expect(policy.allows({ username: 'hq', role: 'publisher' }, 'hq-1').ok).toBe(true);
    expect(policy.allows({ username: 'hq', role: 'publisher' }, 'till-4').ok).toBe(false);
    expect(policy.allows(dash, 'AP-1').ok).toBe(false);
  });
});

describe('client id registry', () => {
  it('refuses a held id to another user, lets the holder take it over, and keeps session owners', () => {
    const reg = new ClientIdRegistry();
    const a = {};
    const b = {};
    expect(reg.claim('x', 'pos', a, false).ok).toBe(true);
    expect(reg.claim('x', 'hq', b, true).ok).toBe(false); // connected for pos
    const a2 = {};
    expect(reg.claim('x', 'pos', a2, false).ok).toBe(true); // takeover by the same user
    reg.release('x', a); // the old connection's close does not free the new one's claim
    expect(reg.holderOf('x')).toBe('pos');
    reg.release('x', a2);
    expect(reg.holderOf('x')).toBeUndefined();
    expect(reg.claim('x', 'hq', b, false).ok).toBe(false); // pos's persistent session
    expect(reg.claim('x', 'pos', a, true).ok).toBe(true); // pos discards it (clean session)
    reg.release('x', a);
    expect(reg.claim('x', 'hq', b, true).ok).toBe(true); // nothing left to protect
  });
});

describe('topic routing', () => {
  it('rejects malformed names for everyone, the edge included (§1.5.3, §4.7.3)', () => {
    expect(topicNameProblem(`${R}/in/price`)).toBeNull();
    expect(topicNameProblem('')).toMatch(/MQTT-4.7.3-1/);
    expect(topicNameProblem('a\u0000b')).toMatch(/MQTT-4.7.3-2/);
    expect(topicNameProblem('a\uFFFDb')).toMatch(/MQTT-1.5.3-1/);
    expect(topicNameProblem('a\u0007b')).toMatch(/control/);
    expect(topicNameProblem('a/+/b')).toMatch(/wildcard/);
    expect(topicNameProblem('x'.repeat(1025))).toMatch(/longer/);
    expect(routePublish(edge, R, 'a\u0000').ok).toBe(false);
    expect(routePublish(edge, R, `${R}/ap/AP-1/down`)).toEqual({ ok: true, route: 'edge' });
  });

  it('routes only documented topics', () => {
    expect(routePublish(pos, R, `${R}/in/price`)).toEqual({ ok: true, route: 'event' });
    expect(routePublish(pos, R, `${R}/in/batch`)).toEqual({ ok: true, route: 'event' });
    expect(routePublish(pos, R, `${R}/req/pick`)).toEqual({ ok: true, route: 'request' });
    for (const t of [`${R}/in/price/extra`, `${R}/in/nosuchtype`, `${R}/in/`, `${R}/in`, `${R}/req/x`, `${R}/out/alerts`, 'esl/c/other/in/price']) {
      expect([t, routePublish(pos, R, t).ok]).toEqual([t, false]);
    }
    expect(routePublish(ap1, R, `${R}/ap/AP-1/up`)).toEqual({ ok: true, route: 'ap-up' });
    expect(routePublish(ap1, R, `${R}/ap/AP-1/status`)).toEqual({ ok: true, route: 'ap-status' });
    expect(routePublish(ap1, R, `${R}/ap/AP-1/down`).ok).toBe(false);
    expect(routePublish(ap1, R, `${R}/ap/AP-2/up`).ok).toBe(false);
    expect(routePublish(dash, R, `${R}/in/price`).ok).toBe(false);
  });
});

describe('reply scope', () => {
  it('keeps a reply under the requester\'s own prefix', () => {
    const own = ownReplyPrefix(R, 'pos');
    expect(replyTopicWithin(`${R}/reply/pos`, own)).toBe(true);
    expect(replyTopicWithin(`${R}/reply/pos/42`, own)).toBe(true);
    expect(replyTopicWithin(`${R}/reply/posx/42`, own)).toBe(false);
    expect(replyTopicWithin(`${R}/reply/hq/42`, own)).toBe(false);
    expect(replyTopicWithin(`${R}/reply/pos/+`, own)).toBe(false);
    expect(replyTopicWithin(`${R}/reply/pos/${'x'.repeat(300)}`, own)).toBe(false);
    // Unknown publisher (external broker): anywhere under the store's reply/.
    expect(replyTopicWithin(`${R}/reply/hq/42`, replyPrefixFor(R))).toBe(true);
    expect(replyTopicWithin(`${R}/out/alerts`, replyPrefixFor(R))).toBe(false);
  });

  it('reads a request envelope\'s replyTo, or nothing', () => {
    expect(envelopeReplyTo(Buffer.from('{"id":"1","replyTo":"a/b"}'))).toBe('a/b');
    expect(envelopeReplyTo(Buffer.from('{"id":"1","replyTo":5}'))).toBeUndefined();
    expect(envelopeReplyTo(Buffer.from('not json'))).toBeUndefined();
    expect(envelopeReplyTo(Buffer.from('null'))).toBeUndefined();
  });
});
