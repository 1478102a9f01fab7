/**
 * Source-mode entry of a render worker (vitest, `node --import tsx`): registers tsx's loader in this worker thread,
 * then loads render-worker.ts. Hooks registered by `--import tsx` in the parent do not apply to a worker's own module
 * loading in Node 20 (starting render-worker.ts directly fails with "Unknown file extension .ts"), and vitest
 * transforms only its own module graph. A compiled build starts dist/…/render-worker.js and never loads this file
 * (docs/decisions.md D30).
 */
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
