import { it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { LABEL_TYPES } from '../../firmware-protocol/src/label-types.js';
import { LabelRenderer, planesToPng } from '../../src/domain/rendering/label-renderer.js';
import { SAMPLE_FOR_TEMPLATE } from './sample-content.js';

it('preview', async () => {
  mkdirSync('/tmp/preview', { recursive: true });
  const r = await LabelRenderer.create();
  for (const tpl of r.templateNames()) {
    for (const t of LABEL_TYPES) {
      for (let p = 0; p < r.pageCount(t, tpl); p++) {
        const out = await r.render(SAMPLE_FOR_TEMPLATE[tpl]!, t, { template: tpl, page: p });
        writeFileSync(`/tmp/preview/${tpl}-${t.name}-p${p}.png`, await planesToPng(out.planes, t, { scale: 3 }));
        if (out.warnings.length) console.log(out.warnings);
      }
    }
  }
  console.log(r.stats());
});
