/**
 * The HQ push through a foreign broker: Mosquitto as the chain's HQ broker (password file, ACLs, no anonymous
 * access), two real store edges connected to it with persistent sessions, and the real `esl-edge hq push` command
 * run as a child process — its output and exit code are what a pricing team sees.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { parsePriceListCsv } from '../../hq/src/price-list-csv.js';
import { pushToStores } from '../../hq/src/push.js';
import { PACKAGE_ROOT } from '../../src/domain/rendering/package-root.js';
import { CHAIN, startTestDaemon, tempDir } from '../support/edge-fixture.js';
import { startMosquitto, type Mosquitto } from '../support/mosquitto.js';
import { germanPriceList } from './price-list-fixture.js';

const HQ = { username: 'hq', password: 'hq-push-password-7f3a' };
const EDGES = [
  { store: 'store-1', username: 'edge-store-1', password: 'edge-1-password-91c2' },
  { store: 'store-2', username: 'edge-store-2', password: 'edge-2-password-4be8' },
];

// Least privilege, as a chain would run it: HQ writes events and reads its replies; each edge reads its own
// store's events and writes its replies and reports.
const ACL = [
  `user ${HQ.username}`,
  `topic write esl/${CHAIN}/+/in/#`,
  `topic read esl/${CHAIN}/+/reply/${HQ.username}/#`,
  ...EDGES.flatMap((e) => [`user ${e.username}`, `topic read esl/${CHAIN}/${e.store}/in/#`, `topic write esl/${CHAIN}/${e.store}/reply/#`, `topic write esl/${CHAIN}/${e.store}/out/#`]),
].join('\n');

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: PACKAGE_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hq push through Mosquitto as the HQ broker', () => {
  let tmp: ReturnType<typeof tempDir>;
  let mosquitto: Mosquitto;
  const daemons: Daemon[] = [];
  const list = germanPriceList(500);

  beforeAll(async () => {
    tmp = tempDir();
    mosquitto = await startMosquitto({ dir: tmp.dir, users: [HQ, ...EDGES.map((e) => ({ username: e.username, password: e.password }))], acl: ACL });
    for (const e of EDGES) {
      daemons.push(
        await startTestDaemon(join(tmp.dir, e.store), {
          store: { chain: CHAIN, id: e.store },
          hq: { url: mosquitto.url, username: e.username, password: e.password },
        }),
      );
    }
    // The edges' persistent subscriptions must exist before the push, or Mosquitto has nobody to queue for.
    for (const e of EDGES) await mosquitto.waitForSubscription(`esl-edge-${CHAIN}-${e.store}`, `esl/${CHAIN}/${e.store}/in/+`);
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await mosquitto?.stop();
    tmp?.remove();
  });

  it('pushes the valid 500-row list to both stores with the real command: exit 0, both confirm, both databases hold the prices', async () => {
    const file = join(tmp.dir, 'preisliste-kw14.csv');
    writeFileSync(file, list.text);
    const t0 = performance.now();
    // --timeout is a safety net here (both stores answer); its own behaviour is tested with store-3 below (D53).
    const run = await runCli(
      ['hq', 'push', file, '--broker', mosquitto.url, '--username', HQ.username, '--chain', CHAIN, '--store', 'store-1', '--store', 'store-2', '--timeout', '120'],
      { ESL_HQ_PASSWORD: HQ.password },
    );
    const ms = performance.now() - t0;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe(`preisliste-kw14.csv — 500 rows, 500 prices → 2 stores of chain ${CHAIN}`);
    expect(lines.filter((l) => /^store-\d: confirmed — 500 applied \(1 batch, \d+\.\d s\)$/.test(l))).toHaveLength(2);
    expect(lines.at(-1)).toMatch(/^Push hq-[0-9a-f]{16} \(version \d+\), \d+\.\d s: 2 of 2 stores confirmed\.$/);

    for (const d of daemons) {
      const rows = await d.db.all<{ gtin: string; cents: number }>('SELECT gtin, cents FROM prices');
      expect(new Map(rows.map((r) => [r.gtin, r.cents]))).toEqual(list.prices);
    }
    console.log(`CLI push of 500 prices to 2 stores through Mosquitto: ${ms.toFixed(0)} ms wall time incl. process start`);
  });

  it('reports a store without a running edge as "no answer" at the timeout (its events wait on the HQ broker)', async () => {
    const parsed = parsePriceListCsv(list.text);
    if (!parsed.ok) throw new Error('invalid');
    const report = await pushToStores({ brokerUrl: mosquitto.url, ...HQ, chain: CHAIN, stores: ['store-3'], events: parsed.list.records, timeoutMs: 1_500 });
    expect(report.ok).toBe(false);
    expect(report.stores.map((s) => [s.store, s.status, s.answered])).toEqual([['store-3', 'no-answer', 0]]);
    expect(report.stores[0]!.reason).toBe('0 of 1 batches answered within 1.5 s');
  });

  // Regression: the edge used to await its reply's PUBACK inside MQTT.js's handleMessage and so took only one event
  // per HQ session.
  it('an edge answers a second push from the HQ broker (a re-push is "duplicate")', async () => {
    const parsed = parsePriceListCsv(list.text);
    if (!parsed.ok) throw new Error('invalid');
    const report = await pushToStores({ brokerUrl: mosquitto.url, ...HQ, chain: CHAIN, stores: ['store-1', 'store-2'], events: parsed.list.records, timeoutMs: 120_000 }); // a safety net: both answer (D53)
    expect(report.stores.map((s) => [s.store, s.status, s.duplicates])).toEqual([
      ['store-1', 'confirmed', 1],
      ['store-2', 'confirmed', 1],
    ]);
  });
});
