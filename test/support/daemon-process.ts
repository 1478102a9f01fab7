/**
 * The daemon as a real process, for the crash tests: a config file on free ports with the test users and token, the
 * CLI spawned from source (tsx, no build step inside `npm test`), and a health wait. SIGKILL it, start it again on
 * the same config file and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CHAIN, STORE, TOKEN, USERS, waitFor } from './edge-fixture.js';

export interface DaemonProcessConfig {
  configFile: string;
  mqttPort: number;
  httpPort: number;
  /** http://127.0.0.1:{httpPort} */
  api: string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Writes {dir}/config.json (data in {dir}/data) with the test store, users and token; `extra` adds top-level sections. */
export async function writeDaemonConfig(dir: string, extra: Record<string, unknown> = {}): Promise<DaemonProcessConfig> {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const configFile = join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      store: { chain: CHAIN, id: STORE },
      dataDir: join(dir, 'data'),
      log: { level: 'warn' },
      mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: mqttPort }, users: Object.values(USERS) },
      http: { host: '127.0.0.1', port: httpPort, tokens: [{ name: 't', token: TOKEN }] },
      ...extra,
    }),
  );
  return { configFile, mqttPort, httpPort, api: `http://127.0.0.1:${httpPort}` };
}

/** `esl-edge start --config {configFile}` from source; its output is drained so a full pipe never blocks it. */
export function spawnDaemon(configFile: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--config', configFile], {
    cwd: join(import.meta.dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  outputs.set(child, () => tail);
  return child;
}

/** The last 4 kB a spawned daemon wrote (stdout and stderr), for failure messages. */
const outputs = new WeakMap<ChildProcess, () => string>();
export function daemonOutput(child: ChildProcess): string {
  return outputs.get(child)?.() ?? '';
}

/**
 * Waits until the daemon answers /health. With `child`, fails at once if it exited. The limit is a safety net for a
 * start-up (tsx compiling from source) on a loaded machine, not a timing assertion.
 */
export async function waitHealthy(api: string, child?: ChildProcess): Promise<void> {
  await waitFor(
    'daemon healthy',
    async () => {
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new Error(`daemon exited (${child.exitCode ?? child.signalCode}) before it was healthy: ${daemonOutput(child)}`);
      }
      return (await fetch(`${api}/health`).catch(() => undefined))?.ok;
    },
    120_000,
    200,
  );
}
