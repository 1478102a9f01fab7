/**
 * Summarises a V8 heap snapshot (`--heapsnapshot-signal`, `v8.writeHeapSnapshot()`): self size by node type and
 * constructor, and what each named field of each class holds — the container itself (a Map's or Set's hash table,
 * an array's elements) and the strings and plain objects it keeps alone — so that "what holds 300 MB at 200,000
 * labels" has an answer per field, not per type (D167). Used for docs/decisions.md entries.
 *   node scripts/dev/heapsnapshot-summary.mjs FILE [--top N]
 */
import { readFileSync } from 'node:fs';
import { summaryCli } from './summary-cli.mjs';

const { file, top: TOP, print } = summaryCli('heapsnapshot-summary.mjs');

const snap = JSON.parse(readFileSync(file, 'utf8'));
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const nType = meta.node_fields.indexOf('type');
const nName = meta.node_fields.indexOf('name');
const nSelf = meta.node_fields.indexOf('self_size');
const nEdges = meta.node_fields.indexOf('edge_count');
const eType = meta.edge_fields.indexOf('type');
const eName = meta.edge_fields.indexOf('name_or_index');
const eTo = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const { nodes, edges, strings } = snap;
const count = nodes.length / NF;

const typeOf = (i) => nodeTypes[nodes[i * NF + nType]];
const nameOf = (i) => strings[nodes[i * NF + nName]];
const selfOf = (i) => nodes[i * NF + nSelf];
const firstEdge = new Uint32Array(count + 1);
for (let i = 0, e = 0; i < count; i++) {
  firstEdge[i] = e;
  e += nodes[i * NF + nEdges] * EF;
}
firstEdge[count] = edges.length;

// Incoming strong edges per node (weak edges do not keep anything).
const inCount = new Uint32Array(count);
for (let e = 0; e < edges.length; e += EF) if (edgeTypes[edges[e + eType]] !== 'weak') inCount[edges[e + eTo] / NF]++;

const MB = 1024 * 1024;
const fmt = (b) => (b / MB).toFixed(2).padStart(8);
const STRINGS = ['string', 'concatenated string', 'sliced string'];
/** Nodes with no constructor worth naming and nothing below them. */
const LEAVES = new Set([...STRINGS, 'number']);
/** The N largest of a map of [bytes, count]. */
const printTop = (m, n) => {
  for (const [k, [s, c]] of [...m].sort((a, b) => b[1][0] - a[1][0]).slice(0, n)) print(`${fmt(s)} MB ${String(c).padStart(9)}  ${k}`);
};
let total = 0;
const byType = new Map();
const byCtor = new Map();
for (let i = 0; i < count; i++) {
  const s = selfOf(i);
  total += s;
  const t = typeOf(i);
  byType.set(t, (byType.get(t) ?? 0) + s);
  const k = `${t}:${LEAVES.has(t) ? '' : nameOf(i)}`;
  const c = byCtor.get(k) ?? [0, 0];
  c[0] += s;
  c[1]++;
  byCtor.set(k, c);
}
print(`total self ${fmt(total)} MB, ${count} nodes`);
for (const [t, s] of [...byType].sort((a, b) => b[1] - a[1])) print(`${fmt(s)} MB  ${t}`);
print('\n--- by constructor (self)');
printTop(byCtor, TOP);

/**
 * What a field keeps: the node it points to, and below it every node reached through internal/element/hidden edges
 * (a Map's table, an array's elements) and every string or plain object only this container holds, down to depth 3.
 */
const ATTRIBUTABLE = new Set([...LEAVES, 'array', 'hidden', 'object shape']);
function held(root, seen) {
  if (seen.has(root)) return 0;
  seen.add(root);
  let size = 0;
  const stack = [[root, 0]];
  while (stack.length) {
    const [i, depth] = stack.pop();
    size += selfOf(i);
    if (depth >= 3) continue;
    for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EF) {
      const et = edgeTypes[edges[e + eType]];
      if (et === 'weak' || et === 'shortcut') continue;
      const j = edges[e + eTo] / NF;
      if (seen.has(j)) continue;
      const t = typeOf(j);
      const own = inCount[j] === 1;
      if ((et === 'internal' || et === 'hidden' || et === 'element') && (t === 'array' || t === 'hidden' || (own && (ATTRIBUTABLE.has(t) || (t === 'object' && nameOf(j) === 'Object'))))) {
        seen.add(j);
        stack.push([j, depth + 1]);
      } else if (own && LEAVES.has(t)) {
        seen.add(j);
        size += selfOf(j);
      }
    }
  }
  return size;
}

const byField = new Map();
for (let i = 0; i < count; i++) {
  if (typeOf(i) !== 'object') continue;
  const cls = nameOf(i);
  if (cls === 'Object' || cls === 'Array' || cls.startsWith('system /')) continue;
  for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EF) {
    if (edgeTypes[edges[e + eType]] !== 'property') continue;
    const j = edges[e + eTo] / NF;
    const t = typeOf(j);
    if (t === 'closure' || t === 'code') continue;
    const field = strings[edges[e + eName]];
    if (field === '__proto__' || field === 'constructor') continue;
    const key = `${cls}.${field}`;
    const f = byField.get(key) ?? [0, 0, new Set()];
    f[0] += held(j, f[2]);
    f[1]++;
    byField.set(key, f);
  }
}
print('\n--- by field (container and what only it holds, summed over instances)');
printTop(byField, TOP);

// What owns the strings and the arrays: each node's first strong retainer, followed up (at most 6 steps) to an object
// of a named class, reported as `Class.field` (a Map's or Set's entries, an array's elements and a closure's context
// are looked through).
const firstRet = new Int32Array(count).fill(-1);
const firstRetName = new Int32Array(count).fill(-1);
for (let i = 0; i < count; i++) {
  for (let e = firstEdge[i]; e < firstEdge[i + 1]; e += EF) {
    const et = edgeTypes[edges[e + eType]];
    if (et === 'weak' || et === 'shortcut') continue;
    const j = edges[e + eTo] / NF;
    if (firstRet[j] < 0) {
      firstRet[j] = i;
      firstRetName[j] = et === 'element' || et === 'hidden' ? -1 : edges[e + eName];
    }
  }
}
const plain = (i) => {
  const t = typeOf(i);
  const n = nameOf(i);
  return t !== 'object' || n === 'Object' || n === 'Array' || n === 'Map' || n === 'Set' || n.startsWith('system /');
};
function owner(i) {
  let cur = i;
  for (let step = 0; step < 6; step++) {
    const r = firstRet[cur];
    if (r < 0) return '(root)';
    if (!plain(r)) {
      const f = firstRetName[cur];
      return `${nameOf(r)}.${f >= 0 && typeof strings[f] === 'string' ? strings[f] : '[]'}`;
    }
    cur = r;
  }
  return `(deep) ${typeOf(cur)}:${nameOf(cur)}`;
}
for (const kind of [STRINGS, ['array'], ['object']]) {
  const by = new Map();
  for (let i = 0; i < count; i++) {
    if (!kind.includes(typeOf(i))) continue;
    if (kind[0] === 'object' && nameOf(i) !== 'Object') continue;
    const k = owner(i);
    const c = by.get(k) ?? [0, 0];
    c[0] += selfOf(i);
    c[1]++;
    by.set(k, c);
  }
  print(`\n--- ${kind[0] === 'object' ? 'plain objects' : kind.join(', ')} by owner (first retainer chain)`);
  printTop(by, Math.ceil(TOP / 2));
}
