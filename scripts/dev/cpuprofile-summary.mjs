#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function, optionally over a time window
 * only (seconds from the profile's start, or the last N seconds). Used for docs/decisions.md entries (D62, D101–D103).
 *   node scripts/dev/cpuprofile-summary.mjs FILE [--last-s N] [--from-s A --to-s B] [--top N] [--stretches MS] [--iterations MS] (D143)
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
/** Adds `dt` to every function on the sample's stack, once per function (recursion counts once). */
function addInclusive(map, id, dt) {
  const seen = new Set();
  while (id !== undefined) {
    const k = label(byId.get(id));
    if (!seen.has(k)) {
      seen.add(k);
      map.set(k, (map.get(k) ?? 0) + dt);
    }
    id = parent.get(id);
  }
}
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
  addInclusive(incl, id, dt);
}
const busy = sum - idle;
const fmt = (us) => `${(us / 1e6).toFixed(1).padStart(7)} s ${((100 * us) / busy).toFixed(1).padStart(5)}%`;
print(`# ${file}`);
print(`window ${(from / 1e6).toFixed(1)}–${(to / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s; sampled ${(sum / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (percent of busy)`);
print('--- self');
for (const [k, v] of [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) print(`${fmt(v)}  ${k}`);
print('--- inclusive');
for (const [k, v] of [...incl].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!grep || grep.test(k))).sort((a, b) => b[1] - a[1]).slice(0, top)) print(`${fmt(v)}  ${k}`);

// --stretches MS: every run of consecutive non-idle samples lasting at least MS milliseconds. A run with no idle sample
// in it is an upper bound on one event-loop iteration's work (several back-to-back iterations look the same), so it
// shows what can hold the loop for as long as its delay p99 says.
const stretchMs = opt('stretches', NaN);
if (Number.isFinite(stretchMs)) {
  const runs = [];
  let start = -1;
  let len = 0;
  let ids = [];
  const close = () => {
    if (start >= 0 && len >= stretchMs * 1000) runs.push({ start, len, ids });
    start = -1;
    len = 0;
    ids = [];
  };
  for (let i = 0; i < prof.samples.length; i++) {
    if (times[i] < from || times[i] > to) continue;
    const dt = i + 1 < prof.samples.length ? prof.timeDeltas[i + 1] : 0;
    const name = label(byId.get(prof.samples[i]));
    if (name.startsWith('(idle)')) {
      close();
      continue;
    }
    if (start < 0) start = times[i];
    len += dt;
    ids.push([prof.samples[i], dt]);
  }
  close();
  const hist = [20, 50, 100, 200, 500].map((ms) => `>=${ms} ms: ${runs.filter((r) => r.len >= ms * 1000).length}`);
  print(`--- busy stretches >= ${stretchMs} ms: ${runs.length} (${hist.join(', ')})`);
  // What the long stretches spend their time in, summed over all of them (inclusive, by function).
  const inc = new Map();
  let all = 0;
  for (const r of runs)
    for (const [id, dt] of r.ids) {
      all += dt;
      addInclusive(inc, id, dt);
    }
  for (const [k, v] of [...inc].filter(([k]) => !k.startsWith('(root)')).sort((a, b) => b[1] - a[1]).slice(0, top))
    print(`${(v / 1e6).toFixed(1).padStart(7)} s ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}`);
  print('--- the longest stretches (start s, length ms, top self functions)');
  for (const r of [...runs].sort((a, b) => b.len - a.len).slice(0, 15)) {
    const s = new Map();
    for (const [id, dt] of r.ids) s.set(label(byId.get(id)), (s.get(label(byId.get(id))) ?? 0) + dt);
    const topSelf = [...s].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${(v / 1000).toFixed(0)}`);
    print(`${(r.start / 1e6).toFixed(1).padStart(7)} ${(r.len / 1000).toFixed(0).padStart(5)}  ${topSelf.join(' | ')}`);
  }
}

// --iterations MS: estimates event-loop iterations from the samples and lists those lasting at least MS milliseconds,
// with the share of each phase. libuv runs timers, then poll (I/O callbacks), then check (setImmediate) once per
// iteration; an iteration is taken to end where a run of samples under processImmediate ends or the thread goes idle.
const iterMs = opt('iterations', NaN);
if (Number.isFinite(iterMs)) {
  const rootOf = (id) => {
    let prev = id;
    let cur = id;
    while (parent.get(cur) !== undefined) {
      prev = cur;
      cur = parent.get(cur);
    }
    return label(byId.get(prev));
  };
  const phaseOf = (root) =>
    root.startsWith('processImmediate') ? 'check' : root.startsWith('processTimers') || root.startsWith('listOnTimeout') ? 'timers' : root.startsWith('(garbage') ? 'gc' : root.startsWith('(program)') ? 'program' : 'io';
  const iters = [];
  let cur = null;
  let prevPhase = '';
  const end = () => {
    if (cur && cur.len >= iterMs * 1000) iters.push(cur);
    cur = null;
  };
  for (let i = 0; i < prof.samples.length; i++) {
    if (times[i] < from || times[i] > to) continue;
    const dt = i + 1 < prof.samples.length ? prof.timeDeltas[i + 1] : 0;
    const root = rootOf(prof.samples[i]);
    if (root.startsWith('(idle)')) {
      end();
      prevPhase = 'idle';
      continue;
    }
    const phase = phaseOf(root);
    if (prevPhase === 'check' && phase !== 'check' && phase !== 'gc') end();
    if (!cur) cur = { start: times[i], len: 0, phases: new Map(), fns: new Map() };
    cur.len += dt;
    cur.phases.set(phase, (cur.phases.get(phase) ?? 0) + dt);
    cur.fns.set(root, (cur.fns.get(root) ?? 0) + dt);
    if (phase !== 'gc') prevPhase = phase;
  }
  end();
  const hist = [20, 50, 100, 200].map((ms) => `>=${ms} ms: ${iters.filter((r) => r.len >= ms * 1000).length}`);
  print(`--- estimated iterations >= ${iterMs} ms: ${iters.length} (${hist.join(', ')})`);
  const phases = new Map();
  const fns = new Map();
  for (const r of iters) {
    for (const [k, v] of r.phases) phases.set(k, (phases.get(k) ?? 0) + v);
    for (const [k, v] of r.fns) fns.set(k, (fns.get(k) ?? 0) + v);
  }
  const all = [...phases.values()].reduce((a, b) => a + b, 0);
  print(`phases: ${[...phases].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${((100 * v) / all).toFixed(0)}%`).join(', ')}`);
  for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top))
    print(`${(v / 1e6).toFixed(1).padStart(7)} s ${((100 * v) / all).toFixed(1).padStart(5)}%  ${k}`);
}
