/**
 * The daemon renders through the worker pool by default (rendering.workers "auto", D30–D31), on the main thread
 * with 0, and its stop terminates the workers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import { LabelRenderer } from '../../src/domain/rendering/label-renderer.js';
import { RenderPool } from '../../src/domain/rendering/render-pool.js';
import { TOKEN, startTestDaemon, tempDir } from '../support/edge-fixture.js';

let daemon: Daemon | undefined;
const dirs: { remove: () => void }[] = [];
function dataDir(): string {
  const d = tempDir('pool-daemon-');
  dirs.push(d);
  return d.dir;
}
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  for (const d of dirs.splice(0)) d.remove();
});

describe('daemon render pool wiring', { timeout: 120_000 }, () => {
  it('starts a pool by default, previews through it, and terminates its workers on stop', async () => {
    daemon = await startTestDaemon(dataDir());
    const pool = daemon.renderer;
    expect(pool).toBeInstanceOf(RenderPool);
    await (pool as RenderPool).ready();
    expect((pool as RenderPool).stats()).toMatchObject({ workers: (pool as RenderPool).size, ready: (pool as RenderPool).size });
    const res = await daemon.http.inject({ method: 'GET', url: '/api/v1/templates/price-standard/preview.png?labelType=epd-29-bwr', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-hash']).toMatch(/^[0-9a-f]+$/);
    await daemon.stop();
    daemon = undefined;
    expect((pool as RenderPool).stats().workers).toBe(0);
  });

  it('runs the workers at their priority: the same as the event loop by default, rendering.workerNice steps below on request (D150)', async () => {
    daemon = await startTestDaemon(dataDir());
    let pool = daemon.renderer as RenderPool;
    await pool.ready();
    expect(pool.priorities()).toHaveLength(pool.threadIds().length);
    for (const { priority } of pool.priorities()) expect(priority).toMatchObject({ ok: true, nice: priority.ok ? priority.from : NaN });
    await daemon.stop();
    daemon = await startTestDaemon(dataDir(), { rendering: { workerNice: 3 } });
    pool = daemon.renderer as RenderPool;
    await pool.ready();
    expect(pool.priorities().length).toBeGreaterThan(0);
    for (const { priority } of pool.priorities()) expect(priority).toMatchObject({ ok: true, nice: priority.ok ? Math.min(19, priority.from + 3) : NaN });
  });

  it('renders on the main thread with rendering.workers 0', async () => {
    daemon = await startTestDaemon(dataDir(), { rendering: { workers: 0 } });
    expect(daemon.renderer).toBeInstanceOf(LabelRenderer);
  });
});
