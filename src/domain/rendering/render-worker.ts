/**
 * Entry of a render worker thread (render-pool.ts starts it; docs/decisions.md D30). It owns a LabelRenderer of its
 * own (templates, parsed fonts, glyph raster cache) and answers batches of render jobs in order, one reply per batch,
 * the planes moved to the main thread without copying (their ArrayBuffers are in the transfer list).
 *
 * D148 It also encodes deltas (protocol §6.6.1, `chooseEncoding`) for the dispatcher's delta preparer: pure CPU work
 * that held the edge's event loop longest in a repricing (D147). A batch names each distinct picture once.
 *
 * fontconfig's environment is set by the process before any worker starts (render-pool.ts imports font-env.js):
 * a worker's `process.env` is a private copy, so an assignment made here would not reach libvips. Glyphs are
 * rasterised from outlines (glyph-raster-cache.ts), so the bytes do not depend on the thread they are made in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';
import { LabelTypeSchema, chooseEncoding, labelTypeById, type EncodedImage } from '#protocol';
import { lowerThreadPriority, type ThreadPriority } from '../../core/thread-priority.js';
import { LabelRenderer } from './label-renderer.js';

/** `nice`: steps below the starting thread's priority (D150; 0 leaves it). */
const WorkerDataSchema = z.object({ templateDirs: z.array(z.string()).optional(), nice: z.number().int().min(0).max(19).optional() });

/** A batch from the pool. Content is checked by the renderer itself (LabelContentSchema, CONTENT_INVALID). */
const RenderBatchSchema = z.object({
  type: z.literal('render'),
  jobs: z.array(
    z.object({
      id: z.number().int(),
      content: z.unknown(),
      labelType: LabelTypeSchema,
      opts: z.object({ page: z.number().int().optional(), template: z.string().optional() }).optional(),
    }),
  ),
});

/** D148 A batch of deltas to encode: `target` and `base` index `pictures`. */
const EncodeBatchSchema = z.object({
  type: z.literal('encode'),
  pictures: z.array(z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'a Uint8Array')),
  jobs: z.array(
    z.object({
      id: z.number().int(),
      target: z.number().int().min(0),
      base: z.number().int().min(0),
      labelType: z.number().int(),
      ap: z.number().int(),
      decoders: z.number().int().nullable(),
      targetHash: z.string(),
      baseHash: z.string(),
    }),
  ),
});
export type EncodeBatch = z.infer<typeof EncodeBatchSchema>;

export type EncodeResult = { id: number; ok: true; encoded: EncodedImage } | { id: number; ok: false; name: string; code: string | undefined; message: string };

export type WorkerResult =
  | { id: number; ok: true; planes: Uint8Array; hash: string; labelTypeId: number; page: number; template: string; warnings: string[] }
  | { id: number; ok: false; name: string; code: string | undefined; message: string };

export type WorkerMessage =
  | { type: 'ready'; templates: string[]; priority: ThreadPriority }
  | { type: 'failed'; name: string; code: string | undefined; message: string }
  | { type: 'results'; results: WorkerResult[] }
  | { type: 'encoded'; results: EncodeResult[] }
  | { type: 'stats'; stats: WorkerStats };

/** One worker's memory (its own isolate's heap) and glyph cache, for benchmarks and monitoring. */
export interface WorkerStats {
  heapUsedMB: number;
  heapTotalMB: number;
  externalMB: number;
  glyphsCached: number;
  glyphsRasterised: number;
}

/** §6.6.1 Each job's payload, as the dispatcher's chooseEncoding would make it on the main thread. */
function encodeBatch(batch: EncodeBatch): EncodeResult[] {
  return batch.jobs.map((job) => {
    try {
      const type = labelTypeById(job.labelType);
      const target = batch.pictures[job.target];
      const base = batch.pictures[job.base];
      if (!type || !target || !base) throw new RangeError(`encode job ${job.id}: unknown label type ${job.labelType} or picture index`);
      return { id: job.id, ok: true, encoded: chooseEncoding({ ap: job.ap, label: job.decoders }, type, target, base, { target: job.targetHash, base: job.baseHash }) };
    } catch (err) {
      return { id: job.id, ok: false, ...describe(err) };
    }
  });
}

function describe(err: unknown): { name: string; code: string | undefined; message: string } {
  const e = err instanceof Error ? err : new Error(String(err));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, code: typeof code === 'string' ? code : undefined, message: e.message };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('render-worker.ts runs only as a worker thread');
  let renderer: LabelRenderer;
  let priority: ThreadPriority;
  try {
    const data = WorkerDataSchema.parse(workerData);
    // D150 Before anything else runs here: this thread's work is throughput, the main thread's is latency.
    priority = lowerThreadPriority(data.nice ?? 0);
    renderer = await LabelRenderer.create(data.templateDirs ? { templateDirs: data.templateDirs } : {});
  } catch (err) {
    port.postMessage({ type: 'failed', ...describe(err) } satisfies WorkerMessage);
    return;
  }
  // Batches are handled one after the other: rendering is CPU work, interleaving batches would only add latency.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (raw: unknown) => {
    chain = chain.then(async () => {
      if ((raw as { type?: unknown }).type === 'stats') {
        const m = process.memoryUsage();
        const g = renderer.stats();
        const mb = (b: number) => Math.round((b / 1048576) * 10) / 10;
        const stats: WorkerStats = { heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), glyphsCached: g.glyphsCached, glyphsRasterised: g.glyphsRasterised };
        port.postMessage({ type: 'stats', stats } satisfies WorkerMessage);
        return;
      }
      if ((raw as { type?: unknown }).type === 'encode') {
        // The payloads (~150 B each) are copied back, not transferred: a RAW payload may be a view of a shared picture.
        port.postMessage({ type: 'encoded', results: encodeBatch(EncodeBatchSchema.parse(raw)) } satisfies WorkerMessage);
        return;
      }
      const batch = RenderBatchSchema.parse(raw);
      const results: WorkerResult[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const job of batch.jobs) {
        try {
          // The content goes to the renderer unparsed: layout() validates it and throws CONTENT_INVALID.
          const r = await renderer.render(job.content as Parameters<LabelRenderer['render']>[0], job.labelType, job.opts ?? {});
          results.push({ id: job.id, ok: true, planes: r.planes, hash: r.hash, labelTypeId: r.labelTypeId, page: r.page, template: r.template, warnings: r.warnings });
          transfer.push(r.planes.buffer as ArrayBuffer);
        } catch (err) {
          results.push({ id: job.id, ok: false, ...describe(err) });
        }
      }
      port.postMessage({ type: 'results', results } satisfies WorkerMessage, transfer);
    });
  });
  port.postMessage({ type: 'ready', templates: renderer.templateNames(), priority } satisfies WorkerMessage);
}

await main();
