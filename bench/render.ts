/**
 * Label rendering throughput, per label type: the LabelRenderer against a naive baseline measured in the same run
 * (one full sharp SVG → raw render per label, text as SVG <text> through pango/fontconfig, barcode as bwip-js SVG,
 * nothing cached), over N varied German products (10 % in a promotion, as in the reference store).
 *
 *   npm run build && node dist/bench/render.js [--labels 2000] [--naive 100] [--pages 0,1] [--seed 42]
 *
 * stdout: one JSON object per line (machine-readable); stderr: a summary table.
 */
import { contentHash, LABEL_TYPES, type LabelType } from '#protocol';
import bwipjs from 'bwip-js';
import { type LabelContent, retailBarcodeFor } from '#contracts';
import type { DrawOp } from '../src/domain/rendering/label-layout.js';
import { LabelRenderer } from '../src/domain/rendering/label-renderer.js';
import { PANEL_RGB } from '../src/domain/rendering/panel-colours.js';
import { packPlanes } from '../src/domain/rendering/planes.js';
import { quantiseRgba } from '../src/domain/rendering/quantise.js';
import sharp from '../src/domain/rendering/sharp.js';
import { products } from './render-catalogue.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const LABELS = Number(arg('labels', '2000'));
const NAIVE = Number(arg('naive', '100'));
const PAGES = arg('pages', '0,1').split(',').map(Number);
const SEED = Number(arg('seed', '42'));

/** Reference store label mix (shared/reference-store.md), for the 50,000-label estimate. */
const MIX: Record<string, number> = { 'epd-29-bwr': 0.6, 'epd-213-bwr': 0.2, 'epd-154-bw': 0.1, 'epd-42-bwry': 0.08, 'epd-75-bwr': 0.02 };

const FAMILY: Record<string, string> = {
  sans: 'font-family="DejaVu Sans"',
  'sans-bold': 'font-family="DejaVu Sans" font-weight="bold"',
  condensed: 'font-family="DejaVu Sans Condensed"',
  'condensed-bold': 'font-family="DejaVu Sans Condensed" font-weight="bold"',
};
const hex = (c: keyof typeof PANEL_RGB) => `#${PANEL_RGB[c].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The naive way: the same layout decisions, drawn as one SVG per label (text as <text>, the barcode as a fresh
 * bwip-js SVG), rasterised by sharp, quantised to the palette, packed, hashed. Nothing cached between labels.
 */
async function naiveRender(renderer: LabelRenderer, content: LabelContent, t: LabelType, page: number): Promise<string> {
  const layout = renderer.layout(content, t, { page });
  const parts: string[] = [`<rect width="${t.width}" height="${t.height}" fill="#fff"/>`];
  for (const el of layout.elements) {
    for (const op of el.ops as DrawOp[]) {
      if (op.op === 'fill') parts.push(`<rect x="${op.rect.x}" y="${op.rect.y}" width="${op.rect.w}" height="${op.rect.h}" fill="${hex(op.colour)}"/>`);
      else if (op.op === 'glyphs') {
        for (const run of op.runs) parts.push(`<text x="${run.x}" y="${run.baseline}" ${FAMILY[op.font]} font-size="${op.size}" fill="${hex(op.colour)}" xml:space="preserve">${esc(run.text)}</text>`);
      } else if (el.type === 'ean13') {
        const code = retailBarcodeFor(content.gtin)!;
        const svg = bwipjs.toSVG({ bcid: code.symbology, text: code.digits, scale: op.moduleW, height: 10, includetext: false });
        parts.push(`<svg x="${op.x}" y="${op.y}" width="${op.cols * op.moduleW}" height="${op.moduleH}" preserveAspectRatio="none" ${svg.slice(svg.indexOf('viewBox'))}`);
      } else {
        const svg = bwipjs.toSVG({ bcid: 'qrcode', text: el.text!, scale: op.moduleW });
        parts.push(`<svg x="${op.x}" y="${op.y}" width="${op.cols * op.moduleW}" height="${op.rows * op.moduleH}" ${svg.slice(svg.indexOf('viewBox'))}`);
      }
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${t.width}" height="${t.height}">${parts.join('')}</svg>`;
  const raw = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
  return contentHash(packPlanes(quantiseRgba(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), t.palette, 3), t));
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const catalogue = products(LABELS, SEED);
  const createStart = performance.now();
  const renderer = await LabelRenderer.create();
  const createMs = performance.now() - createStart;
  console.log(JSON.stringify({ bench: 'render', phase: 'create', ms: Math.round(createMs), note: 'templates loaded, fonts parsed' }));
  const rows: { type: string; page: number; mine: number; first: number; naive: number; ratio: number; cold: number; rss: number }[] = [];
  for (const t of LABEL_TYPES) {
    for (const page of PAGES) {
      if (page >= t.pages) continue;
      const fits = catalogue.filter((c) => page < renderer.pageCount(t, LabelRenderer.templateFor(c)));
      if (fits.length === 0) continue;
      // Cold: a fresh renderer's first labels, glyphs rasterised on the way.
      const cold = await LabelRenderer.create();
      const coldN = Math.min(100, fits.length);
      let s = performance.now();
      for (let i = 0; i < coldN; i++) await cold.render(fits[i]!, t, { page });
      const coldRate = coldN / ((performance.now() - s) / 1000);
      // First pass of the long-running renderer over these products (glyphs and QR codes not seen yet are made
      // here), then the steady state: the same products again, as a repricing re-renders labels it rendered before.
      s = performance.now();
      for (const c of fits) await renderer.render(c, t, { page });
      const firstRate = fits.length / ((performance.now() - s) / 1000);
      s = performance.now();
      for (const c of fits) await renderer.render({ ...c, priceCents: c.priceCents + 10 }, t, { page });
      const mineMs = performance.now() - s;
      const mine = fits.length / (mineMs / 1000);
      const naiveN = Math.min(NAIVE, fits.length);
      s = performance.now();
      for (let i = 0; i < naiveN; i++) await naiveRender(renderer, fits[i]!, t, page);
      const naiveMs = performance.now() - s;
      const naive = naiveN / (naiveMs / 1000);
      const row = { type: t.name, page, mine, first: firstRate, naive, ratio: mine / naive, cold: coldRate, rss: peakRssMb() };
      rows.push(row);
      console.log(
        JSON.stringify({
          bench: 'render',
          labelType: t.name,
          size: `${t.width}x${t.height}`,
          palette: t.palette,
          page,
          labels: fits.length,
          renderer: {
            labelsPerSec: Math.round(mine),
            msPerLabel: +(mineMs / fits.length).toFixed(3),
            firstPassLabelsPerSec: Math.round(firstRate),
            coldLabelsPerSec: Math.round(coldRate),
          },
          naive: { labels: naiveN, labelsPerSec: Math.round(naive), msPerLabel: +(naiveMs / naiveN).toFixed(3) },
          ratio: +(mine / naive).toFixed(1),
          peakRssMB: row.rss,
        }),
      );
    }
  }
  // 50,000 labels of the reference store's mix, price page: the work of a full repricing.
  const page0 = rows.filter((r) => r.page === 0);
  const storeSec = (rate: (r: (typeof rows)[number]) => number) => page0.reduce((s, r) => s + (50_000 * (MIX[r.type] ?? 0)) / rate(r), 0);
  const summary = {
    bench: 'render',
    summary: 'reference store, 50,000 labels, page 0, one core',
    rendererSeconds: +storeSec((r) => r.mine).toFixed(1),
    rendererFirstPassSeconds: +storeSec((r) => r.first).toFixed(1),
    naiveSeconds: +storeSec((r) => r.naive).toFixed(1),
    glyphCache: renderer.stats(),
    peakRssMB: peakRssMb(),
    wallSeconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
  console.log(JSON.stringify(summary));
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  const lines = [
    '',
    `${'label type'.padEnd(14)}${pad('page', 5)}${pad('steady/s', 10)}${pad('1st pass/s', 12)}${pad('cold/s', 8)}${pad('naive/s', 9)}${pad('ratio', 7)}${pad('RSS MB', 8)}`,
    ...rows.map(
      (r) =>
        `${r.type.padEnd(14)}${pad(r.page, 5)}${pad(Math.round(r.mine), 10)}${pad(Math.round(r.first), 12)}${pad(Math.round(r.cold), 8)}${pad(Math.round(r.naive), 9)}${pad(r.ratio.toFixed(1), 7)}${pad(r.rss, 8)}`,
    ),
    '',
    'steady: renderer that has seen the products before (new prices); 1st pass: first sight of each product;',
    'cold: a fresh renderer (empty caches); naive: one sharp SVG (<text>) → raw render per label, nothing cached.',
    '',
    `Reference store (50,000 labels, page 0, one core): renderer ${summary.rendererSeconds} s steady, ${summary.rendererFirstPassSeconds} s first pass; naive ${summary.naiveSeconds} s; peak RSS ${summary.peakRssMB} MB; run ${summary.wallSeconds} s`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

await main();
