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
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { readCredentialsFile, resolveCredentials } from './ap-credentials.js';
import { progressLine } from './sim-report.js';
import { startSimRun } from './sim-run.js';
import { loadStoreFile } from './store-file.js';

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
