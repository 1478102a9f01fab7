/**
 * `esl-edge hq validate` and `esl-edge hq push` (docs/hq-push.md). The commands are plain async functions that
 * take their I/O as a parameter and return the exit code, so tests can run them as a library; commander only
 * parses the arguments.
 *
 * Exit codes: 0 every store confirmed (or the file is valid / the dry run planned); 1 the file has errors, nothing
 * was sent; 2 bad options, unreadable files or no broker connection, nothing was sent; 3 sent, but not every
 * store confirmed (rejected, no answer, failed).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { RowError } from './hq-error-codes.js';
import { EslError, ErrorCode, isEslError } from '#contracts';
import type { HqListKind } from './hq-records.js';
import { DEFAULT_TIME_ZONE, parseHqCsv, type ParsedHqList } from './price-list-csv.js';
import { DEFAULT_MAX_BATCH_BYTES, DEFAULT_MAX_EVENTS_PER_BATCH } from './push-plan.js';
import { DEFAULT_PUSH_TIMEOUT_MS, DEFAULT_SOURCE, pushToStores, type StoreResult } from './push.js';
import { parseStoresList } from './stores-list.js';

export interface CliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Record<string, string | undefined>;
  readFile: (path: string) => Promise<Uint8Array>;
  now: () => number;
}

export function processIo(): CliIo {
  return {
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    readFile: (path) => readFile(path),
    now: () => Date.now(),
  };
}

export const EXIT = { OK: 0, INVALID_FILE: 1, USAGE: 2, NOT_CONFIRMED: 3 } as const;
const MAX_ERRORS_PRINTED = 1_000;

export interface ValidateCliOptions {
  kind?: string;
  timeZone?: string;
}

export interface PushCliOptions extends ValidateCliOptions {
  broker?: string;
  username?: string;
  password?: string;
  chain?: string;
  store?: string[];
  storesFile?: string;
  allStores?: boolean;
  dryRun?: boolean;
  timeout?: string;
  batchSize?: string;
  maxBatchBytes?: string;
  eventVersion?: string;
  pushId?: string;
  source?: string;
}

/** A wrong command line: printed without its code (the usage text says what is wrong). */
const usageError = (message: string) => new EslError(ErrorCode.HQ_USAGE, message);

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;

function printRowErrors(io: CliIo, errors: readonly RowError[], what: string): void {
  for (const e of errors.slice(0, MAX_ERRORS_PRINTED)) io.stderr(`row ${e.row}, ${e.column}: ${e.message} [${e.code}]`);
  if (errors.length > MAX_ERRORS_PRINTED) io.stderr(`… and ${errors.length - MAX_ERRORS_PRINTED} more`);
  io.stderr(`${what}: ${plural(errors.length, 'error')}; nothing was sent.`);
}

function kindOption(kind: string | undefined): HqListKind | undefined {
  if (kind === undefined) return undefined;
  if (kind === 'prices' || kind === 'promotions') return kind;
  throw usageError(`--kind must be "prices" or "promotions", not "${kind}"`);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw usageError(`${name} must be a positive whole number, not "${text}"`);
  return n;
}

async function readInput(io: CliIo, file: string): Promise<Uint8Array> {
  try {
    return await io.readFile(file);
  } catch (err) {
    throw usageError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function loadList(io: CliIo, file: string, opts: ValidateCliOptions): Promise<ParsedHqList | RowError[]> {
  const parsed = parseHqCsv(await readInput(io, file), { ...(opts.kind ? { kind: kindOption(opts.kind)! } : {}), timeZone: opts.timeZone ?? DEFAULT_TIME_ZONE });
  return parsed.ok ? parsed.list : parsed.errors;
}

function describeList(list: ParsedHqList): string {
  let what: string;
  if (list.kind === 'prices') {
    what = plural(list.records.length, 'price');
  } else {
    const ids = new Set<string>();
    const gtins = new Set<string>();
    for (const r of list.records) {
      if (r.type !== 'promotion') continue;
      ids.add(r.data.promotionId);
      for (const g of r.data.gtins) gtins.add(g);
    }
    what = `${plural(ids.size, 'promotion')} over ${plural(gtins.size, 'GTIN')}`;
  }
  return `${plural(list.dataRows, 'row')}, ${what}`;
}

async function guard(io: CliIo, run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (err) {
    if (isEslError(err, ErrorCode.HQ_USAGE)) io.stderr(`esl-edge hq: ${err.message}`);
    else if (isEslError(err)) io.stderr(`esl-edge hq: ${err.code}: ${err.message}`);
    else throw err;
    return EXIT.USAGE;
  }
}

export async function runHqValidate(file: string, opts: ValidateCliOptions, io: CliIo): Promise<number> {
  return guard(io, async () => {
    const list = await loadList(io, file, opts);
    if (Array.isArray(list)) {
      printRowErrors(io, list, basename(file));
      return EXIT.INVALID_FILE;
    }
    io.stdout(`${basename(file)}: valid ${list.kind} list — ${describeList(list)}`);
    io.stdout(`  columns separated by ${list.delimiter === '\t' ? 'tab' : `"${list.delimiter}"`}${list.ignoredColumns.length ? `; ignored columns: ${list.ignoredColumns.join(', ')}` : ''}`);
    if (list.stores.length) io.stdout(`  rows for single stores: ${list.stores.join(', ')}`);
    return EXIT.OK;
  });
}

async function targetStores(io: CliIo, opts: PushCliOptions): Promise<string[]> {
  const given = [opts.store?.length ? '--store' : null, opts.storesFile ? '--stores-file' : null, opts.allStores ? '--all-stores' : null].filter(Boolean);
  if (given.length !== 1) throw usageError(`name the stores with exactly one of --store, --stores-file or --all-stores${given.length ? ` (given: ${given.join(', ')})` : ''}`);
  if (opts.store?.length) {
    const list = parseStoresList(opts.store.join('\n'));
    if (!list.ok) throw usageError(`--store: ${list.errors[0]!.message}`);
    return list.stores;
  }
  const path = opts.storesFile ?? io.env.ESL_HQ_STORES_FILE ?? 'stores.txt';
  const list = parseStoresList(Buffer.from(await readInput(io, path)).toString('utf8'));
  if (!list.ok) {
    for (const e of list.errors) io.stderr(`${path}: line ${e.row}: ${e.message}`);
    throw usageError(`the stores list ${path} has errors; nothing was sent`);
  }
  return list.stores;
}

function storeLine(r: StoreResult): string {
  const batches = plural(r.batches.length, 'batch', 'batches');
  const took = r.elapsedMs !== undefined ? `, ${(r.elapsedMs / 1000).toFixed(1)} s` : '';
  switch (r.status) {
    case 'confirmed': {
      const counts = [`${r.applied} applied`, ...(r.stale ? [`${r.stale} stale (the store has newer versions)`] : []), ...(r.duplicates ? [`${plural(r.duplicates, 'batch', 'batches')} already applied before`] : [])];
      return `${r.store}: confirmed — ${counts.join(', ')} (${batches}${took})`;
    }
    case 'rejected':
      return `${r.store}: REJECTED — ${r.code ? `${r.code}: ` : ''}${r.reason ?? ''} (${r.answered} of ${batches} answered${took})`;
    case 'no-answer':
      return `${r.store}: NO ANSWER — ${r.reason ?? ''}`;
    case 'failed':
      return `${r.store}: FAILED — ${r.reason ?? ''}`;
    case 'nothing-to-send':
      return `${r.store}: nothing to send — no row of the list is for this store`;
    case 'dry-run':
      return `${r.store}: would send ${plural(r.events, 'event')} in ${batches} (${kb(r.bytes)}) → ${r.batches[0]?.topic ?? ''}`;
  }
}

export async function runHqPush(file: string, opts: PushCliOptions, io: CliIo): Promise<number> {
  return guard(io, async () => {
    // Everything that can be checked is checked before the file is even read: a push is all or nothing.
    const kind = kindOption(opts.kind);
    if (!opts.chain) throw usageError('--chain is required');
    const dryRun = opts.dryRun === true;
    const password = opts.password ?? io.env.ESL_HQ_PASSWORD;
    if (!dryRun) {
      if (!opts.broker) throw usageError('--broker is required (e.g. mqtts://hq-broker.example:8883)');
      if (!opts.username) throw usageError('--username is required');
      if (!password) throw usageError('no password: set ESL_HQ_PASSWORD (or --password, which other users of this machine can see)');
    }
    const timeoutMs = opts.timeout === undefined ? DEFAULT_PUSH_TIMEOUT_MS : Number(opts.timeout) * 1000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw usageError(`--timeout must be a number of seconds, not "${opts.timeout}"`);
    const maxEventsPerBatch = positiveInt('--batch-size', opts.batchSize, DEFAULT_MAX_EVENTS_PER_BATCH);
    const maxBatchBytes = positiveInt('--max-batch-bytes', opts.maxBatchBytes, DEFAULT_MAX_BATCH_BYTES);
    const version = opts.eventVersion === undefined ? undefined : Number(opts.eventVersion);
    if (version !== undefined && (!Number.isSafeInteger(version) || version < 0)) throw usageError(`--event-version must be a whole number, not "${opts.eventVersion}"`);
    const stores = await targetStores(io, opts);

    const list = await loadList(io, file, { ...opts, ...(kind ? { kind } : {}) });
    if (Array.isArray(list)) {
      printRowErrors(io, list, basename(file));
      return EXIT.INVALID_FILE;
    }
    const elsewhere = list.stores.filter((s) => !stores.includes(s));
    if (elsewhere.length) io.stderr(`note: rows for stores not in this push are left out: ${elsewhere.join(', ')}`);

    io.stdout(`${dryRun ? 'Dry run (nothing is sent): ' : ''}${basename(file)} — ${describeList(list)} → ${plural(stores.length, 'store')} of chain ${opts.chain}`);
    const report = await pushToStores({
      brokerUrl: opts.broker ?? '',
      username: opts.username ?? '{username}',
      password: password ?? '',
      chain: opts.chain,
      stores,
      events: list.records,
      source: opts.source ?? DEFAULT_SOURCE,
      dryRun,
      timeoutMs,
      maxEventsPerBatch,
      maxBatchBytes,
      ...(version !== undefined ? { version } : {}),
      ...(opts.pushId ? { pushId: opts.pushId } : {}),
      now: io.now,
      onProgress: (r) => io.stdout(storeLine(r)),
    });

    if (dryRun) {
      for (const r of report.stores) io.stdout(storeLine(r));
      const events = report.stores.reduce((a, r) => a + r.events, 0);
      const batches = report.stores.reduce((a, r) => a + r.batches.length, 0);
      io.stdout(`Total: ${plural(events, 'event')} in ${plural(batches, 'batch', 'batches')}; push id ${report.pushId}, version ${report.version}.`);
      return EXIT.OK;
    }
    const confirmed = report.stores.filter((r) => r.status === 'confirmed');
    const notConfirmed = report.stores.filter((r) => r.status !== 'confirmed' && r.status !== 'nothing-to-send');
    io.stdout(`Push ${report.pushId} (version ${report.version}), ${(report.elapsedMs / 1000).toFixed(1)} s: ${confirmed.length} of ${plural(report.stores.length, 'store')} confirmed.`);
    if (notConfirmed.length === 0) return EXIT.OK;
    io.stdout(`Not confirmed: ${notConfirmed.map((r) => `${r.store} (${r.status.replace(/-/g, ' ')})`).join(', ')}.`);
    io.stdout('Pushing the same file again is safe: a store answers "duplicate" for what it has already applied.');
    return EXIT.NOT_CONFIRMED;
  });
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Adds `hq validate` and `hq push` to the esl-edge command line. */
export function registerHqCommands(program: Command, io: CliIo = processIo()): void {
  const hq = program.command('hq').description('HQ tools: validate and push price and promotion lists to stores');
  hq.command('validate')
    .description('check a price or promotion CSV (every row) without sending anything')
    .argument('<file>', 'CSV file (UTF-8, ";" or "," separated)')
    .option('--kind <kind>', 'prices or promotions (default: from the header)')
    .option('--time-zone <zone>', 'zone of dates without an offset', DEFAULT_TIME_ZONE)
    .action(async (file: string, opts: ValidateCliOptions) => {
      process.exitCode = await runHqValidate(file, opts, io);
    });
  hq.command('push')
    .description('validate a price or promotion CSV and push it to stores; waits for every store to confirm')
    .argument('<file>', 'CSV file (UTF-8, ";" or "," separated)')
    .option('--broker <url>', 'MQTT broker, e.g. mqtts://hq-broker:8883 (the chain HQ broker or a store\'s edge)')
    .option('--username <user>', 'MQTT username')
    .option('--password <password>', 'MQTT password (prefer the ESL_HQ_PASSWORD environment variable)')
    .option('--chain <chain>', 'chain id')
    .option('--store <id>', 'a store to push to (repeat for more)', collect, [] as string[])
    .option('--stores-file <file>', 'file with one store id per line')
    .option('--all-stores', 'every store of the chain list ($ESL_HQ_STORES_FILE, default ./stores.txt)')
    .option('--kind <kind>', 'prices or promotions (default: from the header)')
    .option('--dry-run', 'validate and show what would be sent; send nothing')
    .option('--timeout <seconds>', 'how long to wait for the stores\' answers', String(DEFAULT_PUSH_TIMEOUT_MS / 1000))
    .option('--batch-size <n>', 'events per batch (one batch = one transaction at the store)', String(DEFAULT_MAX_EVENTS_PER_BATCH))
    .option('--max-batch-bytes <n>', 'bytes per batch, under the broker\'s packet limit', String(DEFAULT_MAX_BATCH_BYTES))
    .option('--event-version <n>', 'event version (default: the current time in ms)')
    .option('--push-id <id>', 'name the push yourself (default: from the file content; the same id again is a duplicate)')
    .option('--source <name>', 'source name in the events', DEFAULT_SOURCE)
    .option('--time-zone <zone>', 'zone of dates without an offset', DEFAULT_TIME_ZONE)
    .action(async (file: string, opts: PushCliOptions) => {
      process.exitCode = await runHqPush(file, opts, io);
    });
}
