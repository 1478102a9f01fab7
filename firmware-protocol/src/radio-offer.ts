/**
 * §9.10 The compact radio offer: RADIO_OFFER in place of RADIO_PENDING for a label that announces it (§9.2
 * decoders bit 3) at an AP that serves it (§5.1 capability 10). It says what RADIO_PENDING says, minus what the
 * radio link already knows, and carries part 0 of block 0, so a payload of up to 99 bytes needs no
 * RADIO_BLOCK_REQUEST / RADIO_PART round trip at all. Also: the bytes and frames of a whole loss-free exchange
 * under either offer (§9.5), which the benchmarks and the reference-store bound use.
 */
import { FRAME_OVERHEAD } from './frame-codec.js';
import { RADIO_OFFER_MAX_DATA, radioOfferHeaderBytes } from './message-codec.js';
import type { MessageOf } from './messages.js';
import { BLOCK_SIZE, PART_SIZE, RADIO_PART_OVERHEAD } from './transfer-blocks.js';

/** The transfer descriptor of §6.1.1 as RADIO_PENDING carries it. */
export type RadioDescriptor = Omit<MessageOf<'RADIO_PENDING'>, 'type'>;
export type RadioOffer = MessageOf<'RADIO_OFFER'>;

/**
 * §9.10.3 The offer for a descriptor, with `part0` (the first min(totalSize, 99) payload bytes, or an empty array
 * to send none). labelId and labelType are left out: the AP sends the offer only to the label the descriptor names
 * and only when the label's check-in reported the descriptor's labelType (otherwise RADIO_PENDING, so that the
 * label refuses it as before).
 */
export function offerOf(d: RadioDescriptor, part0: Uint8Array): RadioOffer {
  return {
    type: 'RADIO_OFFER',
    transferId: d.transferId,
    kind: d.kind,
    encoding: d.encoding,
    baseHash: d.baseHash,
    targetHash: d.targetHash,
    totalSize: d.totalSize,
    region: d.region,
    displayAt: d.displayAt,
    page: d.page,
    data: part0,
  };
}

/** §9.10.4 The descriptor a label rebuilds from an offer: its own id and type fill what the offer leaves out. */
export function descriptorOfOffer(o: RadioOffer, labelId: string, labelType: number): RadioDescriptor {
  return {
    transferId: o.transferId,
    labelId,
    labelType,
    kind: o.kind,
    encoding: o.encoding,
    baseHash: o.baseHash,
    targetHash: o.targetHash,
    totalSize: o.totalSize,
    region: o.region,
    displayAt: o.displayAt,
    page: o.page,
  };
}

/** Bytes (frames included) and frames of one exchange. */
export interface ExchangeCost {
  bytes: number;
  frames: number;
}

/** The descriptor fields that decide an offer's size. */
type OfferShape = Pick<RadioDescriptor, 'baseHash' | 'region' | 'displayAt' | 'page' | 'totalSize'>;

const DESCRIPTOR_BYTES = 52;
const XFER_DONE_BYTES = 13;
/** RADIO_BLOCK_REQUEST without its bitmap: transferId, blockIndex, k. */
const BLOCK_REQUEST_BYTES = 7;

/**
 * §9.5 Bytes on air and frames of a whole transfer exchange sent once without loss, from the offer to
 * RADIO_XFER_DONE (check-in and RADIO_SLEEP excluded: every wake-up has them):
 *
 * - RADIO_PENDING: 12 + 52, then per block a RADIO_BLOCK_REQUEST (12 + 7 + ⌈parts/8⌉) and its parts
 *   (19 + data each), then RADIO_XFER_DONE 12 + 13;
 * - RADIO_OFFER: 12 + header (16 … 43, §9.10.2) + min(L, 99), then the same as above for what part 0 did not
 *   carry (block 0 is requested only when it has more than one part), then RADIO_XFER_DONE;
 * - RADIO_OFFER with its burst (§9.12, `burst`): the same without the request for block 0 (its parts follow unasked).
 */
export function exchangeCost(shape: OfferShape, offer: boolean, blockSize = BLOCK_SIZE, partSize = PART_SIZE, burst = false): ExchangeCost {
  const L = shape.totalSize;
  let bytes = offer ? FRAME_OVERHEAD + radioOfferHeaderBytes(shape) + Math.min(L, RADIO_OFFER_MAX_DATA) : FRAME_OVERHEAD + DESCRIPTOR_BYTES;
  let frames = 1;
  for (let at = 0, b = 0; at < L; at += blockSize, b++) {
    const len = Math.min(blockSize, L - at);
    const parts = Math.ceil(len / partSize);
    const skip = offer && b === 0 ? 1 : 0;
    if (parts - skip === 0) continue;
    if (!(skip === 1 && burst)) {
      bytes += FRAME_OVERHEAD + BLOCK_REQUEST_BYTES + Math.ceil(parts / 8);
      frames++;
    }
    const sent = len - (skip === 1 ? Math.min(len, partSize) : 0);
    bytes += sent + RADIO_PART_OVERHEAD * (parts - skip);
    frames += parts - skip;
  }
  bytes += FRAME_OVERHEAD + XFER_DONE_BYTES;
  frames++;
  return { bytes, frames };
}

/**
 * The reference store's cost of an exchange in payload-byte equivalents (shared/reference-store.md "The lower
 * bound"): its bytes without frame header and CRC, plus `frameOverheadMs` × `bytesPerSecond` per frame (4 ms ×
 * 5,000 B/s = 20 B).
 */
export function boundCost(c: ExchangeCost, frameOverheadMs = 4, bytesPerSecond = 5_000): number {
  return c.bytes - FRAME_OVERHEAD * c.frames + (frameOverheadMs / 1000) * bytesPerSecond * c.frames;
}
