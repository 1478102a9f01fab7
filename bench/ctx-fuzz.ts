/**
 * `npm run fuzz:codec`: the CTX decoder fuzz of README.md §6.6.7 with its full count (default 1,000,000 inputs;
 * `--inputs N`, `--seed S`). The test suite runs the same fuzz (firmware-protocol/src/ctx-fuzz.ts) with a few
 * thousand inputs. Prints one JSON line; exit code 1 when anything but a ProtocolError escaped.
 *
 *   npm run build && node dist/bench/ctx-fuzz.js
 */
import { parseArgs } from 'node:util';
import { fuzzCtxDecoder, LABEL_TYPES, PALETTE_PLANES } from '#protocol';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '20261130' } } });
const inputs = Number(values.inputs);
const seed = Number(values.seed);
const types = LABEL_TYPES.filter((t) => t.name === 'epd-154-bw' || t.name === 'epd-29-bwr');
// Small panels (one to three planes) reach the same code paths thousands of times faster; two real types bound
// the time per input on real sizes.
const geometries = [
  { rowBytes: 8, height: 32, planes: 1 },
  { rowBytes: 4, height: 16, planes: 3 },
  { rowBytes: 2, height: 5, planes: 2 },
  ...types.map((t) => ({ rowBytes: Math.ceil(t.width / 8), height: t.height, planes: PALETTE_PLANES[t.palette].length })),
];
const rssBefore = process.memoryUsage().rss;
const r = fuzzCtxDecoder(inputs, seed, geometries);
process.stdout.write(
  `${JSON.stringify({
    bench: 'ctx-fuzz',
    seed,
    geometries: geometries.map((g) => `${g.rowBytes * 8}x${g.height}x${g.planes}`),
    ...r,
    maxInputMs: +r.maxInputMs.toFixed(2),
    totalS: +(r.totalMs / 1000).toFixed(1),
    rss_growth_mb: +((process.memoryUsage().rss - rssBefore) / 1e6).toFixed(1),
  })}\n`,
);
if (r.escapes > 0) process.exitCode = 1;
