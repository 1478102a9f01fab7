/**
 * The codes on rendered labels scan: EAN-13 (and EAN-8) and the GS1 Digital Link QR are decoded back from the
 * rendered planes by an independent decoder (@zxing/library), and by zbar from the preview PNG where zbarimg is
 * installed, and give the GTIN back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { labelTypeByName, type LabelType } from '#protocol';
import type { LabelContent } from '#contracts';
import { LabelRenderer, planesToPng } from '../../src/domain/rendering/label-renderer.js';
import { decodeRegion } from './decode-codes.js';
import { STANDARD } from '../../src/domain/rendering/sample-content.js';

let renderer: LabelRenderer;
beforeAll(async () => {
  renderer = await LabelRenderer.create();
});

const type = (name: string): LabelType => labelTypeByName(name)!;

function codeBox(content: LabelContent, t: LabelType, page: number, kind: 'ean13' | 'qr') {
  const el = renderer.layout(content, t, { page, template: 'price-standard' }).elements.find((e) => e.type === kind);
  expect(el?.shown, `${kind} shown on ${t.name} page ${page}`).toBe(true);
  return el!.box;
}

const GTINS = ['4260081723458', '4006381333931', '4012345000016'];

describe('EAN-13 on the price page', () => {
  it.each(['epd-154-bw', 'epd-213-bwr', 'epd-29-bwr', 'epd-42-bwry', 'epd-75-bwr'])('decodes on %s', async (name) => {
    const t = type(name);
    for (const gtin of GTINS) {
      const content = { ...STANDARD, gtin };
      const out = await renderer.render(content, t, { template: 'price-standard' });
      const got = decodeRegion(out.planes, t, codeBox(content, t, 0, 'ean13'), 'EAN_13');
      expect(got).toEqual({ text: gtin, format: 'EAN_13' });
    }
  });

  it('encodes a GTIN-8 as EAN-8', async () => {
    const t = type('epd-29-bwr');
    const content = { ...STANDARD, gtin: '96385074' };
    const out = await renderer.render(content, t, { template: 'price-standard' });
    expect(decodeRegion(out.planes, t, codeBox(content, t, 0, 'ean13'), 'EAN_8')).toEqual({ text: '96385074', format: 'EAN_8' });
  });

  it('leaves the code out, with a warning, for a GTIN with a wrong check digit', async () => {
    const t = type('epd-29-bwr');
    const out = await renderer.render({ ...STANDARD, gtin: '4260081723459' }, t, { template: 'price-standard' });
    expect(out.warnings.join()).toMatch(/GTIN_NO_RETAIL_BARCODE/);
  });
});

describe('GS1 Digital Link QR on the details page', () => {
  it.each(['epd-213-bwr', 'epd-29-bwr', 'epd-29-bwy', 'epd-42-bwry', 'epd-75-bwr'])('decodes on %s', async (name) => {
    const t = type(name);
    for (const gtin of GTINS.slice(0, 2)) {
      const content = { ...STANDARD, gtin };
      const out = await renderer.render(content, t, { template: 'price-standard', page: 1 });
      const got = decodeRegion(out.planes, t, codeBox(content, t, 1, 'qr'), 'QR_CODE', 2);
      expect(got).toEqual({ text: `https://id.gs1.org/01/0${gtin}`, format: 'QR_CODE' });
    }
  });
});

function zbarAvailable(): boolean {
  try {
    execFileSync('zbarimg', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(zbarAvailable())('zbarimg reads the preview PNG', () => {
  it('finds the EAN-13 and the QR code of a 2.9" label', async () => {
    const t = type('epd-29-bwr');
    const dir = mkdtempSync(path.join(tmpdir(), 'esl-zbar-'));
    try {
      const found: string[] = [];
      for (const page of [0, 1]) {
        const out = await renderer.render(STANDARD, t, { template: 'price-standard', page });
        const file = path.join(dir, `p${page}.png`);
        writeFileSync(file, await planesToPng(out.planes, t, { scale: 3 }));
        found.push(...execFileSync('zbarimg', ['--quiet', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n'));
      }
      expect(found).toContain(`EAN-13:${STANDARD.gtin}`);
      expect(found).toContain(`QR-Code:https://id.gs1.org/01/0${STANDARD.gtin}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
