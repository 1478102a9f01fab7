/**
 * The layer diagram of docs/architecture.md as data, and the eslint rule that enforces it (D78). One table: the
 * lint config reads it, and test/architecture/layers.test.ts checks that docs/architecture.md draws the same arrows,
 * that every folder exists and that the domain folders form no cycle.
 *
 * A layer is a folder (every file below it) or one file, by path from the repository root; a file belongs to the
 * longest layer path that contains it. An import from layer A into layer B (B ≠ A) is allowed only when B is in A's
 * `may` list. Files in no layer (test/, bench/, scripts, configs) are not restricted, except that outside code reaches
 * the protocol package and the contracts package only through their index (`#protocol`, `#contracts`).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The packages reachable only through their index: alias → [package folder, index file]. */
export const PACKAGES = {
  '#protocol': { dir: 'firmware-protocol/', src: 'firmware-protocol/src/', index: 'firmware-protocol/src/index.ts' },
  '#contracts': { dir: 'contracts/', src: 'contracts/src/', index: 'contracts/src/index.ts' },
};

const PROTOCOL = 'firmware-protocol/src';
const CONTRACTS = 'contracts/src';
const SHARED = [PROTOCOL, CONTRACTS];
const BELOW_DOMAIN = [...SHARED, 'src/core', 'src/config', 'src/persistence', 'src/domain'];
/** Domain folders and the domain folders each may import: a DAG (the test checks it has no cycle). */
const DOMAIN = {
  aps: [],
  pricing: [],
  outbox: [],
  labels: ['pricing'],
  rendering: ['pricing'],
  dispatch: ['aps', 'labels'],
  feeds: ['labels', 'outbox', 'pricing'],
  audit: ['labels', 'outbox'],
  rules: ['feeds', 'labels', 'outbox'],
  events: ['labels', 'outbox', 'rendering', 'rules'],
  storage: ['outbox'],
  // The store operations (audit, report, flash, pick, bind, send again) use the rest of the domain; nothing of the
  // domain uses them.
  operations: ['aps', 'audit', 'dispatch', 'events', 'feeds', 'labels', 'outbox', 'pricing', 'rendering', 'rules', 'storage'],
};
const ALL_DOMAIN = Object.keys(DOMAIN).map((d) => `src/domain/${d}`);
const EDGE = [...BELOW_DOMAIN, ...ALL_DOMAIN, 'src/transport', 'src/api', 'src/daemon.ts', 'src/cli'];

/** layer path → the layers it may import. */
export const LAYERS = {
  // Shared packages: they import nothing of ours (node built-ins and zod only).
  [PROTOCOL]: [],
  [CONTRACTS]: [],
  // The edge daemon (src/).
  'src/core': [CONTRACTS], // the error catalogue (contracts/src/errors.ts, D75)
  'src/config': [CONTRACTS, 'src/core'],
  'src/persistence': [...SHARED, 'src/core', 'src/config'],
  'src/domain': [...SHARED, 'src/core'], // the ports (ports.ts): what the domain asks of transports
  ...Object.fromEntries(Object.entries(DOMAIN).map(([d, may]) => [`src/domain/${d}`, [...BELOW_DOMAIN, ...may.map((m) => `src/domain/${m}`)]])),
  'src/transport': [...BELOW_DOMAIN, ...ALL_DOMAIN],
  'src/api': [...BELOW_DOMAIN, ...ALL_DOMAIN, 'src/transport'],
  'src/daemon.ts': [...BELOW_DOMAIN, ...ALL_DOMAIN, 'src/transport', 'src/api'],
  'src/cli': [...BELOW_DOMAIN, ...ALL_DOMAIN, 'src/daemon.ts', 'hq/src'], // `esl-edge hq …` are the HQ tool's commands
  // The HQ push tool.
  'hq/src': [CONTRACTS],
  // The store simulator.
  'simulator/src': SHARED,
  // The demo: the one place that composes the edge and the simulator.
  'demo/src': [...EDGE, 'simulator/src'],
  // The dashboard's browser code (bundled by esbuild): talks to the edge over HTTP only.
  'dashboard/src': [],
};

export function layerOf(file) {
  let best = null;
  for (const id of Object.keys(LAYERS)) {
    if ((file === id || file.startsWith(`${id}/`)) && (best === null || id.length > best.length)) best = id;
  }
  return best;
}

/** The repository path an import specifier names, or null for a package from node_modules / node:. */
export function resolveSpecifier(fromFile, spec) {
  if (spec in PACKAGES) return PACKAGES[spec].index;
  if (!spec.startsWith('./') && !spec.startsWith('../')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), spec)).replace(/\.js$/, '.ts');
}

/** Why an import is not allowed, or null. */
export function importViolation(fromFile, spec) {
  const target = resolveSpecifier(fromFile, spec);
  if (target === null) return null;
  for (const [alias, p] of Object.entries(PACKAGES)) {
    if (target.startsWith(p.src) && !fromFile.startsWith(p.dir) && spec !== alias) return `import ${p.dir.slice(0, -1)} through its index: '${alias}'`;
  }
  const from = layerOf(fromFile);
  const to = layerOf(target);
  if (from === null || to === null || from === to) return null;
  if (LAYERS[from].includes(to)) return null;
  return `${from} may not import ${to} (layer diagram: docs/architecture.md, lint/layers.mjs)`;
}

const layersRule = {
  meta: { type: 'problem', docs: { description: 'which folder may import which (docs/architecture.md)' }, schema: [] },
  create(context) {
    const file = path.relative(ROOT, context.filename).split(path.sep).join('/');
    const check = (node) => {
      const src = node.source;
      if (!src || src.type !== 'Literal' || typeof src.value !== 'string') return;
      const why = importViolation(file, src.value);
      if (why !== null) context.report({ node: src, message: why });
    };
    return { ImportDeclaration: check, ExportAllDeclaration: check, ExportNamedDeclaration: check, ImportExpression: check };
  },
};

export const layersPlugin = { meta: { name: 'esl-layers' }, rules: { imports: layersRule } };
