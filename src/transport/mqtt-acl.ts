/**
 * Per-client topic ACLs of the embedded broker (docs/security.md). Pure functions, so the rules are testable
 * without a broker. Topic root R = esl/{chain}/{store}:
 *
 * | role      | may publish                         | may subscribe                                  |
 * |-----------|-------------------------------------|------------------------------------------------|
 * | edge      | esl/#                               | esl/#                                          |
 * | ap X      | R/ap/X/up, R/ap/X/status            | R/ap/X/down                                    |
 * | publisher | R/in/#, R/req/#                     | R/reply/{username}/#, R/out/#                  |
 * | observer  | (nothing)                           | R/out/#, R/ap/+/status                         |
 */
export type Role = 'edge' | 'ap' | 'publisher' | 'observer';
export interface Principal {
  username: string;
  role: Role;
  apId?: string;
}

/** MQTT topic filter match (+ one level, # the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when every topic the filter can match is inside the allowed filter (wildcards must not widen access). */
export function filterWithin(requested: string, allowed: string): boolean {
  const r = requested.split('/');
  const a = allowed.split('/');
  for (let i = 0; i < r.length; i++) {
    if (a[i] === '#') return true;
    if (i >= a.length) return false;
    if (r[i] === '#') return false;
    if (a[i] === '+') continue;
    if (r[i] === '+' || r[i] !== a[i]) return false;
  }
  // "sport/#" also matches "sport" itself, the parent level (MQTT 3.1.1 §4.7.1.2).
  if (a.length === r.length + 1 && a[r.length] === '#') return true;
  return r.length === a.length;
}

export function storeRoot(chain: string, store: string): string {
  return `esl/${chain}/${store}`;
}

function rules(p: Principal, root: string): { pub: string[]; sub: string[] } {
  switch (p.role) {
    case 'edge':
      return { pub: ['esl/#'], sub: ['esl/#'] };
    case 'ap':
      return { pub: [`${root}/ap/${p.apId}/up`, `${root}/ap/${p.apId}/status`], sub: [`${root}/ap/${p.apId}/down`] };
    case 'publisher':
      return { pub: [`${root}/in/#`, `${root}/req/#`], sub: [`${root}/reply/${p.username}/#`, `${root}/out/#`] };
    case 'observer':
      return { pub: [], sub: [`${root}/out/#`, `${root}/ap/+/status`] };
  }
}

export function mayPublish(p: Principal, root: string, topic: string): boolean {
  if (topic.includes('+') || topic.includes('#')) return false;
  return rules(p, root).pub.some((f) => topicMatches(f, topic));
}

export function maySubscribe(p: Principal, root: string, filter: string): boolean {
  return rules(p, root).sub.some((f) => filterWithin(filter, f));
}

/** Topics longer than this are decided each time, not remembered (a verdict cache must not hold large strings). */
const REMEMBERED_TOPIC_CHARS = 256;

/**
 * D149 mayPublish and maySubscribe of a topic, remembered per principal: a verdict depends on nothing else (the
 * rules above and the store root), and the embedded broker asks one for every AP frame published and every message
 * forwarded — each time building the principal's rules and splitting both topics, ~0.3 GB of short-lived strings and
 * arrays on the edge's main thread in a reference repricing (heap sampling). An AP uses three topics, a publisher a
 * handful; at most `perPrincipal` are kept per principal (then forgotten at once), none longer than 256 characters.
 */
export class AclVerdicts {
  private readonly pub = new WeakMap<Principal, Map<string, boolean>>();
  private readonly sub = new WeakMap<Principal, Map<string, boolean>>();

  constructor(
    private readonly root: string,
    private readonly perPrincipal = 64,
  ) {}

  mayPublish(p: Principal, topic: string): boolean {
    return this.verdict(this.pub, p, topic, mayPublish);
  }

  /** maySubscribe for a delivered message's topic (authorizeForward). */
  maySubscribe(p: Principal, topic: string): boolean {
    return this.verdict(this.sub, p, topic, maySubscribe);
  }

  private verdict(m: WeakMap<Principal, Map<string, boolean>>, p: Principal, topic: string, decide: (p: Principal, root: string, topic: string) => boolean): boolean {
    if (topic.length > REMEMBERED_TOPIC_CHARS) return decide(p, this.root, topic);
    let known = m.get(p);
    if (!known) m.set(p, (known = new Map()));
    let v = known.get(topic);
    if (v === undefined) {
      v = decide(p, this.root, topic);
      if (known.size >= this.perPrincipal) known.clear();
      known.set(topic, v);
    }
    return v;
  }
}
