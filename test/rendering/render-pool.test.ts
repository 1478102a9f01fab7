/**
 * The render worker pool (src/domain/rendering/render-pool.ts, docs/decisions.md D30): the same bytes and hash in a
 * worker as on the main thread, the same delta payloads (D148), no render or encoding lost when a worker dies mid-job, a coded error when a job keeps killing
 * its workers, and a clean close. The workers run the TypeScript sources here (the tsx bootstrap, D30); the compiled
 * path is run by bench/render-pool.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApCapability, LABEL_TYPES, LabelDecoder, chooseEncoding, labelTypeById } from '#protocol';
import { NICE_MAX, lowerThreadPriority } from '../../src/core/thread-priority.js';
import type { DeltaJob } from '../../src/domain/ports.js';
import { BUNDLED_TEMPLATE_DIR, LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import type { LabelContent } from '#contracts';
import { RenderPool, defaultRenderWorkers, startRenderPool } from '../../src/domain/rendering/render-pool.js';
import { PROMOTION, STANDARD } from '../../src/domain/rendering/sample-content.js';

const CONTENTS: LabelContent[] = [
  STANDARD,
  PROMOTION,
  { ...STANDARD, name: 'Original Thüringer Rostbratwurst grob, 10 Stück à 100 g', brand: 'Wolf', priceCents: 479 },
  { ...PROMOTION, name: 'Haferdrink Barista 1 l', brand: 'Oatly', priceCents: 199, unitPrice: { cents: 199, per: '1 l' } },
  { ...STANDARD, stock: { state: 'out_of_stock' } },
  // A short-dated markdown (PAngV §11(4) no. 2): the markdown template renders it with its reason.
  { ...PROMOTION, promotion: { ...PROMOTION.promotion!, exemptReason: 'wegen kurzer Haltbarkeit' } },
  // Names in the fallback faces (issue 12, D68): HarfBuzz and the Noto faces are loaded in each worker.
  { ...STANDARD, brand: 'الرحاب', name: 'حلاوة طحينية بالفستق 500 غ' },
  { ...PROMOTION, brand: '老干妈', name: '老干妈 风味豆豉 油制辣椒' },
];

let pools: RenderPool[] = [];
async function pool(opts: Partial<Parameters<typeof RenderPool.create>[0]> = {}): Promise<RenderPool> {
  const p = await RenderPool.create({ workers: 2, ...opts });
  pools.push(p);
  await p.ready();
  return p;
}
afterEach(async () => {
  await Promise.all(pools.map((p) => p.close()));
  pools = [];
});

// Generous: every test starts worker threads that load the TypeScript sources (seconds each on a busy machine).
describe('render pool', { timeout: 120_000 }, () => {
  it('renders the same bytes and hash as the main thread, for every template, label type and page', async () => {
    const main = await LabelRenderer.create();
    const p = await pool();
    expect(p.templateNames()).toEqual(main.templateNames());
    const jobs = [];
    for (const template of main.templateNames()) {
      for (const labelType of LABEL_TYPES) {
        for (let page = 0; page < main.pageCount(labelType, template); page++) {
          for (const content of CONTENTS) jobs.push({ content, labelType, opts: { template, page } });
        }
      }
    }
    expect(jobs.length).toBeGreaterThan(50);
    // Half one by one (render), half in one call (renderMany): both paths, both workers. A job the main thread
    // refuses (e.g. a promotion without an exemption reason on the markdown template, TEMPLATE_NOT_EXEMPT) must be
    // refused by the pool with the same code.
    const half = Math.floor(jobs.length / 2);
    const single = await Promise.allSettled(jobs.slice(0, half).map((j) => p.render(j.content, j.labelType, j.opts)));
    const many = await p.renderMany(jobs.slice(half));
    const pooled = [...single, ...many];
    let refused = 0;
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!;
      const what = `${j.opts.template} ${j.labelType.name} page ${j.opts.page}`;
      const want = await main.render(j.content, j.labelType, j.opts).then(
        (v) => ({ ok: true as const, v }),
        (e: unknown) => ({ ok: false as const, code: (e as { code?: string }).code }),
      );
      const got = pooled[i]!;
      if (!want.ok) {
        refused++;
        expect(got.status, what).toBe('rejected');
        expect(got.status === 'rejected' ? (got.reason as { code?: string }).code : undefined, what).toBe(want.code);
        continue;
      }
      expect(got.status, what).toBe('fulfilled');
      if (got.status !== 'fulfilled') continue;
      expect(got.value.hash, what).toBe(want.v.hash);
      expect(Buffer.from(got.value.planes).equals(Buffer.from(want.v.planes))).toBe(true);
      expect({ ...got.value, planes: null }).toEqual({ ...want.v, planes: null });
    }
    // Most jobs render; the refusals are the markdown template's, not a broken pool.
    expect(refused).toBeLessThan(jobs.length / 4);
    expect(p.stats().rendered).toBe(jobs.length - refused);
  });

  it('encodes deltas as chooseEncoding does on the main thread, for every label type and decoder set (D148)', async () => {
    const main = await LabelRenderer.create();
    let killed = false;
    const p = await pool({
      workers: 2,
      // The first batch's worker is killed as it gets it: an encoding is retried on a fresh worker like a render.
      onDispatch: (threadId, n) => {
        if (!killed && n > 1) {
          killed = true;
          void p.terminateWorker(threadId);
        }
      },
    });
    const all = ApCapability.DELTA_REGION | ApCapability.DELTA_XOR | ApCapability.RLE | ApCapability.ZLIB | ApCapability.CTX;
    const decoderSets = [LabelDecoder.RLE | LabelDecoder.ZLIB | LabelDecoder.CTX, null, LabelDecoder.RLE];
    const jobs: DeltaJob[] = [];
    for (const t of LABEL_TYPES) {
      const before = await main.render(STANDARD, t);
      for (const [i, content] of CONTENTS.slice(0, 4).entries()) {
        const after = await main.render({ ...content, priceCents: 100 + 37 * i }, t);
        // Labels of one batch share their base picture (the message names it once).
        // D149 The pictures' hashes travel with the job; `want` below hashes the planes itself.
        const pictures = { target: after.planes, base: before.planes, targetHash: after.hash, baseHash: before.hash };
        for (const decoders of decoderSets) jobs.push({ ...pictures, labelType: t.id, apCapabilities: all, decoders });
        jobs.push({ ...pictures, labelType: t.id, apCapabilities: ApCapability.RLE, decoders: decoderSets[0]! });
      }
    }
    const bad: DeltaJob = { ...jobs[0]!, labelType: 250, apCapabilities: all, decoders: null };
    const got = await p.encodeDeltas([...jobs, bad]);
    expect(got).toHaveLength(jobs.length + 1);
    for (const [i, j] of jobs.entries()) {
      const want = chooseEncoding({ ap: j.apCapabilities, label: j.decoders }, labelTypeById(j.labelType)!, j.target, j.base);
      const r = got[i]!;
      expect(r.status, `job ${i}`).toBe('fulfilled');
      if (r.status !== 'fulfilled') continue;
      expect(Buffer.from(r.value.payload).equals(Buffer.from(want.payload)), `job ${i}`).toBe(true);
      expect({ ...r.value, payload: null }).toEqual({ ...want, payload: null });
    }
    // A job the worker cannot encode fails alone, with the reason.
    expect(got[jobs.length]).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/label type 250/) } });
    expect(killed).toBe(true);
    expect(p.stats()).toMatchObject({ encoded: jobs.length, workerExits: 1 });
    expect(p.stats().retried).toBeGreaterThan(0);
  });

  it('passes render errors through with their code, as the main thread raises them', async () => {
    const p = await pool({ workers: 1 });
    const t = LABEL_TYPES[0]!;
    await expect(p.render({ ...STANDARD, gtin: 'not-a-gtin' }, t)).rejects.toMatchObject({ name: 'EslError', code: 'CONTENT_INVALID' });
    await expect(p.render(STANDARD, t, { template: 'no-such-template' })).rejects.toMatchObject({ name: 'EslError', code: 'TEMPLATE_NOT_FOUND' });
    await expect(p.render(STANDARD, t, { page: 99 })).rejects.toMatchObject({ code: 'PAGE_OUT_OF_RANGE' });
    // The worker lives on.
    expect((await p.render(STANDARD, t)).hash).toBe((await (await LabelRenderer.create()).render(STANDARD, t)).hash);
  });

  it('loses no render when a worker is killed mid-job: its jobs are rendered again by a fresh worker', async () => {
    let victim: number | undefined;
    let killed: Promise<void> | undefined;
    const p = await pool({
      workers: 2,
      onDispatch: (threadId) => {
        // Kill the first worker that receives a batch, right after the batch is posted: its jobs are in flight.
        if (victim === undefined) {
          victim = threadId;
          killed = p.terminateWorker(threadId);
        }
      },
    });
    const before = p.threadIds();
    const t = LABEL_TYPES.find((x) => x.name === 'epd-29-bwr')!;
    const contents = Array.from({ length: 40 }, (_, i) => ({ ...STANDARD, priceCents: 100 + i }));
    const results = await Promise.all(contents.map((c) => p.render(c, t)));
    await killed;
    const main = await LabelRenderer.create();
    for (let i = 0; i < contents.length; i++) expect(results[i]!.hash).toBe((await main.render(contents[i]!, t)).hash);
    const s = p.stats();
    expect(s.workerExits).toBe(1);
    expect(s.retried).toBeGreaterThan(0);
    expect(s.rendered).toBe(contents.length);
    // The dead worker was replaced: two workers again, one of them new.
    await waitUntil(() => p.stats().ready === 2);
    expect(p.threadIds()).not.toContain(victim);
    expect(p.threadIds().filter((id) => !before.includes(id))).toHaveLength(1);
  });

  it('fails a job with RENDER_WORKER_FAILED when every worker it is tried in dies, and goes on rendering others', async () => {
    let poisoned = true;
    const p = await pool({
      workers: 1,
      maxAttempts: 2,
      onDispatch: (threadId) => {
        if (poisoned) void p.terminateWorker(threadId);
      },
    });
    const t = LABEL_TYPES[0]!;
    await expect(p.render(STANDARD, t)).rejects.toMatchObject({ name: 'EslError', code: 'RENDER_WORKER_FAILED' });
    expect(p.stats()).toMatchObject({ workerExits: 2, retried: 1, failed: 1 });
    poisoned = false;
    expect((await p.render(STANDARD, t)).hash).toMatch(/^[0-9a-f]+$/);
  });

  it('fails queued jobs with RENDER_WORKER_FAILED when no worker can start, stops trying, and starts again on new work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pool-templates-'));
    const p = await pool({ workers: 1, templateDirs: [BUNDLED_TEMPLATE_DIR, dir] });
    const t = LABEL_TYPES[0]!;
    rmSync(dir, { recursive: true }); // from now on a worker cannot start (TEMPLATE_DIR_UNREADABLE)
    const job = p.render(STANDARD, t);
    await p.terminateWorker(p.threadIds()[0]!);
    await expect(job).rejects.toMatchObject({ code: 'RENDER_WORKER_FAILED' });
    const exits = p.stats().workerExits;
    expect(exits).toBe(4); // the killed worker and three failed starts
    await new Promise((r) => setTimeout(r, 300));
    expect(p.stats()).toMatchObject({ workers: 0, workerExits: exits }); // not spinning
    mkdirSync(dir);
    expect((await p.render(STANDARD, t)).hash).toMatch(/^[0-9a-f]+$/);
    expect(p.stats()).toMatchObject({ workers: 1, ready: 1 });
  });

  it('closes: every worker ends, queued jobs fail with SHUTTING_DOWN, later calls too', async () => {
    const p = await pool();
    const t = LABEL_TYPES[0]!;
    const pending = Promise.allSettled(Array.from({ length: 20 }, (_, i) => p.render({ ...STANDARD, priceCents: 200 + i }, t)));
    await p.close();
    const settled = await pending;
    expect(settled.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'SHUTTING_DOWN')).toBe(true);
    expect(p.stats().workers).toBe(0);
    await expect(p.render(STANDARD, t)).rejects.toMatchObject({ code: 'SHUTTING_DOWN' });
    await p.close(); // idempotent
  });

  it('takes its size from rendering.workers: "auto" is one per core but one (at most 2), 0 is no pool', async () => {
    expect(defaultRenderWorkers(1)).toBe(1);
    expect(defaultRenderWorkers(2)).toBe(1);
    expect(defaultRenderWorkers(3)).toBe(2);
    expect(defaultRenderWorkers(16)).toBe(2); // capped: memory (D31)
    expect(await startRenderPool(0, {})).toBeNull();
    const p = (await startRenderPool(1, {}))!;
    pools.push(p);
    await p.ready();
    expect(p.stats()).toMatchObject({ workers: 1, ready: 1 });
  });

  it('runs its workers `nice` steps below the thread that starts them, a fresh worker too; 0 leaves them (D150)', async () => {
    const main = niceOf(process.pid);
    const p = await pool({ workers: 2, nice: 5 });
    const expected = Math.min(NICE_MAX, main + 5);
    const check = () => {
      const ps = p.priorities();
      expect(ps).toHaveLength(2);
      for (const { priority } of ps) {
        expect(priority).toMatchObject({ ok: true, from: main, nice: expected });
        if (!priority.ok) continue;
        expect(priority.tid).not.toBe(process.pid);
        expect(niceOf(priority.tid)).toBe(expected); // what the kernel says, not what the worker reported
      }
      return ps.map((x) => (x.priority.ok ? x.priority.tid : 0));
    };
    const before = check();
    await p.terminateWorker(p.threadIds()[0]!);
    await p.render(STANDARD, labelTypeById(1)!); // a fresh worker starts for the work
    await waitUntil(() => p.priorities().length === 2);
    const after = check();
    expect(after.filter((tid) => !before.includes(tid))).toHaveLength(1);
    expect(niceOf(process.pid)).toBe(main); // the event loop's thread keeps its priority

    const same = await pool({ workers: 1 });
    expect(same.priorities()).toEqual([{ threadId: same.threadIds()[0], priority: expect.objectContaining({ ok: true, nice: main }) }]);
    expect(lowerThreadPriority(-1)).toMatchObject({ ok: false });
  });

  it('fails to start, like the main-thread renderer, when a template directory is broken', async () => {
    await expect(RenderPool.create({ workers: 1, templateDirs: ['/nonexistent/esl-edge-templates'] })).rejects.toThrow(/TEMPLATE_DIR_UNREADABLE/);
  });
});

/** A thread's nice value as the kernel reports it (proc(5): field 19 of /proc/<pid>/task/<tid>/stat). */
function niceOf(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

async function waitUntil(cond: () => boolean): Promise<void> {
  // Bounded by the test timeout, not a wall-clock deadline of its own.
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}
