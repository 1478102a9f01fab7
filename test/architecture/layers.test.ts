/**
 * Issue 15: the layer diagram is enforced by lint, and docs/architecture.md draws what the lint enforces.
 * - a forbidden import fails lint (the real eslint config, on code placed in the folders it would live in);
 * - the domain folders form no cycle, in the rule table and in the code;
 * - every folder docs/architecture.md names exists, and its layer table lists exactly the arrows of lint/layers.mjs.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { LAYERS, ROOT, importViolation, layerOf, resolveSpecifier } from '../../lint/layers.mjs';

const eslint = new ESLint({ cwd: ROOT });

/** A module re-exporting the given specifiers (built so that no script reads these strings as this file's imports). */
const probe = (...specs: string[]): string => specs.map((spec) => `export * from '${spec}';\n`).join('');

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'layers/imports').map((m) => m.message);
}

describe('the layer diagram is enforced by eslint', () => {
  it('fails lint on forbidden imports', async () => {
    // the domain imports a transport, the daemon or the simulator
    expect(await layerErrors('src/domain/labels/zz-probe.ts', probe('../../transport/ap-hub.js'))).toEqual([
      'src/domain/labels may not import src/transport (layer diagram: docs/architecture.md, lint/layers.mjs)',
    ]);
    expect(await layerErrors('src/domain/audit/zz-probe.ts', probe('../../daemon.js'))).toHaveLength(1);
    expect(await layerErrors('src/domain/audit/zz-probe.ts', probe('../../../simulator/src/rng.js'))).toHaveLength(1);
    // persistence imports the dispatcher
    expect(await layerErrors('src/persistence/zz-probe.ts', probe('../domain/dispatch/dispatcher.js'))).toHaveLength(1);
    // a cycle between domain folders: labels → dispatch while dispatch → labels
    expect(await layerErrors('src/domain/labels/zz-probe.ts', probe('../dispatch/wake-predictor.js'))).toHaveLength(1);
    // the simulator imports the edge, the edge imports the simulator
    expect(await layerErrors('simulator/src/zz-probe.ts', probe('../../src/daemon.js'))).toHaveLength(1);
    expect(await layerErrors('src/cli/zz-probe.ts', probe('../../simulator/src/store-simulator.js'))).toHaveLength(1);
    // the HQ tool imports the edge
    expect(await layerErrors('hq/src/zz-probe.ts', probe('../../src/daemon.js'))).toHaveLength(1);
    // the protocol package past its index, from anywhere outside it (tests included)
    expect(await layerErrors('test/zz-probe.test.ts', probe('../firmware-protocol/src/label-types.js'))).toEqual([
      "import firmware-protocol through its index: '#protocol'",
    ]);
    expect(await layerErrors('simulator/src/zz-probe.ts', probe('../../contracts/src/event-schemas.js'))).toHaveLength(1);
  });

  it('passes the allowed ones', async () => {
    expect(await layerErrors('src/domain/labels/zz-probe.ts', probe('#protocol', '#contracts', '../pricing/unit-price.js'))).toEqual([]);
    expect(await layerErrors('demo/src/zz-probe.ts', probe('../../src/daemon.js', '../../simulator/src/store-simulator.js'))).toEqual([]);
    expect(await layerErrors('firmware-protocol/test/zz-probe.test.ts', probe('../src/ctx-encoder.js'))).toEqual([]);
  });
});

/** Source files below a folder. */
function sources(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(path.join(ROOT, rel)).isDirectory() ? sources(rel) : /\.(ts|mjs)$/.test(name) ? [rel] : [];
  });
}

function cycle(edges: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 'done') return null;
    if (state.get(n) === 'open') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'open');
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      const c = visit(m);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of edges.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return null;
}

describe('no cycle between domain folders', () => {
  const isDomainFolder = (l: string | null): l is string => l !== null && l.startsWith('src/domain/');
  it('in the rule table', () => {
    const edges = new Map(Object.entries(LAYERS).filter(([l]) => isDomainFolder(l)).map(([l, may]) => [l, new Set(may.filter(isDomainFolder))]));
    expect(edges.size).toBeGreaterThan(8);
    expect(cycle(edges)).toBeNull();
  });

  it('in the code', () => {
    const edges = new Map<string, Set<string>>();
    let imports = 0;
    for (const file of sources('src/domain')) {
      const from = layerOf(file);
      for (const m of readFileSync(path.join(ROOT, file), 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const target = resolveSpecifier(file, m[1]!);
        const to = target === null ? null : layerOf(target);
        if (!isDomainFolder(from) || !isDomainFolder(to) || from === to) continue;
        imports++;
        edges.set(from, (edges.get(from) ?? new Set()).add(to));
        expect(importViolation(file, m[1]!), `${file}: ${m[1]}`).toBeNull();
      }
    }
    expect(imports).toBeGreaterThan(20);
    expect(cycle(edges)).toBeNull();
  });
});

describe('docs/architecture.md is drawn from the code', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');

  it('every folder and file it names exists', () => {
    const named = new Set([...doc.matchAll(/`((?:src|hq|demo|simulator|contracts|firmware-protocol|dashboard|test|bench|lint|scripts|docs|config|label-templates)(?:\/[\w.-]+)*\/?)`/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(20);
    for (const p of named) expect(existsSync(path.join(ROOT, p)), p).toBe(true);
  });

  it('its layer table lists exactly the arrows of the lint rule', () => {
    // | `layer` | may import |  — one row per layer, the allowed layers in backticks, comma-separated.
    // `src/domain/*` stands for every domain folder.
    const domainFolders = Object.keys(LAYERS).filter((l) => l.startsWith('src/domain/'));
    const cell = (c: string) => [...c.matchAll(/`([^`]+)`/g)].flatMap((x) => (x[1] === 'src/domain/*' ? domainFolders : [x[1]!])).sort();
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| ([^|]*) \|/gm)].filter((m) => !m[1]!.endsWith('/')).map((m) => [m[1]!, cell(m[2]!)] as const);
    const table = Object.fromEntries(rows);
    const expected = Object.fromEntries(Object.entries(LAYERS).map(([l, may]) => [l, [...may].sort()]));
    expect(table).toEqual(expected);
  });
});
