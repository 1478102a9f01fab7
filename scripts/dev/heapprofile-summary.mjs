#!/usr/bin/env node
/**
 * Summarises a V8 sampling heap profile (.heapprofile, e.g. from heap-sampling-preload.mjs, D149): bytes allocated per
 * function (self), per function and its callees (inclusive), and per allocating stack (its last four frames).
 *   node scripts/dev/heapprofile-summary.mjs FILE [--top N]
 */
import { readFileSync } from 'node:fs';
import { summaryCli } from './summary-cli.mjs';

const { file, top, print } = summaryCli('heapprofile-summary.mjs');
const profile = JSON.parse(readFileSync(file, 'utf8'));
const name = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*\/(node_modules\/)?/, '')}:${cf.lineNumber + 1}`;
const self = new Map();
const inclusive = new Map();
const stacks = new Map();
let total = 0;
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
function walk(node, path) {
  const k = name(node.callFrame);
  const here = [...path, k];
  let sum = node.selfSize;
  total += node.selfSize;
  add(self, k, node.selfSize);
  if (node.selfSize > 0) add(stacks, here.slice(-4).join(' > '), node.selfSize);
  for (const c of node.children) sum += walk(c, here);
  // A recursive function counts once per path.
  if (!path.includes(k)) add(inclusive, k, sum);
  return sum;
}
walk(profile.head, []);
const mb = (b) => `${(b / 1048576).toFixed(1).padStart(8)} MB ${((100 * b) / total).toFixed(1).padStart(5)}%`;
const section = (title, m) => {
  print(`--- ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) print(`${mb(v)}  ${k}`);
};
print(`sampled ${(total / 1048576).toFixed(1)} MB allocated`);
section('self', self);
section('inclusive', inclusive);
section('stacks (last four frames)', stacks);
