/**
 * Builds the dashboard UI (dashboard/src) into one ES module and one stylesheet with esbuild: Preact and htm are
 * bundled in, so the edge serves everything itself (no CDN — a store may be offline). `npm run build` runs it after
 * tsc; the tests call buildDashboard() into a temp folder.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** dashboard/ in the source tree, also when this file runs compiled from dist/dashboard/. */
function sourceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'dashboard', 'src', 'main.ts'))) return join(dir, 'dashboard');
    const up = dirname(dir);
    if (up === dir) throw new Error('dashboard sources not found');
    dir = up;
  }
}

export async function buildDashboard(outDir: string): Promise<void> {
  const src = join(sourceDir(), 'src');
  await build({
    entryPoints: { app: join(src, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['es2020'],
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    outdir: outDir,
    logLevel: 'warning',
  });
  await build({ entryPoints: { app: join(src, 'styles.css') }, bundle: true, minify: true, outdir: outDir, logLevel: 'warning' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = dirname(sourceDir());
  const out = join(root, 'dist', 'dashboard-ui');
  await buildDashboard(out);
  console.log(`dashboard built into ${out}`);
}
