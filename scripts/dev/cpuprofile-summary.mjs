#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, optionally over a time window
 * only (seconds from the profile's start, or the last N seconds). Used for docs/decisions.md entries (D62, D101–D103).
 *   node scripts/dev/cpuprofile-summary.mjs FILE [--last-s N] [--from-s A --to-s B] [--top N]
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';

process.stdout.on('error', () => process.exit(0));
const print = (line) => process.stdout.write(`${line}\n`);

const args = process.argv.slice(2);
const file = args[0];
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const top = opt('top', 30);
const gi = args.indexOf('--grep');
const grep = gi >= 0 ? new RegExp(args[gi + 1]) : null;
const prof = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n) => {
  const f = n.callFrame;
  const url = f.url ? f.url.split('/').slice(-2).join('/') : '';
  return `${f.functionName || '(anon)'} ${url}:${f.lineNumber + 1}`;
};
// Sample i covers timeDeltas[i+1] (the time until the next sample); the last sample gets the mean.
const times = [];
let t = 0;
for (let i = 0; i < prof.samples.length; i++) {
  t += prof.timeDeltas[i];
  times.push(t);
}
const total = t;
const lastS = opt('last-s', NaN);
const from = Number.isFinite(lastS) ? total - lastS * 1e6 : opt('from-s', 0) * 1e6;
const to = Number.isFinite(lastS) ? total : opt('to-s', total / 1e6) * 1e6;
const self = new Map();
const incl = new Map();
let sum = 0;
let idle = 0;
for (let i = 0; i < prof.samples.length; i++) {
  if (times[i] < from || times[i] > to) continue;
  const dt = i + 1 < prof.samples.length ? prof.timeDeltas[i + 1] : 0;
  if (dt <= 0) continue;
  sum += dt;
  let id = prof.samples[i];
  const n = byId.get(id);
  const name = label(n);
  if (name.startsWith('(idle)')) idle += dt;
  self.set(name, (self.get(name) ?? 0) + dt);
  const seen = new Set();
  while (id !== undefined) {
    const k = label(byId.get(id));
    if (!seen.has(k)) {
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
    id = parent.get(id);
  }
}
const busy = sum - idle;
const fmt = (us) => `${(us / 1e6).toFixed(1).padStart(7)} s ${((100 * us) / busy).toFixed(1).padStart(5)}%`;
print(`# ${file}`);
print(`window ${(from / 1e6).toFixed(1)}–${(to / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s; sampled ${(sum / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (percent of busy)`);
print('--- self');
for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) print(`${fmt(v)}  ${k}`);
print('--- inclusive');
for (const [k, v] of [...incl].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!grep || grep.test(k))).sort((a, b) => b[1] - a[1]).slice(0, top)) print(`${fmt(v)}  ${k}`);
