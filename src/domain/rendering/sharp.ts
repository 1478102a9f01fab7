/**
 * The one place the project imports sharp. `./font-env.js` is imported first for its side effect: ESM evaluates a
 * module's imports in order, so fontconfig's environment is set before libvips loads (see font-env.ts). Every
 * module that needs sharp imports it from here.
 */
import './font-env.js';
import sharp from 'sharp';

// libvips' operation cache (sharp's default: up to 50 MB and 100 operations, process-wide) pays off only when the
// same image is processed again; every call here is a new glyph atlas SVG or a new PNG, so it would only hold
// memory the edge never gets back (D40). One libvips thread per call: the edge's calls are small and the render
// pool, not libvips, spreads work over the cores.
sharp.cache(false);
sharp.concurrency(1);

export default sharp;
export { sharp };
