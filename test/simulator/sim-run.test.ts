import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageKind, StatusCode, encodeImage, labelTypeById } from '#protocol';
import { sharp } from '../../src/domain/rendering/sharp.js';
import { EslError } from '#contracts';
import { parseCredentialArg, resolveCredentials } from '../../simulator/src/ap-credentials.js';
import { buildProgram } from '../../simulator/src/cli.js';
import { wallLayout } from '../../simulator/src/panel-png.js';
import type { SimReport } from '../../simulator/src/sim-report.js';
import { startSimRun } from '../../simulator/src/sim-run.js';
import { loadStoreFile } from '../../simulator/src/store-file.js';
import { pacedClock, simWaitFor, waitFor } from '../support/edge-fixture.js';
import { EdgeDouble, startBroker, type Broker } from './edge-double.js';
import { testPlanes } from './images.js';

const DEMO = join(import.meta.dirname, '..', '..', 'simulator', 'stores', 'demo-store.json');

describe('AP credentials', () => {
  it('per-AP entries win over the file, the file over the shared template', () => {
    expect(parseCredentialArg('AP-01=user:pa:ss')).toEqual(['AP-01', { username: 'user', password: 'pa:ss' }]);
    expect(() => parseCredentialArg('AP-01')).toThrow(EslError);
    const creds = resolveCredentials(['AP-01', 'AP-02', 'AP-03'], {
      perAp: ['AP-01=one:1'],
      file: { 'AP-01': { username: 'file', password: 'f' }, 'AP-02': { username: 'two', password: '2' } },
      username: 'ap-{apId}',
      password: 'pw-{apId}',
    });
    expect(Object.fromEntries(creds)).toEqual({
      'AP-01': { username: 'one', password: '1' },
      'AP-02': { username: 'two', password: '2' },
      'AP-03': { username: 'ap-AP-03', password: 'pw-AP-03' },
    });
    expect(() => resolveCredentials(['AP-09'], {})).toThrow(/no MQTT credentials for AP AP-09/);
  });

  it('the CLI knows the run command and its options', () => {
    const run = buildProgram().commands.find((c) => c.name() === 'run')!;
    const flags = run.options.map((o) => o.long);
    for (const f of ['--broker', '--store-file', '--username', '--password', '--credentials', '--speed', '--loss', '--wall', '--report']) expect(flags).toContain(f);
  });
});

describe('esl-sim run (demo store, paced time at 200×)', () => {
  let broker: Broker;
  let edge: EdgeDouble;
  let dir: string;
  // The store's time: 200 simulated ms per idle wall ms of this process (D22). The CLI runs on a RealClock; on one
  // here a loaded machine made the simulated APs' ACK timeouts (2 s = 10 wall ms) and the wait for the label
  // (5 wall s) depend on the load (D53).
  const clock = pacedClock(200);

  beforeAll(async () => {
    broker = await startBroker();
    edge = await EdgeDouble.connect(broker.url, { chain: 'demo', store: 'berlin-01', serverTimeMs: () => Math.floor(clock.now()) });
    dir = mkdtempSync(join(tmpdir(), 'esl-sim-run-'));
  });
  afterAll(async () => {
    await edge.close();
    await broker.close();
    clock.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the store file, shows what the edge sends, and writes the report and the wall on stop', async () => {
    const store = await loadStoreFile(DEMO);
    const run = await startSimRun({
      brokerUrl: broker.url,
      store,
      credentials: resolveCredentials(store.aps.map((a) => a.apId), { username: '{apId}', password: 'x' }),
      speed: 200,
      radio: { frameLoss: 0.01 },
      seed: 4,
      clock,
    });
    const label = store.labels[0]!;
    const type = labelTypeById(label.labelType)!;
    const image = encodeImage({ labelType: type, target: testPlanes(type, 2), kinds: [ImageKind.FULL] });
    await edge.waitFor((r) => r.apId === label.apId && r.frame.message.type === 'AP_HELLO');
    expect(await edge.stage(label.apId, { transferId: 1, labelId: label.labelId, labelType: label.labelType, image })).toContain(StatusCode.OK);
    // Within 1,000 simulated s (the old wait: 200 × 25 wall ms at 200×).
    await simWaitFor(clock, 'the staged image on the panel', () => run.sim.groundTruth(label.labelId)!.hash === image.targetHash, 1_000_000, { everySimMs: 5_000 });
    // Every label checked in through its AP.
    await edge.waitForCount((r) => r.frame.message.type === 'LABEL_CHECKIN', 40);

    const reportPath = join(dir, 'report.json');
    const wallPath = join(dir, 'wall.png');
    const report = await run.stop({ reportPath, wallPath });
    const written = JSON.parse(readFileSync(reportPath, 'utf8')) as SimReport;
    expect(written.labels).toHaveLength(40);
    expect(written).toMatchObject({ chain: 'demo', store: 'berlin-01', progress: { labels: 40, updated: 1, failed: 0 } });
    expect(written.simulatedMs).toBeGreaterThan(30_000);
    const entry = written.labels.find((l) => l.labelId === label.labelId)!;
    expect(entry).toMatchObject({ hash: image.targetHash, updates: 1 });
    expect(entry.bytesOnAir).toBeGreaterThan(image.payload.length);
    expect(entry.batteryMv).toBeGreaterThan(2_900);
    expect(report.stats.updated).toBe(1);
    const meta = await sharp(readFileSync(wallPath)).metadata();
    const layout = wallLayout(store.labels.map((l) => labelTypeById(l.labelType)!), Math.ceil(Math.sqrt(40)));
    expect([meta.width, meta.height]).toEqual([layout.width, layout.height]);
    // A retained "offline" on each status topic after an orderly stop.
    await waitFor('retained offline status', () => edge.statuses.get('AP-01') === 'offline');
  });
});
