/** Test helper: decode barcodes from rendered planes with @zxing/library (the decoder, not the encoder). */
import { BarcodeFormat, BinaryBitmap, DecodeHintType, HybridBinarizer, MultiFormatReader, RGBLuminanceSource } from '@zxing/library';
import type { LabelType } from '#protocol';
import { unpackPlanes } from '../../src/domain/rendering/planes.js';
import type { Rect } from '../../src/domain/rendering/text-fit.js';

/**
 * Cuts `region` out of the planes (white = light, any colour = dark), scales it by `scale` with nearest neighbour,
 * pads it with white and decodes it. Returns the decoded text and format, or throws when nothing decodes.
 */
export function decodeRegion(planes: Uint8Array, t: LabelType, region: Rect, format: 'EAN_13' | 'EAN_8' | 'QR_CODE', scale = 3): { text: string; format: string } {
  const px = unpackPlanes(planes, t);
  const pad = 16;
  const W = region.w * scale + 2 * pad;
  const H = region.h * scale + 2 * pad;
  const lum = new Uint8ClampedArray(W * H).fill(255);
  for (let y = 0; y < region.h * scale; y++) {
    for (let x = 0; x < region.w * scale; x++) {
      const sx = region.x + Math.floor(x / scale);
      const sy = region.y + Math.floor(y / scale);
      if (px[sy * t.width + sx] !== 0) lum[(y + pad) * W + x + pad] = 0;
    }
  }
  const hints = new Map<DecodeHintType, unknown>([
    [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat[format]]],
    [DecodeHintType.TRY_HARDER, true],
  ]);
  const reader = new MultiFormatReader();
  const result = reader.decode(new BinaryBitmap(new HybridBinarizer(new RGBLuminanceSource(lum, W, H))), hints);
  return { text: result.getText(), format: BarcodeFormat[result.getBarcodeFormat()] };
}
