/**
 * Test helper: a real Mosquitto broker (the Debian package) standing in for a chain's HQ broker — on a free port of
 * 127.0.0.1 only, with a password file, no anonymous access, no persistence, optional ACL file. Its log goes to
 * stderr, which the helper keeps, so a test can wait for "client X subscribed to Y" instead of sleeping.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export interface MosquittoUser {
  username: string;
  password: string;
}

export interface Mosquitto {
  url: string;
  port: number;
  pid: number;
  /** Everything the broker logged so far. */
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Waits until `clientId` holds a subscription to exactly `filter` (from the broker's subscribe log). */
  waitForSubscription(clientId: string, filter: string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** verbose (or MOSQUITTO_VERBOSE=1): log every packet — what to look at when a message seems lost. */
export async function startMosquitto(opts: {
  dir: string;
  users: MosquittoUser[];
  acl?: string;
  verbose?: boolean;
  /** Listen on this port (to restart a broker where its clients expect it); default a free one. */
  port?: number;
  /** Keep sessions and queued QoS 1 messages across a restart (saved in `dir` on shutdown). */
  persistence?: boolean;
}): Promise<Mosquitto> {
  const passwordFile = join(opts.dir, 'passwd');
  opts.users.forEach((u, i) => {
    const args = i === 0 ? ['-b', '-c', passwordFile, u.username, u.password] : ['-b', passwordFile, u.username, u.password];
    const r = spawnSync('mosquitto_passwd', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr || r.error?.message}`);
  });
  const port = opts.port ?? (await freePort());
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${passwordFile}`,
    ...(opts.persistence ? ['persistence true', `persistence_location ${opts.dir}/`, 'autosave_interval 0'] : ['persistence false']),
    // Started as root (containers), Mosquitto would switch to the "mosquitto" user, who cannot read the temp dir.
    `user ${userInfo().username}`,
    'log_dest stderr',
    ...((opts.verbose ?? process.env.MOSQUITTO_VERBOSE === '1') ? ['all'] : ['error', 'warning', 'notice', 'information', 'subscribe']).map((t) => `log_type ${t}`),
  ];
  if (opts.acl !== undefined) {
    writeFileSync(join(opts.dir, 'acl'), opts.acl);
    lines.push(`acl_file ${join(opts.dir, 'acl')}`);
  }
  const conf = join(opts.dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);

  const child = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));

  const waitUntil = async (what: string, test: () => boolean | Promise<boolean>, timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    while (!(await test())) {
      if (exited(child)) throw new Error(`mosquitto exited while waiting for ${what}:\n${output}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; mosquitto log:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitUntil(`mosquitto on port ${port}`, () => accepts(port), 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }

  const broker: Mosquitto = {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    log: () => output,
    waitForLog: (pattern, timeoutMs = 10_000) => waitUntil(`${pattern} in the mosquitto log`, () => pattern.test(output), timeoutMs),
    waitForSubscription: (clientId, filter, timeoutMs = 10_000) =>
      waitUntil(`${clientId} to subscribe ${filter}`, () => output.split('\n').some((l) => l.endsWith(`: ${clientId} 1 ${filter}`) || l.endsWith(`: ${clientId} 0 ${filter}`)), timeoutMs),
    async stop() {
      if (exited(child)) return;
      const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await done;
      clearTimeout(timer);
    },
  };
  return broker;
}
