/**
 * One image transfer as messages (README §4.3, §6.1.1): the encoding both ends decode (§6.6.1, by capability), the
 * IMAGE_BEGIN descriptor of the encoded image and the IMAGE_BLOCKs of its payload. The one place a transfer's
 * messages are built: the edge's dispatcher, the simulator's test edges and the tests all use it.
 */
import { chooseEncoding, type DecodeCapabilities } from './encoding-choice.js';
import type { EncodedImage } from './image-codec.js';
import type { LabelType } from './label-types.js';
import type { MessageOf } from './messages.js';
import { BLOCK_SIZE, splitBlocks } from './transfer-blocks.js';

/** What the edge decides about a transfer besides its picture. */
export interface TransferHeader {
  transferId: number;
  labelId: string;
  /** Label type id (§3.3). */
  labelType: number;
  /** §6.5 Epoch ms the label shows the picture at; 0: at once. */
  displayAt?: number;
  /** §4.6 Page the picture is stored in; 0: the shown page. */
  page?: number;
  /** Queue priority on the AP (higher first). */
  priority?: number;
}

/** The encoded picture as the descriptor needs it (a test may hand in a payload of any bytes). */
export type TransferImage = Pick<EncodedImage, 'kind' | 'encoding' | 'baseHash' | 'targetHash' | 'region' | 'payload'>;

/** §6.1.1 The transfer descriptor of an encoded image. */
export function imageBeginMessage(h: TransferHeader, image: TransferImage): MessageOf<'IMAGE_BEGIN'> {
  return {
    type: 'IMAGE_BEGIN',
    transferId: h.transferId,
    labelId: h.labelId,
    labelType: h.labelType,
    kind: image.kind,
    encoding: image.encoding,
    baseHash: image.baseHash,
    targetHash: image.targetHash,
    totalSize: image.payload.length,
    region: image.region,
    displayAt: h.displayAt ?? 0,
    page: h.page ?? 0,
    priority: h.priority ?? 0,
  };
}

/** §4.3 The payload in blocks of at most blockSize bytes (min(BLOCK_SIZE, AP_HELLO.maxBlockSize) on the edge). */
export function imageBlockMessages(transferId: number, payload: Uint8Array, blockSize = BLOCK_SIZE): MessageOf<'IMAGE_BLOCK'>[] {
  return splitBlocks(payload, blockSize).map((data, blockIndex) => ({ type: 'IMAGE_BLOCK', transferId, blockIndex, data }));
}

export interface EncodedTransfer {
  image: EncodedImage;
  begin: MessageOf<'IMAGE_BEGIN'>;
  blocks: MessageOf<'IMAGE_BLOCK'>[];
}

/** A whole transfer: the smallest encoding both the AP and the label decode (§6.6.1), then its messages. */
export function encodeTransfer(
  h: TransferHeader & { caps: DecodeCapabilities; type: LabelType; target: Uint8Array; base?: Uint8Array; blockSize?: number },
): EncodedTransfer {
  const image = chooseEncoding(h.caps, h.type, h.target, h.base);
  return { image, begin: imageBeginMessage(h, image), blocks: imageBlockMessages(h.transferId, image.payload, h.blockSize) };
}
