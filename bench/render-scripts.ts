/**
 * What the fallback faces cost (issue 12, D68–D70): memory of one process as it meets each script for the first
 * time, and render throughput of names in each script against German names in the same run.
 *
 *   npm run build && node dist/bench/render-scripts.js [--labels 300] [--seed 42]
 *
 * Phases, in one process (RSS and memoryUsage deltas are cumulative): harfbuzzjs alone (its WebAssembly instance),
 * the renderer with DejaVu (what every process had before), then German, Arabic, Hebrew and CJK names rendered on
 * every label type (each loads its Noto face on first use). stdout: one JSON object per line; stderr: a table.
 */
import { LABEL_TYPES } from '#protocol';
import { products } from './render-catalogue.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '300'));
const SEED = Number(arg('seed', '42'));

const MB = (n: number) => +(n / 1048576).toFixed(1);
function mem() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}
const rows: { phase: string; rssMB: number; heapUsedMB: number; externalMB: number; labelsPerS?: number }[] = [];
function record(phase: string, labelsPerS?: number): void {
  global.gc?.();
  const m = mem();
  const row = { phase, rssMB: MB(m.rss), heapUsedMB: MB(m.heapUsed), externalMB: MB(m.external), ...(labelsPerS !== undefined ? { labelsPerS: +labelsPerS.toFixed(1) } : {}) };
  rows.push(row);
  process.stdout.write(`${JSON.stringify({ bench: 'render-scripts', ...row })}\n`);
}

/** Names a German store sells in other scripts (brand, name); each product gets one, in turn. */
const NAMES: Record<string, [string, string][]> = {
  arabic: [
    ['الرحاب', 'حلاوة طحينية بالفستق 500 غ'],
    ['الكسيح', 'ماء الورد للطبخ'],
    ['دوماتي', 'جبنة بيضاء مالحة'],
    ['شتورة', 'دبس رمان طبيعي'],
  ],
  hebrew: [
    ['אסם', 'במבה חטיף בוטנים'],
    ['עלית', 'שוקולד פרה חלב'],
  ],
  cjk: [
    ['老干妈', '老干妈 风味豆豉 油制辣椒'],
    ['日清', 'カップヌードル しょうゆ味'],
    ['농심', '신라면 매운맛 120 g'],
    ['李锦记', '蚝油 510 g'],
  ],
};

async function main(): Promise<void> {
  record('start');
  await import('harfbuzzjs');
  record('harfbuzzjs loaded');
  const { LabelRenderer } = await import('../src/domain/rendering/label-renderer.js');
  const renderer = await LabelRenderer.create();
  record('renderer (DejaVu)');
  const base = products(LABELS, SEED);
  const run = async (phase: string, names?: [string, string][]) => {
    const t0 = performance.now();
    let n = 0;
    for (let i = 0; i < base.length; i++) {
      const pick = names?.[i % names.length];
      const content = pick ? { ...base[i]!, brand: pick[0], name: pick[1] } : base[i]!;
      for (const t of LABEL_TYPES) {
        await renderer.render(content, t);
        n++;
      }
    }
    record(phase, n / ((performance.now() - t0) / 1000));
  };
  await run('german names');
  await run('german names (again)');
  for (const [script, names] of Object.entries(NAMES)) await run(`${script} names`, names);
  await run('german names (after)');
  process.stderr.write(`\n${'phase'.padEnd(24)} ${'RSS MB'.padStart(7)} ${'heap MB'.padStart(8)} ${'ext MB'.padStart(7)} ${'labels/s'.padStart(9)}\n`);
  for (const r of rows) {
    process.stderr.write(`${r.phase.padEnd(24)} ${String(r.rssMB).padStart(7)} ${String(r.heapUsedMB).padStart(8)} ${String(r.externalMB).padStart(7)} ${String(r.labelsPerS ?? '').padStart(9)}\n`);
  }
}

await main();
