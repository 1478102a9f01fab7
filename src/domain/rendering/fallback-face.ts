/**
 * A bundled face behind DejaVu in the fallback chain (issue 12, D68/D69): Noto Sans Arabic, Noto Sans Hebrew and a
 * subset of Noto Sans CJK SC, read and shaped with HarfBuzz (harfbuzzjs, WebAssembly).
 *
 * HarfBuzz does what the renderer must not do by hand for these scripts: Arabic joining forms (init/medi/fina/isol),
 * the lam-alef ligature, mark positioning (harakat), right-to-left glyph order and mirroring. The same HarfBuzz
 * also gives the outlines (hb_font_draw_glyph, in font units, y up) and the cmap, so what the intake check calls
 * "supported" is exactly what the shaper can draw. WebAssembly computes bit-identically on every host, so the same
 * text shapes to the same glyphs and positions everywhere (determinism).
 *
 * A face is parsed when first needed (a German name never loads it): the CJK subset costs its file size (2.6 MB)
 * in the WebAssembly heap of each process that meets a CJK name, the others a few hundred kB.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as hb from 'harfbuzzjs';
import type { FallbackKind, FallbackSpec } from './font-chain.js';
import type { OutlineCommand } from './fonts.js';


/** One shaped run: glyph ids in visual order (left to right), positions in the face's font units. */
export interface HbRun {
  glyphs: number[];
  advances: number[];
  dx: number[];
  dy: number[];
  /** Code unit offset (in the run's text) of each glyph's cluster. */
  clusters: number[];
}

export class FallbackFace {
  readonly unitsPerEm: number;
  private readonly font: hb.Font;
  private readonly unicodes: Set<number>;
  private readonly outlines = new Map<number, OutlineCommand[]>();
  /** One buffer per face, reset for every run (HarfBuzz objects live in the WebAssembly heap). */
  private readonly buf = new hb.Buffer();

  constructor(
    readonly file: string,
    readonly kind: FallbackKind,
  ) {
    const face = new hb.Face(new hb.Blob(readFileSync(file)), 0);
    this.font = new hb.Font(face);
    this.unitsPerEm = face.upem;
    this.unicodes = new Set(face.collectUnicodes());
  }

  get name(): string {
    return path.basename(this.file);
  }

  /** True when the face's cmap maps the code point. */
  has(cp: number): boolean {
    return this.unicodes.has(cp);
  }

  /**
   * Shapes `text` (one direction, one face) with HarfBuzz. For a right-to-left run HarfBuzz returns the glyphs in
   * visual order, left to right, already mirrored.
   */
  shape(text: string, rtl: boolean): HbRun {
    const buf = this.buf;
    buf.reset();
    buf.addText(text);
    buf.guessSegmentProperties();
    buf.setDirection(rtl ? hb.Direction.RTL : hb.Direction.LTR);
    hb.shape(this.font, buf);
    const out: HbRun = { glyphs: [], advances: [], dx: [], dy: [], clusters: [] };
    for (const g of buf.getGlyphInfosAndPositions()) {
      out.glyphs.push(g.codepoint);
      out.advances.push(g.xAdvance ?? 0);
      out.dx.push(g.xOffset ?? 0);
      out.dy.push(g.yOffset ?? 0);
      out.clusters.push(g.cluster);
    }
    return out;
  }

  advance(g: number): number {
    return this.font.glyphHAdvance(g);
  }

  /** Outline in font units, y up. */
  outline(g: number): readonly OutlineCommand[] {
    let cmds = this.outlines.get(g);
    if (!cmds) {
      cmds = [];
      for (const c of this.font.glyphToJson(g)) {
        const v = c.values;
        if (c.type === 'M' || c.type === 'L') cmds.push({ type: c.type, x: v[0]!, y: v[1]! });
        else if (c.type === 'Q') cmds.push({ type: 'Q', x1: v[0]!, y1: v[1]!, x: v[2]!, y: v[3]! });
        else if (c.type === 'C') cmds.push({ type: 'C', x1: v[0]!, y1: v[1]!, x2: v[2]!, y2: v[3]!, x: v[4]!, y: v[5]! });
        else if (c.type === 'Z') cmds.push({ type: 'Z' });
      }
      this.outlines.set(g, cmds);
    }
    return cmds;
  }
}

const loaded = new Map<string, FallbackFace>();

/** Parses (once per process) and returns a fallback face. */
export function loadFallbackFace(spec: FallbackSpec, dir: string): FallbackFace {
  const file = path.join(dir, spec.file);
  let face = loaded.get(file);
  if (!face) {
    face = new FallbackFace(file, spec.kind);
    loaded.set(file, face);
  }
  return face;
}
