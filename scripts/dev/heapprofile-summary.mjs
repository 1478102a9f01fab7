#!/usr/bin/env node
/**
 * Summarises a V8 sampling heap profile (.heapprofile, e.g. from heap-sampling-preload.mjs, D149): bytes allocated per
 * function (self), per function and its callees (inclusive), and per allocating stack (its last four frames).
 *   node scripts/dev/heapprofile-summary.mjs FILE [--top N]
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';

process.stdout.on('error', () => process.exit(0));
const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: heapprofile-summary.mjs FILE [--top N]\n');
  process.exit(2);
}
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 40;
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
const print = (title, m) => {
  process.stdout.write(`--- ${title}\n`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${mb(v)}  ${k}\n`);
};
process.stdout.write(`sampled ${(total / 1048576).toFixed(1)} MB allocated\n`);
print('self', self);
print('inclusive', inclusive);
print('stacks (last four frames)', stacks);
