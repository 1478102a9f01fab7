import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, TopicIdSchema, apAcl, apTopics, edgeSubscriptions, isValidTopicId, parseApTopic } from '../src/index.js';

describe('MQTT topics (README.md §11)', () => {
  it('lays out up, down and status per AP', () => {
    expect(apTopics('rewe', 'store-0042', 'ap_07')).toEqual({
      up: 'esl/rewe/store-0042/ap/ap_07/up',
      down: 'esl/rewe/store-0042/ap/ap_07/down',
      status: 'esl/rewe/store-0042/ap/ap_07/status',
    });
    expect(edgeSubscriptions('rewe', 'store-0042')).toEqual({ up: 'esl/rewe/store-0042/ap/+/up', status: 'esl/rewe/store-0042/ap/+/status' });
    expect(apAcl('c', 's', 'a')).toEqual({ publish: ['esl/c/s/ap/a/up', 'esl/c/s/ap/a/status'], subscribe: ['esl/c/s/ap/a/down'] });
  });

  it.each(['', 'a/b', '+', '#', 'a+', 'x'.repeat(33), 'ü', 'a b', '$SYS'])('rejects id %j', (id) => {
    expect(isValidTopicId(id)).toBe(false);
    expect(() => apTopics('c', 's', id)).toThrow(ProtocolError);
    expect(() => apTopics(id, 's', 'a')).toThrow(/TOPIC_BAD_ID/);
  });

  it('parses what it builds', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/);
    fc.assert(
      fc.property(id, id, id, fc.constantFrom('up', 'down', 'status') as fc.Arbitrary<'up' | 'down' | 'status'>, (chain, store, apId, dir) => {
        expect(parseApTopic(apTopics(chain, store, apId)[dir])).toEqual({ chain, store, apId, dir });
      }),
    );
  });

  it('D149 isValidTopicId answers as TopicIdSchema does, for any string and for what is not a string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,34}$/), fc.anything()), (v) => {
        expect(isValidTopicId(v as string)).toBe(TopicIdSchema.safeParse(v).success);
      }),
      { numRuns: 500 },
    );
  });

  it.each(['esl/c/s/ap/a', 'esl/c/s/ap/a/up/x', 'xsl/c/s/ap/a/up', 'esl/c/s/gw/a/up', 'esl/c/s/ap/+/up', 'esl/c/s/ap/a/sideways', 'esl//s/ap/a/up'])(
    'returns null for %j',
    (topic) => {
      expect(parseApTopic(topic)).toBeNull();
    },
  );
});
