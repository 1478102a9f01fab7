/**
 * An independent reader for the legibility tests: Debian's tesseract with its German traineddata (installed by
 * `npm run setup`) reads every text line a layout draws, cut out of the rendered planes, and the character error
 * rate against the text the layout says it printed is counted per label type.
 *
 * Each line is cut along its ink (plus a margin), turned into black on white by the line's own colour (so red text
 * and white-on-plate text read the same), scaled so that tesseract sees ~34 px letters (its models are trained on
 * scans of that size; small text enlarged by a whole factor, the big price reduced) with a Lanczos filter (the slight smoothing a viewing eye applies to panel pixels; the same
 * reader measured the renderer before and after issue 12) and
 * handed to one tesseract process per batch (a list file: the German model is loaded once, not per line).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LabelType } from '#protocol';
import type { FontSet } from '../../src/domain/rendering/fonts.js';
import type { LabelLayout } from '../../src/domain/rendering/label-layout.js';
import { COLOUR_INDEX } from '../../src/domain/rendering/panel-colours.js';
import { unpackPlanes } from '../../src/domain/rendering/planes.js';
import sharp from '../../src/domain/rendering/sharp.js';
import { runAt } from '../../src/domain/rendering/text-shaper.js';

const run = promisify(execFile);

export interface TextLine {
  /** Element type (and id) the line belongs to, e.g. "unit-price". */
  element: string;
  /** What the layout printed on this line. */
  text: string;
  size: number;
  png: Buffer;
}

/** Reference text as a reader should see it: no-break spaces as spaces, one space between words. */
export function readable(s: string): string {
  return s
    .replace(/[\u00a0\u202f]/g, ' ')
    .replace(/…/g, '...')
    .replace(/[‘’‚]/g, "'")
    .replace(/[“”„]/g, '"')
    // A dash and a hyphen read the same to a shopper; tesseract's German model has no en dash (D73).
    .replace(/[–—]/g, '-')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Every glyph line of a rendered layout as a black-on-white PNG, except the EAN digits under the bars. */
export async function textLines(layout: LabelLayout, planes: Uint8Array, t: LabelType, fonts: FontSet): Promise<TextLine[]> {
  const px = unpackPlanes(planes, t);
  const out: TextLine[] = [];
  for (const el of layout.elements) {
    if (!el.shown || el.type === 'ean13' || el.type === 'qr') continue;
    for (const op of el.ops) {
      if (op.op !== 'glyphs') continue;
      const ink = COLOUR_INDEX[op.colour];
      for (const r of op.runs) {
        const b = runAt(fonts[op.font], r.text, op.size).ink;
        if (!b) continue;
        // Exactly the line's ink: a margin would take in the bottom of the line above (a stray ".." over a digit).
        const m = 0;
        const x0 = Math.max(0, r.x + b.l - m);
        const y0 = Math.max(0, r.baseline + b.t - m);
        const x1 = Math.min(t.width, r.x + b.r + m);
        const y1 = Math.min(t.height, r.baseline + b.b + m);
        const w = x1 - x0;
        const h = y1 - y0;
        const grey = Buffer.alloc(w * h, 255);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) if (px[(y0 + y) * t.width + x0 + x] === ink) grey[y * w + x] = 0;
        // Every line is brought to the same letter size, whatever the label type: small text enlarged by a whole
        // factor, the big price (40–210 px) reduced, as a phone's camera sees a shelf from a step away (D73).
        const scale = op.size <= 34 ? Math.max(1, Math.min(8, Math.round(34 / op.size))) : 34 / op.size;
        const png = await sharp(grey, { raw: { width: w, height: h, channels: 1 } })
          .resize(Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale)), { kernel: 'lanczos3' })
          .extend({ top: 12, bottom: 12, left: 12, right: 12, background: { r: 255, g: 255, b: 255 } })
          .png()
          .toBuffer();
        out.push({ element: el.id ?? el.type, text: readable(r.text), size: op.size, png });
      }
    }
  }
  return out;
}

/** Reads single-line images with tesseract (German, one line per image). */
export async function readLines(pngs: readonly Buffer[]): Promise<string[]> {
  if (pngs.length === 0) return [];
  const dir = mkdtempSync(path.join(tmpdir(), 'esl-ocr-'));
  try {
    const files = pngs.map((p, i) => {
      const f = path.join(dir, `${String(i).padStart(5, '0')}.png`);
      writeFileSync(f, p);
      return f;
    });
    const list = path.join(dir, 'list.txt');
    writeFileSync(list, `${files.join('\n')}\n`);
    const { stdout } = await run('tesseract', [list, 'stdout', '-l', 'deu', '--psm', '7'], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, OMP_THREAD_LIMIT: '1' },
    });
    // One page per image, separated by form feeds.
    const pages = stdout.split('\f');
    return pngs.map((_p, i) => readable(pages[i] ?? ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[y.length]!;
}

export async function tesseractAvailable(): Promise<boolean> {
  try {
    const { stdout, stderr } = await run('tesseract', ['--list-langs']);
    return /\bdeu\b/.test(stdout + stderr);
  } catch {
    return false;
  }
}
