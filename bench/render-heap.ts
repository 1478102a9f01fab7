/**
 * What a render worker's heap holds after many labels (D87): a LabelRenderer (what each worker owns) renders N
 * products of the render catalogue on the reference label mix, then a heap snapshot is written and summarised by
 * constructor. Run on the main thread so the snapshot is one file; the worker's code is the same.
 *
 *   node dist/bench/render-heap.js [--labels 5000] [--snapshot FILE]
 */
import { writeHeapSnapshot } from 'node:v8';
import { LabelRenderer } from '../src/domain/rendering/label-renderer.js';
import { labelTypeByName } from '#protocol';
import { products } from './render-catalogue.js';
import { REFERENCE_MIX } from './full-store-store.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const N = Number(arg('labels', '5000'));
const mix = Object.entries(REFERENCE_MIX).flatMap(([name, share]) => Array.from({ length: share }, () => labelTypeByName(name)!));
const renderer = await LabelRenderer.create();
const before = process.memoryUsage();
for (const [i, c] of products(N, 1).entries()) await renderer.render(c, mix[i % mix.length]!);
const after = process.memoryUsage();
const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
process.stdout.write(`${JSON.stringify({ bench: 'render-heap', labels: N, heap_used_before_mb: mb(before.heapUsed), heap_used_after_mb: mb(after.heapUsed), external_after_mb: mb(after.external) })}\n`);
const file = arg('snapshot', '');
if (file) writeHeapSnapshot(file);
