/**
 * `npm run demo`: the daemon with its embedded broker and sqlite file, plus a simulated store (2 APs, 40 labels)
 * connected over MQTT like real hardware. The catalogue of the store file is sent to the edge as one batch event —
 * as HQ would — so the labels fill up at once; a second start finds the same event ids and changes nothing.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { pino } from 'pino';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/core/logger.js';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { PACKAGE_ROOT } from '../../src/domain/rendering/package-root.js';
import { loadStoreFile } from '../../simulator/src/store-file.js';
import { StoreSimulator } from '../../simulator/src/store-simulator.js';
import { seedEvents } from '../../simulator/src/scenario-events.js';
import { startStatusLine } from './demo-status.js';

export interface DemoHandle {
  daemon: Daemon;
  simulator: StoreSimulator;
  stop(): Promise<void>;
}

/**
 * `logs`: where the JSON log lines go — a file in the data directory (default; the terminal shows the banner and a
 * status line) or stdout (`--logs stdout`, the old behaviour).
 */
export async function runDemo(opts: { dataDir: string; httpPort: number; mqttPort: number; fresh: boolean; quiet?: boolean; logs?: 'file' | 'stdout' }): Promise<DemoHandle> {
  const dataDir = resolve(opts.dataDir);
  if (opts.fresh) rmSync(dataDir, { recursive: true, force: true });
  const { config } = loadConfig(join(PACKAGE_ROOT, 'config', 'demo.json'), {
    ...process.env,
    ESL_EDGE_DATA_DIR: dataDir,
    ESL_EDGE_HTTP__PORT: String(opts.httpPort),
    ESL_EDGE_MQTT__EMBEDDED__PORT: String(opts.mqttPort),
  });
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'esl-edge.log');
  const toFile = (opts.logs ?? 'file') === 'file';
  const log = createLogger({ level: opts.quiet ? 'warn' : config.log.level, ...(toFile ? { destination: pino.destination({ dest: logFile, append: true, mkdir: true }) } : {}) });
  const store = await loadStoreFile(join(PACKAGE_ROOT, 'simulator', 'stores', 'demo-store.json'));
  const daemon = await startDaemon(config, { log });

  const seed = { id: 'demo-seed-batch-v1', source: 'demo-seed', version: 1, type: 'batch', data: { events: seedEvents(store, 'demo-seed') } };
  const { reply } = await daemon.intake.ingest(JSON.stringify(seed), { channel: 'local' });
  log.info({ evt: 'demo.seeded', status: reply.status, products: store.products.length, labels: store.labels.length }, 'demo catalogue loaded');
  // One label rule for the demo (issue 14, README "A label rule in the demo"): stock at 3 or below → 20 % off until
  // stock is back above 10. A second start sends the same event id: a duplicate, nothing changes.
  const rules = {
    id: 'demo-rules-v1',
    source: 'demo-seed',
    version: 1,
    type: 'rules',
    data: { scope: 'store', rules: [{ id: 'low-stock-demo', kind: 'low-stock', threshold: 3, releaseAbove: 10, percentOff: 20, badge: 'Restposten' }] },
  };
  await daemon.intake.ingest(JSON.stringify(rules), { channel: 'local' });

  const apUsers = new Map(config.mqtt.users.filter((u) => u.role === 'ap').map((u) => [u.apId!, u]));
  const simulator = await StoreSimulator.start({
    brokerUrl: daemon.mqttUrl,
    chain: config.store.chain,
    store: config.store.id,
    aps: store.aps.map((a) => {
      const user = apUsers.get(a.apId);
      if (!user) throw new Error(`demo config has no MQTT user for AP ${a.apId}`);
      return { apId: a.apId, username: user.username, password: user.password };
    }),
    labels: store.labels.map((l) => ({ labelId: l.labelId, labelType: l.labelType, apId: l.apId, ...(l.neighbourApId ? { neighbourApId: l.neighbourApId } : {}) })),
    // Demo pace: labels wake every 5 s instead of 30 s, so a change shows within ~25 s (panel refresh included).
    radio: { wakeIntervalMs: 5_000 },
    logger: log.child({ component: 'simulator' }),
  });

  const token = config.http.tokens[0]!.token;
  const pos = config.mqtt.users.find((u) => u.username === 'pos')!;
  const first = store.labels[0]!;
  const dashUsers = [...config.dashboard.users.map((u) => `${u.username} / ${u.password} (${u.role})`), ...(config.dashboard.tokenLogin !== 'off' ? [`or the token (${config.dashboard.tokenLogin})`] : [])].join(', ');
  const product = store.products.find((p) => p.gtin === first.gtin)!;
  if (!opts.quiet) {
    process.stdout.write(`
esl-edge demo is running — store ${config.store.chain}/${config.store.id}, ${store.labels.length} simulated labels on ${store.aps.length} APs.
  Dashboard    http://127.0.0.1:${daemon.httpPort}/dashboard   (log in: ${dashUsers})
  HTTP API     http://127.0.0.1:${daemon.httpPort}   (token: ${token})
  MQTT broker  mqtt://127.0.0.1:${daemon.mqttPort}   (POS user: ${pos.username} / ${pos.password})
  Data         ${join(dataDir, 'esl-edge.db')}
  Logs         ${toFile ? `${logFile}   (tail -f it; --logs stdout prints them here)` : 'stdout'}

Try (in another terminal):
  curl -s -H 'Authorization: Bearer ${token}' http://127.0.0.1:${daemon.httpPort}/api/v1/audit | head -c 400
  mosquitto_pub -h 127.0.0.1 -p ${daemon.mqttPort} -u ${pos.username} -P ${pos.password} -q 1 -t esl/${config.store.chain}/${config.store.id}/in/price \\
    -m '{"id":"price-${first.gtin}-1","source":"pos","version":${Date.now()},"type":"price","data":{"gtin":"${first.gtin}","priceCents":${product.regularPriceCents - 10}}}'
  curl -s -H 'Authorization: Bearer ${token}' -o label.png http://127.0.0.1:${daemon.httpPort}/api/v1/labels/${first.labelId}/image.png
A label rule (low-stock-demo: stock at 3 or below → 20 % off from the next whole minute, back above 10 → regular):
  mosquitto_pub -h 127.0.0.1 -p ${daemon.mqttPort} -u ${pos.username} -P ${pos.password} -q 1 -t esl/${config.store.chain}/${config.store.id}/in/stock \
    -m '{"id":"stock-${first.gtin}-'$(date +%s%3N)'","source":"pos","version":'$(date +%s%3N)',"type":"stock","data":{"gtin":"${first.gtin}","quantity":2}}'
  curl -s -H 'Authorization: Bearer ${token}' 'http://127.0.0.1:${daemon.httpPort}/api/v1/prices?since=0'
Stop with Ctrl-C.

`);
  }
  const stopStatus = !opts.quiet && toFile ? startStatusLine(daemon) : () => undefined;
  return {
    daemon,
    simulator,
    async stop() {
      stopStatus();
      await simulator.stop();
      await daemon.stop();
    },
  };
}
