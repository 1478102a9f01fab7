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
