#!/usr/bin/env node
/**
 * The esl-edge command line (commander). `start` runs the daemon from a config file; `demo` runs it with the demo
 * config, an embedded broker, a sqlite file and a simulated store; `config check` validates a config file; `secret hash`,
 * `backup` and `restore` are the operator's tools (ops-cli.ts).
 */
import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { EdgeError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { startDaemon, type Daemon } from '../daemon.js';
import { applyEdgeHeapPolicy } from '../core/edge-runtime.js';
import { runDemo } from './demo.js';
import { registerHqCommands } from '../hq/hq-cli.js';
import { registerOpsCommands } from './ops-cli.js';

function fail(err: unknown): never {
  if (err instanceof EdgeError) {
    process.stderr.write(`esl-edge: ${err.code}: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`esl-edge: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/** SIGTERM/SIGINT stop the daemon gracefully; a second signal exits at once. */
export function onShutdownSignals(stop: () => Promise<void>): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    process.stderr.write(`esl-edge: ${signal} received, shutting down\n`);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

const program = new Command();
program
  .name('esl-edge')
  .description('In-store controller for electronic shelf labels: price events in, rendered labels out, price-consistency audit back to HQ.')
  .version('0.1.0');

program
  .command('start')
  .description('run the edge daemon')
  .option('-c, --config <file>', 'config file (JSON); settings can be overridden by ESL_EDGE_* environment variables', process.env.ESL_EDGE_CONFIG)
  .action(async (opts: { config?: string }) => {
    let daemon: Daemon;
    try {
      const { config } = loadConfig(opts.config);
      const log = createLogger({ level: config.log.level });
      // The heap growth of the systemd unit's flags also when started by hand (D63).
      applyEdgeHeapPolicy();
      process.on('uncaughtException', (err) => {
        log.fatal({ evt: 'daemon.crashed', err: err.message, stack: err.stack }, 'uncaught exception; exiting for the service manager to restart');
        process.exit(1);
      });
      daemon = await startDaemon(config, { log });
    } catch (err) {
      fail(err);
    }
    onShutdownSignals(() => daemon.stop());
  });

program
  .command('demo')
  .description('run the daemon with its embedded broker, a sqlite file and a simulated store (see README)')
  .option('--data-dir <dir>', 'where the demo keeps its sqlite file', 'data-demo')
  .option('--http-port <port>', 'HTTP API port', '8080')
  .option('--mqtt-port <port>', 'embedded MQTT broker port', '1883')
  .option('--fresh', 'delete the demo data directory first', false)
  .option('--logs <where>', 'JSON logs to "file" (data dir, the terminal shows a status line) or "stdout"', 'file')
  .action(async (opts: { dataDir: string; httpPort: string; mqttPort: string; fresh: boolean; logs: string }) => {
    try {
      const demo = await runDemo({ dataDir: opts.dataDir, httpPort: Number(opts.httpPort), mqttPort: Number(opts.mqttPort), fresh: opts.fresh, logs: opts.logs === 'stdout' ? 'stdout' : 'file' });
      onShutdownSignals(() => demo.stop());
    } catch (err) {
      fail(err);
    }
  });

const configCmd = program.command('config').description('configuration tools');
configCmd
  .command('check')
  .description('validate a config file (and ESL_EDGE_* overrides) and print the effective settings without secrets')
  .requiredOption('-c, --config <file>', 'config file')
  .action((opts: { config: string }) => {
    try {
      const { config } = loadConfig(opts.config);
      const redacted = {
        ...config,
        mqtt: { ...config.mqtt, password: config.mqtt.password ? '[redacted]' : undefined, users: config.mqtt.users.map((u) => ({ ...u, password: '[redacted]' })) },
        http: { ...config.http, tokens: config.http.tokens.map((t) => ({ name: t.name, token: '[redacted]' })) },
        dashboard: { ...config.dashboard, users: config.dashboard.users.map((u) => ({ ...u, password: '[redacted]' })) },
      };
      process.stdout.write(`${JSON.stringify(redacted, null, 2)}\n`);
    } catch (err) {
      fail(err);
    }
  });

registerHqCommands(program);
registerOpsCommands(program, fail);

await program.parseAsync(process.argv);
