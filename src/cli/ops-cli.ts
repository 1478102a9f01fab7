/**
 * Operator commands: `esl-edge secret hash` (a config hash of a password or token), `esl-edge backup <file>` and
 * `esl-edge restore <file>` (docs/install.md).
 *
 * A secret is read from stdin (a pipe) or a prompt with echo off, never from the command line: argv is visible to
 * every user of the machine (`ps`) and lands in shell history.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { hashSecret } from '../core/secret-hash.js';
import { loadConfig } from '../config/load-config.js';
import { DB_FILE_NAME, backupDatabase, restoreDatabase } from '../persistence/backup.js';

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export async function readSecret(): Promise<string> {
  if (!process.stdin.isTTY) {
    // A pipe: the whole input, without the trailing newline `echo` adds.
    return (await readAll(process.stdin)).replace(/\r?\n$/, '');
  }
  const first = await promptHidden('secret: ');
  const again = await promptHidden('again: ');
  if (first !== again) throw new Error('the two entries differ');
  return first;
}

export function registerOpsCommands(program: Command, fail: (err: unknown) => never): void {
  const secret = program.command('secret').description('secrets for the config file');
  secret
    .command('hash')
    .description('print the scrypt hash of a password or token for the config file; the secret is read from stdin or a prompt, never from argv')
    .option('--generate', 'generate a random 32-byte token, print it (for the client) and its hash (for the config)', false)
    .action(async (opts: { generate: boolean }) => {
      try {
        const value = opts.generate ? randomBytes(32).toString('base64url') : await readSecret();
        if (value.length < 8) throw new Error('a secret needs at least 8 characters (HTTP tokens: 16)');
        // A generated token carries 256 random bits: no guessing attack exists that a memory-hard cost would slow
        // down, so it gets the cheapest scrypt the format allows (~2 ms instead of ~100 ms per check, D27). A chosen
        // secret may be guessable and gets the full cost.
        const hash = await hashSecret(value, opts.generate ? { logN: 10 } : {});
        if (opts.generate) process.stdout.write(`token: ${value}\nhash:  ${hash}\n`);
        else process.stdout.write(`${hash}\n`);
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('backup <file>')
    .description("copy the store database to <file> while the daemon runs (sqlite online backup), then check the copy's integrity")
    .option('-c, --config <file>', 'config file (for dataDir)', process.env.ESL_EDGE_CONFIG)
    .action(async (file: string, opts: { config?: string }) => {
      try {
        const { config } = loadConfig(opts.config);
        const check = await backupDatabase(join(config.dataDir, DB_FILE_NAME), file);
        process.stdout.write(`backup written to ${file}: ${check.bytes} bytes, schema version ${check.schemaVersion}, integrity ok\n`);
      } catch (err) {
        fail(err);
      }
    });

  program
    .command('restore <file>')
    .description('replace the store database with a backup (the daemon must be stopped; the backup is checked first)')
    .option('-c, --config <file>', 'config file (for dataDir)', process.env.ESL_EDGE_CONFIG)
    .action(async (file: string, opts: { config?: string }) => {
      try {
        const { config } = loadConfig(opts.config);
        const r = await restoreDatabase(file, config.dataDir);
        process.stdout.write(`restored ${file} (schema version ${r.schemaVersion}, integrity ok)${r.previous ? `; the previous database is kept as ${r.previous}` : ''}\n`);
      } catch (err) {
        fail(err);
      }
    });
}
