/**
 * The edge's process settings (src/core/edge-runtime.ts, D42, D63): the systemd unit starts the edge exactly as the
 * benchmarks fork it, and the heap growth bound of D63 holds in a process that was started without the flag.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EDGE_ENV, EDGE_HEAP_GROWING_PERCENT, EDGE_NODE_FLAGS, applyEdgeHeapPolicy } from '../../src/core/edge-runtime.js';

const unit = readFileSync(new URL('../../deploy/esl-edge.service', import.meta.url), 'utf8');

/**
 * A child process keeps ~100 MB alive and churns objects that live long enough to be promoted (a ring of 200 chunks),
 * then prints the largest heapTotal it saw, MB. Without a bound V8 lets the old generation grow to up to 4× what
 * survived the last full GC before collecting again (D63).
 */
const CHURN = `
const policy = process.argv[1];
if (policy === 'apply') {
  const { applyEdgeHeapPolicy } = await import(${JSON.stringify(new URL('../../src/core/edge-runtime.ts', import.meta.url).href)});
  if (!applyEdgeHeapPolicy()) throw new Error('policy not applied');
}
const live = [];
for (let i = 0; i < 400000; i++) live.push({ a: 'x' + i, b: [i, i + 1] });
const ring = new Array(200);
let peak = 0;
for (let r = 0; r < 2000; r++) {
  const c = [];
  for (let i = 0; i < 1000; i++) c.push({ s: 'y' + i + r, v: [i] });
  ring[r % 200] = c;
  peak = Math.max(peak, process.memoryUsage().heapTotal);
}
const used = process.memoryUsage().heapUsed;
process.stdout.write(JSON.stringify({ peakMb: peak / 1048576, usedMb: used / 1048576, live: live.length, ring: ring.length }));
`;

function churn(policy: 'none' | 'apply'): { peakMb: number; usedMb: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHURN, policy], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`churn child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { peakMb: number; usedMb: number };
}

describe('edge runtime (D42, D63)', () => {
  it('the systemd unit starts node with the flags and environment the benchmarks fork the edge with', () => {
    const exec = /^ExecStart=\/usr\/bin\/node (.*) \/opt\/esl-edge\/dist\/src\/cli\/main\.js start/m.exec(unit);
    expect(exec).not.toBeNull();
    expect(exec![1]!.split(' ')).toEqual([...EDGE_NODE_FLAGS]);
    for (const [k, v] of Object.entries(EDGE_ENV)) expect(unit).toMatch(new RegExp(`^Environment=${k}=${v}$`, 'm'));
    expect(EDGE_NODE_FLAGS).toContain(`--heap-growing-percent=${EDGE_HEAP_GROWING_PERCENT}`);
  });

  it('a flag given on the command line wins over the policy', () => {
    expect(applyEdgeHeapPolicy(['--heap-growing-percent=50'])).toBe(false);
  });

  it('set at start, the policy keeps the heap near its live data while promoted garbage churns', () => {
    const unbounded = churn('none');
    const bounded = churn('apply');
    // The live set is the same in both (~100 MB); V8's default growth lets the heap reach several times that.
    expect(bounded.peakMb).toBeLessThan(unbounded.peakMb * 0.75);
    // 1.2 × live plus the young generation and V8's minimum growing step (16 MB without pointer compression).
    expect(bounded.peakMb).toBeLessThan(bounded.usedMb * 1.2 + 16 + 40);
  });
});
