#!/usr/bin/env node
/**
 * esl-sim: runs a simulated store (virtual APs and labels speaking the real protocol) against an edge's MQTT
 * broker or serial lines.
 *
 *   esl-sim run --broker mqtt://127.0.0.1:1883 --store-file simulator/stores/demo-store.json \
 *     --username '{apId}' --password secret [--credential AP-01=user:pass] [--credentials creds.json] \
 *     [--serial AP-02=/dev/ttyUSB0] [--speed 10] [--loss 0.01] [--wake-interval 30] [--seed 1] \
 *     [--report report.json] [--wall wall.png]
 *
 * A progress line shows labels updated / pending / failed. SIGINT or SIGTERM stop the store cleanly and write the
 * JSON report (per label: hash, updates, bytes on air, battery) and, with --wall, a PNG of every panel.
 *
 *   esl-sim scenario simulator/scenarios/ap-outage.json --broker mqtt://127.0.0.1:1883 --credentials creds.json \
 *     --edge-http http://127.0.0.1:8080 --token … [--publisher pos:secret] [--chain demo --store berlin-01] \
 *     [--speed 40] [--report out.json] [--wall wall.png]
 *
 * Plays a scenario file (simulator/README.md "Scenarios") against a running edge and compares every panel with
 * the edge's audit. Exit code 0: passed; 1: the scenario failed (see the report's "problems"); 2: it could not run.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { parseCredentialArg, readCredentialsFile, resolveCredentials, type Credential } from './ap-credentials.js';
import { remoteEdge } from './scenario-edge.js';
import { loadScenarioFile } from './scenario-load.js';
import { scenarioProgressLine } from './scenario-report.js';
import { progressLine } from './sim-report.js';
import { runScenarioToFiles, startSimRun } from './sim-run.js';
import { loadStoreFile } from './store-file.js';
import { EslError } from '#contracts';

function probability(v: string): number {
  const p = Number(v);
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError('expected a probability between 0 and 1');
  return p;
}

function positive(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface RunFlags {
  broker: string;
  storeFile: string;
  username?: string;
  password?: string;
  credential: string[];
  credentials?: string;
  serial: string[];
  speed: number;
  loss?: number;
  corruption?: number;
  wakeInterval?: number;
  seed?: number;
  report: string;
  wall?: string;
  logLevel: string;
}

async function run(flags: RunFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel, base: { component: 'esl-sim' } }, pino.destination(2));
  const store = await loadStoreFile(flags.storeFile);
  const credentials = resolveCredentials(
    store.aps.map((a) => a.apId),
    {
      perAp: flags.credential,
      ...(flags.credentials !== undefined ? { file: readCredentialsFile(flags.credentials) } : {}),
      ...(flags.username !== undefined ? { username: flags.username, password: flags.password ?? '' } : {}),
    },
  );
  const serial = new Map(
    flags.serial.map((s) => {
      const i = s.indexOf('=');
      if (i <= 0) throw new InvalidArgumentError(`--serial ${s}: expected AP-ID=DEVICE`);
      return [s.slice(0, i), s.slice(i + 1)] as const;
    }),
  );
  const radio = {
    ...(flags.loss !== undefined ? { frameLoss: flags.loss } : {}),
    ...(flags.corruption !== undefined ? { corruption: flags.corruption } : {}),
    ...(flags.wakeInterval !== undefined ? { wakeIntervalMs: flags.wakeInterval * 1000 } : {}),
  };
  const simRun = await startSimRun({
    brokerUrl: flags.broker,
    store,
    credentials,
    serial,
    speed: flags.speed,
    radio,
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    logger,
  });
  const tty = process.stderr.isTTY;
  process.stderr.write(`esl-sim: ${store.chain}/${store.store} — ${store.labels.length} labels on ${store.aps.length} APs, speed ${flags.speed}×\n`);
  let last = '';
  const ticker = setInterval(
    () => {
      const line = progressLine(simRun.sim.progress(), simRun.sim.stats());
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    },
    tty ? 1_000 : 10_000,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    clearInterval(ticker);
    process.stderr.write(`${tty ? '\n' : ''}esl-sim: ${signal}, stopping\n`);
    simRun.stop({ reportPath: flags.report, ...(flags.wall !== undefined ? { wallPath: flags.wall } : {}) }).then(
      (report) => {
        process.stderr.write(`esl-sim: ${progressLine(report.progress, report.stats)}\nesl-sim: report written to ${flags.report}${flags.wall ? `, store wall to ${flags.wall}` : ''}\n`);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`esl-sim: stopping failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

interface ScenarioFlags {
  broker: string;
  edgeHttp: string;
  token: string;
  username?: string;
  password?: string;
  credential: string[];
  credentials?: string;
  publisher?: string;
  chain?: string;
  store?: string;
  speed?: number;
  report?: string;
  wall?: string;
  logLevel: string;
}

/** The publisher's MQTT user: --publisher, else the credentials file's "publisher" entry. */
function publisherCredential(flags: ScenarioFlags, file: Record<string, Credential> | undefined): Credential {
  if (flags.publisher !== undefined) return parseCredentialArg(`publisher=${flags.publisher}`)[1];
  const c = file?.publisher;
  if (c === undefined) throw new EslError('SCENARIO_CREDENTIALS', 'no publisher: give --publisher USER:PASSWORD or a "publisher" entry in --credentials');
  return c;
}

async function scenario(file: string, flags: ScenarioFlags): Promise<void> {
  const logger = pino({ level: flags.logLevel, base: { component: 'esl-sim' } }, pino.destination(2));
  let resolved = await loadScenarioFile(file);
  if (flags.speed !== undefined) resolved = { ...resolved, scenario: { ...resolved.scenario, speed: flags.speed } };
  const { store } = resolved;
  const credFile = flags.credentials !== undefined ? readCredentialsFile(flags.credentials) : undefined;
  const apCredentials = resolveCredentials(
    store.aps.map((a) => a.apId),
    {
      perAp: flags.credential,
      ...(credFile !== undefined ? { file: credFile } : {}),
      ...(flags.username !== undefined ? { username: flags.username, password: flags.password ?? '' } : {}),
    },
  );
  const edge = remoteEdge({
    brokerUrl: flags.broker,
    chain: flags.chain ?? store.chain,
    store: flags.store ?? store.store,
    apCredentials,
    publisher: publisherCredential(flags, credFile),
    httpUrl: flags.edgeHttp,
    token: flags.token,
  });
  const tty = process.stderr.isTTY;
  const { scenario: sc } = resolved;
  process.stderr.write(`esl-sim: scenario ${sc.name} — ${store.labels.length} labels on ${store.aps.length} APs of ${edge.chain}/${edge.store}, ${resolved.steps.length} steps, speed ${sc.speed}×\n`);
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write(`${tty ? '\n' : ''}esl-sim: ${signal}, stopping the store\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let last = '';
  const { report } = await runScenarioToFiles({
    scenario: resolved,
    edge,
    logger,
    signal: abort.signal,
    progressEveryMs: tty ? 1_000 : 10_000,
    onProgress: (p) => {
      const line = scenarioProgressLine(p);
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    },
    ...(flags.report !== undefined ? { reportPath: flags.report } : {}),
    ...(flags.wall !== undefined ? { wallPath: flags.wall } : {}),
  }).finally(() => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  const c = report.comparison;
  process.stderr.write(
    `${tty ? '\n' : ''}esl-sim: ${report.scenario} ${report.ok ? 'PASSED' : 'FAILED'} in ${(report.wallMs / 1000).toFixed(1)} s ` +
      `(${report.simulated.totalS} s simulated at ${report.speed}×): ${c.labels} labels, audit consistent ${c.auditConsistent}, ` +
      `panels showing the desired picture ${c.panelsShowDesired}, ${(report.totals.bytesOnAir / 1024).toFixed(1)} kB on air\n`,
  );
  for (const p of report.problems) process.stderr.write(`esl-sim:   - ${p}\n`);
  if (flags.report !== undefined || flags.wall !== undefined) {
    process.stderr.write(`esl-sim: ${[flags.report !== undefined ? `report written to ${flags.report}` : '', flags.wall !== undefined ? `store wall to ${flags.wall}` : ''].filter(Boolean).join(', ')}\n`);
  }
  process.exitCode = report.ok ? 0 : 1;
}

export function buildProgram(): Command {
  const program = new Command();
  program.name('esl-sim').description('Simulated ESL access points and labels speaking the esl-edge protocol');
  program
    .command('run')
    .description('run a store file until SIGINT, then write a report')
    .requiredOption('--broker <url>', 'MQTT broker of the edge, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--store-file <path>', 'store file (simulator/stores/*.json)')
    .option('--username <name>', "MQTT username for every AP ('{apId}' is replaced by the AP's id)")
    .option('--password <secret>', "MQTT password for every AP ('{apId}' is replaced)")
    .option('--credential <AP=user:pass>', 'credentials of one AP (repeatable)', collect, [])
    .option('--credentials <file>', 'JSON file { "AP-01": { "username": "…", "password": "…" } }')
    .option('--serial <AP=device>', 'connect this AP over a serial line instead of MQTT (repeatable)', collect, [])
    .option('--speed <factor>', 'simulated time runs this many times faster than real time', positive, 1)
    .option('--loss <p>', 'radio frame loss probability (default 0.01)', probability)
    .option('--corruption <p>', 'radio frame corruption probability (default 0)', probability)
    .option('--wake-interval <s>', 'label wake interval in seconds (default 30)', positive)
    .option('--seed <n>', 'random seed', (v) => Number.parseInt(v, 10))
    .option('--report <path>', 'where to write the JSON report on exit', 'esl-sim-report.json')
    .option('--wall <path>', 'also write a PNG of every panel on exit')
    .option('--log-level <level>', 'pino log level (logs go to stderr)', 'warn')
    .action(async (flags: RunFlags) => {
      await run(flags);
    });
  program
    .command('scenario')
    .description('play a scenario file against a running edge, compare every panel with its audit, write a report')
    .argument('<file>', 'scenario file (simulator/scenarios/*.json)')
    .requiredOption('--broker <url>', 'MQTT broker of the edge, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--edge-http <url>', "the edge's HTTP API, e.g. http://127.0.0.1:8080")
    .requiredOption('--token <token>', "bearer token of the edge's HTTP API")
    .option('--credentials <file>', 'JSON file { "AP-1": { "username": "…", "password": "…" }, …, "publisher": { … } }')
    .option('--credential <AP=user:pass>', 'credentials of one AP (repeatable)', collect, [])
    .option('--username <name>', "MQTT username for every AP ('{apId}' is replaced by the AP's id)")
    .option('--password <secret>', "MQTT password for every AP ('{apId}' is replaced)")
    .option('--publisher <user:pass>', 'MQTT publisher user that sends the price events (default: "publisher" in --credentials)')
    .option('--chain <chain>', "the edge's chain (default: the scenario store's)")
    .option('--store <store>', "the edge's store id (default: the scenario store's)")
    .option('--speed <factor>', "override the scenario's speed", positive)
    .option('--report <path>', 'write the JSON report here')
    .option('--wall <path>', 'write a PNG of every panel (store order) here')
    .option('--log-level <level>', 'pino log level (logs go to stderr)', 'warn')
    .action(async (file: string, flags: ScenarioFlags) => {
      try {
        await scenario(file, flags);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        process.stderr.write(`\nesl-sim: ${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
      }
    });
  return program;
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      process.stderr.write(`esl-sim: ${typeof code === 'string' ? `${code}: ` : ''}${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
