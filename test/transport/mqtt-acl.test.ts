import { describe, expect, it } from 'vitest';
import { AclVerdicts, filterWithin, mayPublish, maySubscribe, topicMatches } from '../../src/transport/mqtt-acl.js';

const R = 'esl/c/s';
const ap = { username: 'ap-1', role: 'ap' as const, apId: 'AP-1' };
const pos = { username: 'pos', role: 'publisher' as const };
const obs = { username: 'dash', role: 'observer' as const };

describe('topic ACLs', () => {
  it('matches MQTT filters', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+', 'a/b/c')).toBe(false);
    expect(filterWithin('a/b/#', 'a/#')).toBe(true);
    expect(filterWithin('a/#', 'a/b/#')).toBe(false);
    expect(filterWithin('a/+/c', 'a/b/c')).toBe(false);
    // "a/#" also matches the parent level "a" (MQTT 3.1.1 §4.7.1.2): the README's replyTo ".../reply/pos".
    expect(filterWithin('a', 'a/#')).toBe(true);
    expect(filterWithin('a/b', 'a/b/c/#')).toBe(false);
    expect(maySubscribe(pos, R, `${R}/reply/pos`)).toBe(true);
    expect(maySubscribe(pos, R, `${R}/reply`)).toBe(false);
  });

  it('an AP speaks only for itself', () => {
    expect(mayPublish(ap, R, `${R}/ap/AP-1/up`)).toBe(true);
    expect(mayPublish(ap, R, `${R}/ap/AP-2/up`)).toBe(false);
    expect(mayPublish(ap, R, `${R}/in/price`)).toBe(false);
    expect(maySubscribe(ap, R, `${R}/ap/AP-1/down`)).toBe(true);
    expect(maySubscribe(ap, R, `${R}/ap/+/down`)).toBe(false);
    expect(maySubscribe(ap, R, '#')).toBe(false);
  });

  it('a publisher sends events and reads its own replies only', () => {
    expect(mayPublish(pos, R, `${R}/in/price`)).toBe(true);
    expect(mayPublish(pos, R, `${R}/req/pick`)).toBe(true);
    expect(mayPublish(ap, R, `${R}/req/pick`)).toBe(false);
    expect(mayPublish(pos, R, `esl/c/other-store/in/price`)).toBe(false);
    expect(maySubscribe(pos, R, `${R}/reply/pos/#`)).toBe(true);
    expect(maySubscribe(pos, R, `${R}/reply/+/#`)).toBe(false);
    expect(maySubscribe(pos, R, `${R}/ap/AP-1/down`)).toBe(false);
  });

  it('an observer publishes nothing', () => {
    expect(mayPublish(obs, R, `${R}/out/audit`)).toBe(false);
    expect(maySubscribe(obs, R, `${R}/out/#`)).toBe(true);
  });

  it('D149 remembered verdicts equal the rules, per principal, asked in any order and beyond the bound', () => {
    const edge = { username: 'edge', role: 'edge' as const };
    const ap2 = { username: 'ap-2', role: 'ap' as const, apId: 'AP-2' };
    const principals = [ap, ap2, pos, obs, edge];
    const topics = [
      ...['AP-1', 'AP-2', 'AP-3'].flatMap((id) => ['up', 'status', 'down'].map((t) => `${R}/ap/${id}/${t}`)),
      `${R}/in/price`,
      `${R}/req/pick`,
      `${R}/reply/pos/x`,
      `${R}/out/audit`,
      'esl/c/other-store/in/price',
      `${R}/in/${'x'.repeat(300)}`,
      ...Array.from({ length: 40 }, (_, i) => `${R}/in/type-${i}`),
    ];
    const acl = new AclVerdicts(R, 16);
    for (let round = 0; round < 3; round++) {
      for (const p of principals) {
        for (const t of round === 1 ? [...topics].reverse() : topics) {
          expect(acl.mayPublish(p, t), `${p.username} publish ${t}`).toBe(mayPublish(p, R, t));
          expect(acl.maySubscribe(p, t), `${p.username} receive ${t}`).toBe(maySubscribe(p, R, t));
        }
      }
    }
  });
});
