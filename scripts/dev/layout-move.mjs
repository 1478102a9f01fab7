#!/usr/bin/env node
/**
 * The layout move of issue 15 (docs/decisions.md D77–D79), as a script rather than a commit: folders that show the
 * programs (the edge in src/, the HQ push tool in hq/, the simulator, the demo composition in demo/) and what they
 * share (contracts/ beside firmware-protocol/), imports through the aliases `#protocol` and `#contracts`.
 *
 * Deterministic and idempotent: run it on any tree (other branches merged, new files, edited imports) and again on
 * its own result, which it leaves unchanged. It works by rule, not by a list of importers:
 *   1. `git mv` of the moved files (MOVES below; a folder rule moves whatever files the folder holds then);
 *   2. every relative import specifier in every source file is resolved from where its file was, mapped through the
 *      moves and written again from where its file is now; a target inside firmware-protocol/src (from outside that
 *      package) becomes `#protocol`, one inside contracts/src (from outside contracts/) becomes `#contracts`;
 *   3. every textual path of a moved file or folder in docs, scripts, configs and comments is rewritten
 *      (`dist/…` forms included), except in bench/results/ and package-lock.json;
 *   4. package.json "imports" and the tsconfig includes are set.
 *
 *   node scripts/dev/layout-move.mjs            # apply (then: see the report of issue 15 for the checks)
 *   node scripts/dev/layout-move.mjs --dry-run  # print what it would do
 */
import { execFileSync } from 'node:child_process';
import process from 'node:process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DRY = process.argv.includes('--dry-run');
const SELF = 'scripts/dev/layout-move.mjs';

/** Folder moves (every file below `from`) and file moves, by path from the repository root. */
const DIR_MOVES = [['src/hq', 'hq/src']];
const FILE_MOVES = [
  // The demo composes the edge and the simulator: its own folder, the only one that may import both (D77).
  ['src/cli/demo.ts', 'demo/src/demo.ts'],
  ['src/cli/demo-status.ts', 'demo/src/demo-status.ts'],
  ['src/cli/demo-cli.ts', 'demo/src/cli.ts'],
  ['simulator/src/edge-clock.ts', 'demo/src/edge-clock.ts'],
  ['simulator/src/in-process-edge.ts', 'demo/src/in-process-edge.ts'],
  // The shared contracts (D77).
  ['src/domain/events/event-schemas.ts', 'contracts/src/event-schemas.ts'],
  ['src/domain/events/rule-schemas.ts', 'contracts/src/rule-schemas.ts'],
  ['src/domain/gtin.ts', 'contracts/src/gtin.ts'],
  ['src/domain/rendering/label-content.ts', 'contracts/src/label-content.ts'],
  ['src/domain/audit/audit-report.ts', 'contracts/src/audit-report.ts'],
  ['src/domain/operations/request-schemas.ts', 'contracts/src/request-schemas.ts'],
  // The error catalogue: its codes travel in replies, dead letters and reports of every program (D75).
  ['src/core/errors.ts', 'contracts/src/errors.ts'],
  // No cycle between domain folders (D78): the AP inbound handler drives the dispatcher, the rule boundaries are the
  // planner's question.
  ['src/domain/aps/ap-inbound-handler.ts', 'src/domain/dispatch/ap-inbound-handler.ts'],
  ['src/domain/rules/rule-boundaries.ts', 'src/domain/labels/rule-boundaries.ts'],
];
const ALIASES = [
  { alias: '#protocol', pkg: 'firmware-protocol/', src: 'firmware-protocol/src/', target: './firmware-protocol/src/index.js' },
  { alias: '#contracts', pkg: 'contracts/', src: 'contracts/src/', target: './contracts/src/index.js' },
];
const TS_INCLUDES = ['contracts/src', 'hq/src', 'demo/src'];

const CODE = /\.(ts|mts|cts|tsx|mjs|js)$/;
const TEXT = /\.(ts|mts|cts|tsx|mjs|js|json|md|sh|service|ya?ml|txt|css|html)$|(^|\/)(run|Dockerfile)$/;
const SKIP_TEXT = (f) => f === SELF || f === 'package-lock.json' || f.startsWith('bench/results/') || f.startsWith('test/golden/');

const git = (...args) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
const log = (s) => process.stdout.write(`${s}\n`);

function trackedFiles() {
  return git('ls-files', '-co', '--exclude-standard', '-z')
    .split('\0')
    .filter((f) => f !== '' && existsSync(path.join(ROOT, f)));
}

// ---- 1. moves ----
const before = trackedFiles();
/** old path → new path, for every file moved now or by an earlier run (the latter to rewrite what still points back). */
const moved = new Map();
for (const [from, to] of DIR_MOVES) for (const f of before) if (f.startsWith(`${from}/`)) moved.set(f, `${to}/${f.slice(from.length + 1)}`);
for (const [from, to] of FILE_MOVES) moved.set(from, to);
const movingNow = [...moved].filter(([from]) => existsSync(path.join(ROOT, from)));
for (const [from, to] of movingNow) {
  if (existsSync(path.join(ROOT, to))) throw new Error(`both ${from} and ${to} exist: resolve by hand`);
  log(`move ${from} → ${to}`);
  if (DRY) continue;
  mkdirSync(path.dirname(path.join(ROOT, to)), { recursive: true });
  git('mv', from, to);
}
const newOf = (f) => moved.get(f) ?? f;
const oldOf = new Map(movingNow.map(([from, to]) => [to, from]));
/** Every file that existed before this run, by its old path (for resolving specifiers written against it). */
const oldFiles = new Set(before);

// ---- 2. import specifiers ----
const SPECIFIER = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\(\s*|\bvi\.mock\(\s*)(['"])(\.{1,2}\/[^'"\n]*)\2/g;

function targetKey(oldImporter, spec) {
  const joined = path.posix.normalize(path.posix.join(path.posix.dirname(oldImporter), spec));
  for (const cand of [joined, joined.replace(/\.js$/, '.ts'), joined.replace(/\.js$/, '.tsx'), joined.replace(/\.mjs$/, '.mts')]) {
    if (oldFiles.has(cand) || moved.has(cand)) return { key: cand, swapped: cand !== joined };
  }
  return { key: joined, swapped: false };
}

function rewriteSpecifier(newImporter, oldImporter, spec) {
  const { key, swapped } = targetKey(oldImporter, spec);
  const target = newOf(key);
  for (const a of ALIASES) if (target.startsWith(a.src) && !newImporter.startsWith(a.pkg)) return a.alias;
  if (target === key && newImporter === oldImporter) return spec; // nothing of this import moved
  let file = target;
  if (swapped) file = file.replace(/\.ts$/, '.js').replace(/\.tsx$/, '.js').replace(/\.mts$/, '.mjs');
  let rel = path.posix.relative(path.posix.dirname(newImporter), file);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  return rel;
}

const after = before.map(newOf);
let importEdits = 0;
for (const f of after) {
  if (!CODE.test(f) || f === SELF || f.startsWith('dist/')) continue;
  const abs = path.join(ROOT, f);
  if (!existsSync(abs) && !DRY) continue;
  const src = readFileSync(existsSync(abs) ? abs : path.join(ROOT, oldOf.get(f) ?? f), 'utf8');
  const oldImporter = oldOf.get(f) ?? f;
  const out = src.replace(SPECIFIER, (m, head, q, spec) => {
    const next = rewriteSpecifier(f, oldImporter, spec);
    if (next === spec) return m;
    importEdits++;
    return `${head}${q}${next}${q}`;
  });
  if (out !== src && !DRY) writeFileSync(abs, out);
}
log(`import specifiers rewritten: ${importEdits}`);

// ---- 3. textual paths ----
// A path is only rewritten where a path starts: after a quote, a bracket, white space, `./`, `../` or `dist/`.
const LEAD = String.raw`(?<=^|[\s'"\x60(\[<,=:]|\.\.\/|\.\/|dist\/)`;
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const textRules = [];
for (const [from, to] of DIR_MOVES) {
  textRules.push([new RegExp(`${LEAD}${esc(from)}(?=/|[\\s'"\\x60),.:;]|$)`, 'gm'), to]);
}
for (const [from, to] of FILE_MOVES) {
  const stem = (p) => p.replace(/\.ts$/, '');
  textRules.push([new RegExp(`${LEAD}${esc(stem(from))}(?=\\.(ts|js)\\b)`, 'gm'), stem(to)]);
}
let textEdits = 0;
for (const f of after) {
  if (!TEXT.test(f) || SKIP_TEXT(f) || f.startsWith('dist/')) continue;
  const abs = path.join(ROOT, f);
  if (!existsSync(abs)) continue;
  const src = readFileSync(abs, 'utf8');
  let out = src;
  for (const [re, to] of textRules) out = out.replace(re, () => (textEdits++, to));
  if (out !== src && !DRY) writeFileSync(abs, out);
}
log(`textual paths rewritten: ${textEdits}`);

// ---- 4. configs ----
function editJson(file, edit) {
  const abs = path.join(ROOT, file);
  const src = readFileSync(abs, 'utf8');
  const out = edit(src);
  if (out !== src) {
    log(`config ${file}`);
    if (!DRY) writeFileSync(abs, out);
  }
}
editJson('package.json', (src) => {
  const pkg = JSON.parse(src);
  const imports = Object.fromEntries(ALIASES.map((a) => [a.alias, a.target]));
  if (JSON.stringify(pkg.imports) === JSON.stringify(imports)) return src;
  const next = {};
  for (const [k, v] of Object.entries(pkg)) {
    if (k === 'imports') continue;
    next[k] = v;
    if (k === 'bin') next.imports = imports;
  }
  if (!('imports' in next)) next.imports = imports;
  return `${JSON.stringify(next, null, 2)}\n`;
});
for (const file of ['tsconfig.json', 'tsconfig.build.json']) {
  editJson(file, (src) =>
    src.replace(/("include":\s*\[)([^\]]*)(\])/, (m, open, list, close) => {
      const items = [...list.matchAll(/"([^"]+)"/g)].map((x) => x[1]);
      const at = items.indexOf('firmware-protocol/src') + 1 || items.length;
      const missing = TS_INCLUDES.filter((i) => !items.includes(i));
      if (missing.length === 0) return m;
      items.splice(at, 0, ...missing);
      return `${open}${items.map((i) => `"${i}"`).join(', ')}${close}`;
    }),
  );
}
log(DRY ? 'dry run: nothing written' : 'done');
