#!/usr/bin/env node
/**
 * The esl-edge command line (commander). `start` runs the daemon from a config file; `config check` validates a
 * config file; `hq` are the HQ push tool's commands (hq/, its own program: D77); `secret hash`,
 * `backup` and `restore` are the operator's tools (ops-cli.ts).
 */
import { Command } from 'commander';
import { loadConfig } from '../config/load-config.js';
import { EdgeError } from '#contracts';
import { createLogger } from '../core/logger.js';
import { startDaemon, type Daemon } from '../daemon.js';
import { applyEdgeHeapPolicy } from '../core/edge-runtime.js';
import { registerHqCommands } from '../../hq/src/hq-cli.js';
import { registerOpsCommands } from './ops-cli.js';
import { onShutdownSignals } from './shutdown-signals.js';

function fail(err: unknown): never {
  if (err instanceof EdgeError) {
    process.stderr.write(`esl-edge: ${err.code}: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`esl-edge: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
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
