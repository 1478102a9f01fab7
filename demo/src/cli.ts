#!/usr/bin/env node
/**
 * `npm run demo`: the edge daemon with its embedded broker and sqlite file, plus a simulated store (demo.ts). Its own
 * command, not a subcommand of `esl-edge`: the demo composes the edge and the simulator, and the edge's command must
 * not import the simulator (docs/architecture.md, D77).
 */
import { Command } from 'commander';
import { runDemo } from './demo.js';
import { onShutdownSignals } from '../../src/cli/shutdown-signals.js';

const program = new Command();
program
  .name('esl-demo')
  .description('run the edge daemon with its embedded broker, a sqlite file and a simulated store (see README)')
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
      process.stderr.write(`esl-demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    }
  });

await program.parseAsync(process.argv);
