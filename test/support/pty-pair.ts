/**
 * A real pseudo-terminal pair for serial-line tests (protocol §12): `socat` joins two ptys and exposes them as
 * symlinks `<dir>/edge` and `<dir>/ap`, so one test opens the edge's end with SerialFrameLink and the other end
 * with `serialport` as a fake AP — the same kernel tty layer a USB AP goes through.
 *
 * Killing socat is how a test unplugs the AP: both ptys vanish, the edge's read fails and its port closes.
 * (Closing only the AP's port is not enough: a pty, like a plain 3-wire UART, has no carrier to lose.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PtyPair {
  /** Directory holding the links; pass it to openPtyPair again to "plug the AP back in" at the same paths. */
  readonly dir: string;
  readonly edgePath: string;
  readonly apPath: string;
  /** socat's process id (the only process this helper ever signals). */
  readonly pid: number;
  /** Kills socat (the AP is unplugged) and waits until it has exited; the links disappear with it. */
  unplug(): Promise<void>;
  /** unplug(), then removes the directory if this pair created it. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Reuse a directory (e.g. to reconnect at the same paths); default: a new temp directory, removed on close. */
  dir?: string;
  /** How long to wait for socat to come up (default 5 s). */
  startTimeoutMs?: number;
}

const READY = /starting data transfer loop/;

export async function openPtyPair(opts: PtyPairOptions = {}): Promise<PtyPair> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'esl-pty-'));
  const edgePath = join(dir, 'edge');
  const apPath = join(dir, 'ap');
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${edgePath}`, `pty,raw,echo=0,link=${apPath}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    // Only the start-up lines matter; keep the buffer small for long-running pairs.
    if (stderr.length < 4096) stderr += s;
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  try {
    await waitUntilReady(child, () => stderr, [edgePath, apPath], opts.startTimeoutMs ?? 5_000);
  } catch (err) {
    await killAndWait(child, exited);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const unplug = () => killAndWait(child, exited);
  return {
    dir,
    edgePath,
    apPath,
    pid: child.pid!,
    unplug,
    async close() {
      await unplug();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Both links exist and socat reports its transfer loop running (the links appear a moment before that). */
async function waitUntilReady(child: ChildProcess, stderr: () => string, links: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`socat exited (${child.exitCode ?? child.signalCode}) before the pty pair was ready: ${stderr().trim()}`);
    }
    if (links.every((l) => existsSync(l)) && READY.test(stderr())) return;
    if (Date.now() > deadline) throw new Error(`socat pty pair not ready after ${timeoutMs} ms: ${stderr().trim()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function killAndWait(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 2_000);
  await exited;
  clearTimeout(timer);
}
