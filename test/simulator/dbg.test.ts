import { it } from 'vitest';
import { ImageEncoding, ImageKind, encodeImage } from '../../firmware-protocol/src/index.js';
import { runVirtualUntil } from './edge-double.js';
import { labelType, testPlanes } from './images.js';
import { LABEL_A, startStore } from './store-fixture.js';
it('dbg', async () => {
  const fx = await startStore({ radio: { frameLoss: 0.3 }, seed: 3 });
  const t29 = labelType(3);
  const image = encodeImage({ labelType: t29, target: testPlanes(t29, 2), kinds: [ImageKind.FULL], encodings: [ImageEncoding.RAW] });
  await fx.edge.stage('AP-1', { transferId: 21, labelId: LABEL_A, labelType: 3, image });
  await runVirtualUntil(fx.clock, () => fx.sim.groundTruth(LABEL_A)!.hash === image.targetHash, 300_000);
  const log = fx.sim.transferStats(LABEL_A);
  console.log(JSON.stringify(log.map((l) => ({ ...l, requests: l.requests.map((r) => `${r.at % 100000} b${r.blockIndex} [${r.parts.join(',')}] got [${r.received.join(',')}]`) })), null, 1));
  console.log(fx.sim.labelStats(LABEL_A), fx.sim.apStats('AP-1').radio);
  await fx.close();
});
