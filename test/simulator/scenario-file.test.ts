/**
 * The scenario file format and the pure parts of the scenario runner: validation errors that name the file, the
 * path and the problem; generated stores; the events a scenario sends; the ground-truth-versus-audit comparison;
 * the edge clock adapter; and the two label changes StoreSimulator has no method for.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BLANK_HASH, WakeReason, labelTypeById, type MessageOf } from '#protocol';
import { EslError, EventSchema, gtin13, gtinCheckDigitOk } from '#contracts';
import type { AuditEntry } from '../../src/domain/audit/price-audit.js';
import { edgeClock } from '../../demo/src/edge-clock.js';
import { RealClock } from '../../simulator/src/real-clock.js';
import { seededRandom } from '../../simulator/src/rng.js';
import { assess, compare, type LabelObservation } from '../../simulator/src/scenario-compare.js';
import { MAX_BATCH_BYTES, VersionSource, changedPrice, seedEvents, toBatches } from '../../simulator/src/scenario-events.js';
import { loadScenarioFile, resolveScenario } from '../../simulator/src/scenario-load.js';

type ScenarioError = EslError & { problems: string[] };
import { atToMs } from '../../simulator/src/scenario-schema.js';
import { generateStore, labelTypeMix } from '../../simulator/src/scenario-store.js';
import { sample } from '../../simulator/src/scenario-steps.js';
import { VirtualClock } from '../../simulator/src/virtual-clock.js';
import { runVirtualUntil } from './edge-double.js';
import { LABEL_A, startStore, type StoreFixture } from './store-fixture.js';

const SCENARIOS = join(import.meta.dirname, '..', '..', 'simulator', 'scenarios');
const small = { name: 'small', store: { generate: { aps: 2, labels: 10, seed: 3 } }, speed: 20 };

async function problemsOf(input: unknown, file?: string): Promise<ScenarioError> {
  const dir = mkdtempSync(join(tmpdir(), 'esl-scenario-file-'));
  try {
    const path = join(dir, file ?? 'bad.json');
    writeFileSync(path, typeof input === 'string' ? input : JSON.stringify(input));
    const err = await loadScenarioFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EslError);
    const e = Object.assign(err as EslError, { problems: ((err as EslError).details?.problems as string[] | undefined) ?? [] });
    expect(e.message).toContain(path);
    return e;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('scenario files', () => {
  it('"at" is mm:ss or hh:mm:ss from the start of the timeline', () => {
    expect(atToMs('00:30')).toBe(30_000);
    expect(atToMs('90:00')).toBe(5_400_000);
    expect(atToMs('01:02:03')).toBe(3_723_000);
    expect(() => atToMs('1:60')).toThrow(RangeError);
    expect(() => atToMs('30')).toThrow(RangeError);
  });

  it('a validation error names the file, the path and the problem', async () => {
    const e = await problemsOf({
      ...small,
      speed: 0,
      radio: { frameLoss: 2, frameLos: 0.1 },
      timeline: [
        { at: '0:5', type: 'frame-loss', p: 0.1 },
        { at: '00:10', type: 'price-change', fraction: 0.1, percent: 0 },
        { at: '00:20', type: 'reboot-labels', count: 2, fraction: 0.5 },
        { at: '00:30', type: 'ap-explodes' },
      ],
    });
    expect(e.code).toBe('SCENARIO_INVALID');
    const text = e.problems.join('\n');
    expect(text).toMatch(/^speed: /m);
    expect(text).toMatch(/^radio\.frameLoss: /m);
    expect(text).toMatch(/^radio: .*frameLos/m);
    expect(text).toMatch(/^timeline\.0\.at: expected "mm:ss" or "hh:mm:ss"/m);
    expect(text).toMatch(/^timeline\.1\.percent: a price change of 0 % changes nothing/m);
    expect(text).toMatch(/^timeline\.2\.fraction: give exactly one of labelIds, count, fraction \(got count and fraction\)/m);
    expect(text).toMatch(/^timeline\.3\.type: Invalid discriminator value/m);
  });

  it('steps must name APs, labels and GTINs of the store', async () => {
    const e = await problemsOf({
      ...small,
      timeline: [
        { at: '00:10', type: 'ap-offline', apId: 'AP-9', durationS: 10 },
        { at: '00:20', type: 'move-label', labelIndex: 10, toApId: 'AP-2' },
        { at: '00:30', type: 'price-change', gtins: ['4006381333931'], percent: 5 },
        { at: '00:40', type: 'battery', labelIds: ['0000000000000001'], mv: 2300 },
      ],
    });
    expect(e.problems).toEqual([
      'timeline.0.apId: no AP "AP-9" in the store (AP-1, AP-2)',
      'timeline.1.labelIndex: the store has only 10 labels',
      'timeline.2.gtins.0: no product 4006381333931 in the store',
      'timeline.3.labelIds.0: no label 0000000000000001 in the store',
    ]);
  });

  it('malformed JSON and missing files have their own codes', async () => {
    expect((await problemsOf('{ "name": ')).code).toBe('SCENARIO_MALFORMED_JSON');
    await expect(loadScenarioFile('/nonexistent/scenario.json')).rejects.toMatchObject({ code: 'SCENARIO_NOT_FOUND' });
  });

  it('a store file is read relative to the scenario file; its own errors name it', async () => {
    const demo = await resolveScenario({ name: 'demo', store: { file: '../stores/demo-store.json' } }, { baseDir: SCENARIOS });
    expect(demo.store.labels).toHaveLength(40);
    const dir = mkdtempSync(join(tmpdir(), 'esl-scenario-store-'));
    try {
      writeFileSync(join(dir, 'store.json'), JSON.stringify({ chain: 'x', store: 'y', aps: [], products: [], labels: [] }));
      const err = await resolveScenario({ name: 'x', store: { file: 'store.json' } }, { file: join(dir, 's.json'), baseDir: dir }).then(
        () => new EslError('SCENARIO_INVALID', 'expected a refusal'),
        (e: unknown) => e as ScenarioError,
      );
      expect(err.code).toBe('SCENARIO_INVALID');
      expect(err.message).toContain(join(dir, 'store.json'));
      expect((err.details?.problems as string[] | undefined)?.[0]).toMatch(/^store\.file \(.*store\.json\): aps: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the shipped scenarios are valid and sized for CI (a few hundred labels, 2–4 APs, 20–60×)', async () => {
    for (const name of ['normal-day', 'midnight-repricing', 'ap-outage', 'flaky-radio']) {
      const r = await loadScenarioFile(join(SCENARIOS, `${name}.json`));
      expect(r.scenario.name).toBe(name);
      expect(r.store.labels.length).toBeGreaterThanOrEqual(100);
      expect(r.store.labels.length).toBeLessThanOrEqual(400);
      expect(r.store.aps.length).toBeGreaterThanOrEqual(2);
      expect(r.store.aps.length).toBeLessThanOrEqual(4);
      expect(r.scenario.speed).toBeGreaterThanOrEqual(20);
      expect(r.scenario.speed).toBeLessThanOrEqual(60);
      expect(r.steps.some((s) => s.step.type === 'expect-converged')).toBe(true);
      // In time order.
      expect(r.steps.map((s) => s.atMs)).toEqual([...r.steps.map((s) => s.atMs)].sort((a, b) => a - b));
    }
  });
});

describe('generated stores', () => {
  const spec = { chain: 'demo', store: 'berlin-01', aps: 3, labels: 200, labelTypes: { 'epd-29-bwr': 6, 'epd-213-bwr': 3, 'epd-154-bw': 1 }, neighbourFraction: 0.3, apIdPrefix: 'AP-', seed: 9 };

  it('are reproducible from their seed and differ between seeds', () => {
    const a = generateStore(spec);
    expect(generateStore(spec)).toEqual(a);
    const b = generateStore({ ...spec, seed: 10 });
    expect(b.labels.map((l) => l.labelId)).not.toEqual(a.labels.map((l) => l.labelId));
    expect(new Set([...a.products, ...b.products].map((p) => p.gtin)).size).toBe(400);
  });

  it('have the exact label-type mix, valid GTINs, APs in blocks and neighbours where asked', () => {
    const s = generateStore(spec);
    const byType = new Map<number, number>();
    for (const l of s.labels) byType.set(l.labelType, (byType.get(l.labelType) ?? 0) + 1);
    expect(Object.fromEntries(byType)).toEqual({ 3: 120, 2: 60, 1: 20 });
    expect(s.products.every((p) => gtinCheckDigitOk(p.gtin))).toBe(true);
    expect(s.aps.map((a) => a.apId)).toEqual(['AP-1', 'AP-2', 'AP-3']);
    expect(s.labels.filter((l) => l.apId === 'AP-2')).toHaveLength(67);
    const neighbours = s.labels.filter((l) => l.neighbourApId !== undefined);
    expect(neighbours.length).toBeGreaterThan(40);
    expect(neighbours.length).toBeLessThan(80);
    expect(neighbours.every((l) => l.neighbourApId !== l.apId)).toBe(true);
    expect(gtin13('400210000001')).toBe('4002100000016');
    expect(labelTypeMix({ 'epd-29-bwr': 1, 'epd-154-bw': 1 }, 3, seededRandom(1)).sort()).toEqual([1, 3, 3].sort());
  });
});

describe('scenario events', () => {
  const store = generateStore({ chain: 'demo', store: 'berlin-01', aps: 2, labels: 600, labelTypes: { 'epd-29-bwr': 1 }, neighbourFraction: 0, apIdPrefix: 'AP-', seed: 5 });

  it('seed the whole store in valid batch events below the packet limit, with stable ids', () => {
    const events = seedEvents(store, 'esl-sim-seed');
    expect(events).toHaveLength(600 * 3);
    const batches = toBatches(events, { idPrefix: 'seed', source: 'esl-sim-seed', version: 1 });
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      expect(Buffer.byteLength(JSON.stringify(b))).toBeLessThanOrEqual(MAX_BATCH_BYTES);
      expect(EventSchema.safeParse(b).success).toBe(true);
    }
    expect(batches.flatMap((b) => b.data.events)).toEqual(events);
    expect(seedEvents(store, 'esl-sim-seed').map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('prices change by the percentage, always by at least a cent, never below one', () => {
    expect(changedPrice(199, -10)).toBe(179);
    expect(changedPrice(100, 0.1)).toBe(101);
    expect(changedPrice(1, -50)).toBe(1);
    expect(changedPrice(5, -99)).toBe(1);
  });

  it('versions grow strictly, from the wall clock', () => {
    let t = 1_000;
    const v = new VersionSource(() => t);
    expect([v.next(), v.next()]).toEqual([1_000, 1_001]);
    t = 5_000;
    expect(v.next()).toBe(5_000);
    expect(sample(seededRandom(1), [1, 2, 3, 4, 5], 3)).toHaveLength(3);
    expect(new Set(sample(seededRandom(2), [1, 2, 3, 4, 5], 5)).size).toBe(5);
  });
});

describe('ground truth against the audit', () => {
  const entry = (labelId: string, status: AuditEntry['status'], desired: string, confirmed: string, till = 100): AuditEntry => ({
    labelId,
    status,
    gtin: '4002100000016',
    apId: 'AP-1',
    tillPriceCents: till,
    shownPriceCents: till,
    desiredHash: desired,
    confirmedHash: confirmed,
    desiredSince: 0,
    lastSeenAt: 0,
    attempts: 0,
    lastError: null,
  });
  const obs = (labelId: string, displayed: string, audit: AuditEntry | undefined, reachable = true, expected?: number): LabelObservation => ({
    labelId,
    gtin: '4002100000016',
    reachable,
    displayedHash: displayed,
    expectedPriceCents: expected,
    audit,
  });

  it('consistent ⇔ the panel shows the desired hash; each way of breaking it is reported', () => {
    const c = compare([
      obs('A', 'h1', entry('A', 'consistent', 'h1', 'h1')),
      obs('B', 'h0', entry('B', 'consistent', 'h1', 'h1')),
      obs('C', 'h1', entry('C', 'pending', 'h1', BLANK_HASH)),
      obs('D', 'h0', entry('D', 'pending', 'h1', 'h0')),
      obs('E', 'h0', undefined),
      obs('F', 'h2', entry('F', 'consistent', 'h2', 'h2', 100), true, 120),
    ]);
    expect(c.ok).toBe(false);
    expect(c.mismatches.map((m) => [m.labelId, m.kind])).toEqual([
      ['B', 'audit-consistent-panel-differs'],
      ['C', 'panel-desired-audit-not-consistent'],
      ['E', 'unknown-to-edge'],
    ]);
    expect(c.priceMismatches).toEqual([{ labelId: 'F', gtin: '4002100000016', sentPriceCents: 120, edgePriceCents: 100 }]);
    expect([c.auditConsistent, c.panelsShowDesired]).toEqual([3, 3]);
    expect(compare([obs('A', 'h1', entry('A', 'consistent', 'h1', 'h1'))]).ok).toBe(true);
  });

  it('converged: every reachable label consistent, showing the desired picture with the price sent', () => {
    const a = assess([
      obs('A', 'h1', entry('A', 'consistent', 'h1', 'h1')),
      obs('B', 'h0', entry('B', 'unreachable', 'h1', 'h0'), false),
      obs('C', 'h1', entry('C', 'consistent', 'h1', 'h1', 100), true, 110),
    ]);
    expect(a).toMatchObject({ converged: false, labels: 3, reachable: 2, convergedLabels: 1, waiting: [{ labelId: 'C', reason: 'price-not-planned' }] });
    expect(assess([obs('A', 'h1', entry('A', 'consistent', 'h1', 'h1')), obs('B', 'h0', undefined, false)]).converged).toBe(true);
  });
});

describe('the edge clock on a simulator clock', () => {
  it('fires the edge timers in simulated time, whole milliseconds, and cancels them', async () => {
    const sim = new VirtualClock({ startMs: 1_000.5 });
    const clock = edgeClock(sim);
    expect(clock.now()).toBe(1_000);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 5_000);
    const cancelled = clock.setTimeout(() => fired.push(-1), 3_000);
    clock.clearTimeout(cancelled);
    expect(clock.pending).toBe(1);
    await sim.advance(10_000);
    expect(fired).toEqual([6_000]);
    expect(clock.pending).toBe(0);
  });

  it('runs at the speed of a RealClock, and arms nothing once the clock stopped', async () => {
    const real = new RealClock({ speed: 50 });
    const clock = edgeClock(real);
    // The edge's ms are handed to the simulator clock as simulated ms (5 simulated s = 100 wall ms at speed 50), and
    // the timer fires once they have passed. Asserted on the clocks, not on a wall deadline (D53): a loaded machine
    // may deliver a 100 ms host timer seconds late.
    const armed = vi.spyOn(real, 'setTimeout');
    const t0 = real.now();
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 5_000));
    expect(armed.mock.calls.map((c) => c[1])).toEqual([5_000]);
    expect(real.now() - t0).toBeGreaterThanOrEqual(5_000);
    real.stop();
    expect(() => clock.setTimeout(() => undefined, 10)).not.toThrow();
    expect(clock.pending).toBe(0);
  });
});

describe('battery and move-label on a running simulator', () => {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await startStore({ aps: [{ apId: 'AP-1', username: 'ap-1', password: 'x' }, { apId: 'AP-2', username: 'ap-2', password: 'x' }], labels: [{ labelId: LABEL_A, labelType: 3, apId: 'AP-1' }] });
    await runVirtualUntil(fx.clock, () => fx.edge.received.some((r) => r.frame.message.type === 'LABEL_CHECKIN'), 120_000);
  });
  afterAll(async () => {
    await fx.close();
  });

  const checkins = () => fx.edge.received.filter((r) => r.frame.message.type === 'LABEL_CHECKIN').map((r) => ({ apId: r.apId, m: r.frame.message as MessageOf<'LABEL_CHECKIN'> }));

  it('a battery drop shows in the ground truth and in the next check-in the AP forwards', async () => {
    fx.sim.setLabelBattery(LABEL_A, 2_300);
    expect(fx.sim.groundTruth(LABEL_A)!.batteryMv).toBe(2_300);
    await runVirtualUntil(fx.clock, () => checkins().some((c) => c.m.batteryMv <= 2_300), 120_000);
    expect(checkins().at(-1)!.m.batteryMv).toBeLessThanOrEqual(2_300);
  });

  it('a moved label checks in at its new AP as a first contact', async () => {
    expect(labelTypeById(fx.sim.label(LABEL_A).type.id)).toBeDefined();
    expect(fx.sim.moveLabel(LABEL_A, 'AP-2')).toEqual({ from: 'AP-1' });
    expect(fx.sim.label(LABEL_A).homeApId).toBe('AP-2');
    await runVirtualUntil(fx.clock, () => checkins().some((c) => c.apId === 'AP-2'), 120_000);
    expect(checkins().find((c) => c.apId === 'AP-2')!.m.wakeReason).toBe(WakeReason.FIRST_CONTACT);
    expect(() => fx.sim.moveLabel(LABEL_A, 'AP-9')).toThrow(/no AP AP-9/);
  });
});
