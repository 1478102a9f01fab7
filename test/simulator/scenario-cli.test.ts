/**
 * `esl-sim scenario` against a separately running edge (real time, HTTP on a socket), as QA runs it against
 * `npm run demo`: credentials from a file, the audit over HTTP, the live progress line, the report and the wall.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sharp } from '../../src/domain/rendering/sharp.js';
import { buildProgram } from '../../simulator/src/cli.js';
import { changedPrice } from '../../simulator/src/scenario-events.js';
import { resolveScenario, type ResolvedScenario } from '../../simulator/src/scenario-load.js';
import type { ScenarioReport } from '../../simulator/src/scenario-report.js';
import { atToMs } from '../../simulator/src/scenario-schema.js';
import { runScenario } from '../../simulator/src/scenario-runner.js';
import { CHAIN, STORE, TOKEN, USERS, pacedClock, waitFor } from '../support/edge-fixture.js';
import { apUsers, startScenarioEdge, type ScenarioEdgeFixture } from './scenario-fixture.js';

const SCENARIO = {
  name: 'cli-check',
  store: { generate: { aps: 2, labels: 24, seed: 8 } },
  speed: 40,
  seed: 8,
  timeline: [
    { at: '00:05', type: 'price-change', fraction: 0.25, percent: 10 },
    { at: '00:05', type: 'reboot-labels', count: 2 },
    // p 0.3, not 0.05: the window carries ~100 frames (check-ins and their answers, 3–6 duplicates seen at 0.05), so
    // at 0.05 a run with none has a chance of 0.95^100 ≈ 0.6 % — CI drew one on 2026-12-04. The run must have duplicates
    // to prove them harmless; at 0.3 none is ~1e-15.
    { at: '00:06', type: 'duplication', p: 0.3, durationS: 60 },
    { at: '00:07', type: 'move-label', labelIndex: 0, toApId: 'AP-2' },
    { at: '00:08', type: 'ap-offline', apId: 'AP-1', durationS: 20, fault: 'network' },
    { at: '00:10', type: 'expect-converged', withinS: 900 },
  ],
};

async function cli(args: string[]): Promise<{ exitCode: number; stderr: string }> {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'esl-sim', 'scenario', ...args]);
  } finally {
    spy.mockRestore();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { exitCode, stderr: lines.join('') };
}

describe('esl-sim scenario', () => {
  let fx: ScenarioEdgeFixture;
  let resolved: ResolvedScenario;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'esl-scenario-cli-'));
    resolved = await resolveScenario(SCENARIO);
    fx = await startScenarioEdge(resolved, { listenHttp: true, realTime: true });
    writeFileSync(join(dir, 'cli-check.json'), JSON.stringify(SCENARIO));
    const creds = Object.fromEntries(apUsers(resolved).map((u) => [u.apId, { username: u.username, password: u.password }]));
    writeFileSync(join(dir, 'creds.json'), JSON.stringify({ ...creds, publisher: { username: USERS.pos.username, password: USERS.pos.password } }));
  });
  afterAll(async () => {
    await fx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const edgeArgs = () => ['--broker', fx.daemon.mqttUrl, '--credentials', join(dir, 'creds.json'), '--edge-http', `http://127.0.0.1:${fx.daemon.httpPort}`, '--token', TOKEN, '--chain', CHAIN, '--store', STORE];

  let first: ScenarioReport;

  it('plays the scenario against the running edge, prints progress and writes the report and the wall', async () => {
    const report = join(dir, 'out.json');
    const wall = join(dir, 'wall.png');
    const run = await cli([join(dir, 'cli-check.json'), ...edgeArgs(), '--report', report, '--wall', wall]);
    expect(run.stderr).toMatch(/scenario cli-check — 24 labels on 2 APs of testchain\/store-1, 6 steps, speed 40×/);
    expect(run.stderr).toMatch(/cli-check done \| sim \d\d:\d\d:\d\d \| steps 6\/6 \| converged 24\/24 reachable of 24/);
    expect(run.stderr).toMatch(/cli-check PASSED in [\d.]+ s/);
    expect(run.exitCode).toBe(0);

    const r = JSON.parse(readFileSync(report, 'utf8')) as ScenarioReport;
    first = r;
    expect(r).toMatchObject({ scenario: 'cli-check', chain: CHAIN, store: STORE, ok: true, problems: [] });
    expect(r.edge).toContain(`http://127.0.0.1:${fx.daemon.httpPort}`);
    expect(r.comparison).toMatchObject({ labels: 24, auditConsistent: 24, panelsShowDesired: 24, mismatches: [] });
    expect(r.events.priceChanges).toBe(6);
    expect(r.steps.map((st) => st.ok)).toEqual([true, true, true, true, true, true]);
    expect(r.radio.framesDuplicated).toBeGreaterThan(0);
    // The moved label is served by AP-2 now, and the edge knows it.
    const moved = resolved.store.labels[0]!;
    expect(moved.apId).toBe('AP-1');
    expect(r.labels[0]).toMatchObject({ labelId: moved.labelId, apId: 'AP-2', auditStatus: 'consistent' });
    expect(fx.daemon.labels.get(moved.labelId)?.apId).toBe('AP-2');
    for (const l of r.labels) {
      expect(l.displayedHash).toBe(l.desiredHash);
      expect(l.bytesOnAir).toBeGreaterThan(0);
      expect(l.batteryMv).toBeGreaterThan(2_900);
    }
    const meta = await sharp(readFileSync(wall)).metadata();
    expect(meta.format).toBe('png');
    expect(meta.width).toBeGreaterThan(296 * 4);
  });

  it('a second run against the same edge starts from the prices the first one left', async () => {
    const report = join(dir, 'out2.json');
    const run = await cli([join(dir, 'cli-check.json'), ...edgeArgs(), '--report', report]);
    expect(run.exitCode).toBe(0);
    const r = JSON.parse(readFileSync(report, 'utf8')) as ScenarioReport;
    // The seed batches were answered "duplicate": the edge already had the store.
    expect(r.events.seedApplied).toBe(0);
    expect(r.events.seedDuplicate).toBe(24 * 3);
    expect(r.ok).toBe(true);
    // The same seed picks the same products, and each goes up another 10 % from where the first run left it.
    const changed = new Set(r.steps.find((s) => s.type === 'price-change')!.targets);
    expect(changed).toEqual(new Set(first.steps.find((s) => s.type === 'price-change')!.targets));
    const before = new Map(first.labels.map((l) => [l.labelId, l.tillPriceCents!]));
    for (const l of r.labels) expect(l.tillPriceCents).toBe(changed.has(l.gtin) ? changedPrice(before.get(l.labelId)!, 10) : before.get(l.labelId));
  });

  it('a checkpoint that cannot be met fails the run with exit code 1 and says why', async () => {
    const tight = join(dir, 'tight.json');
    // One simulated second is not enough for any label to show a new price (a panel refresh alone takes 2–15 s).
    writeFileSync(tight, JSON.stringify({ ...SCENARIO, name: 'cli-tight', timeline: [{ at: '00:05', type: 'full-repricing', percent: -5 }, { at: '00:05', type: 'expect-converged', withinS: 1 }] }));
    const report = join(dir, 'tight-out.json');
    const run = await cli([tight, ...edgeArgs(), '--report', report]);
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('cli-tight FAILED');
    expect(run.stderr).toMatch(/checkpoint 1 at 00:05: \d+ reachable labels not converged within 1 s/);
    const r = JSON.parse(readFileSync(report, 'utf8')) as ScenarioReport;
    expect(r.ok).toBe(false);
    expect(r.checkpoints[0]).toMatchObject({ ok: false, convergedAfterS: null });
    expect(r.checkpoints[0]!.waiting!.length).toBeGreaterThan(0);
    // The store still converged by the end: only the checkpoint failed.
    expect(r.end.converged).toBe(true);
    expect(r.comparison.ok).toBe(true);
  });

  it('an aborted run stops the store cleanly and rejects with SCENARIO_ABORTED', async () => {
    const abort = new AbortController();
    // The run's own simulated time, paced (D22): it passes only while this process is idle, so what it says about
    // the run does not depend on the machine's load (the old wall bound of 10 s did).
    const clock = pacedClock(SCENARIO.speed);
    try {
      const simStart = clock.now();
      const run = runScenario({ scenario: resolved, edge: fx.edge, signal: abort.signal, clock });
      run.catch(() => undefined);
      await waitFor('APs online', () => resolved.store.aps.every((a) => fx.daemon.hub.isOnline(a.apId)), 60_000, 20);
      abort.abort();
      await expect(run).rejects.toMatchObject({ code: 'SCENARIO_ABORTED' });
      // Stopped at the abort, long before its timeline would have ended (its checkpoint is at 00:10, then up to 900 s).
      expect(clock.now() - simStart).toBeLessThan(atToMs('00:10'));
      // Every AP left in an orderly way: the edge sees them offline.
      await waitFor('APs offline', () => resolved.store.aps.every((a) => !fx.daemon.hub.isOnline(a.apId)));
    } finally {
      clock.stop();
    }
  });

  it('an invalid scenario file exits with 2 and names the file, the path and the problem', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...SCENARIO, timeline: [{ at: '00:05', type: 'ap-offline', apId: 'AP-7', durationS: 10 }] }));
    const run = await cli([bad, ...edgeArgs()]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`SCENARIO_INVALID: ${bad} is not a valid scenario`);
    expect(run.stderr).toContain('timeline.0.apId: no AP "AP-7" in the store (AP-1, AP-2)');
  });

  it('missing credentials for an AP exit with 2', async () => {
    writeFileSync(join(dir, 'few.json'), JSON.stringify({ publisher: { username: 'pos', password: 'x' } }));
    const run = await cli([join(dir, 'cli-check.json'), ...edgeArgs().map((a) => (a.endsWith('creds.json') ? join(dir, 'few.json') : a))]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('no MQTT credentials for AP AP-1');
  });
});
