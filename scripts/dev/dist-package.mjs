#!/usr/bin/env node
/**
 * Writes dist/package.json after `tsc`: the compiled tree needs the same import aliases as the sources (`#protocol`,
 * `#contracts`, package.json "imports"), resolved inside dist/. Node takes "imports" from the nearest package.json,
 * so a file under dist/ maps `#protocol` to dist/firmware-protocol/src/index.js, while tsx and vitest, running the
 * sources, map it to firmware-protocol/src/index.ts through the root package.json (docs/decisions.md D79).
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const dist = path.join(root, 'dist');
mkdirSync(dist, { recursive: true });
const out = { name: `${pkg.name}-dist`, version: pkg.version, private: true, type: pkg.type, imports: pkg.imports ?? {} };
writeFileSync(path.join(dist, 'package.json'), `${JSON.stringify(out, null, 2)}\n`);
