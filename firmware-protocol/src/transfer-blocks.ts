/**
 * How an image payload travels (README.md §5, §9.4): edge → AP in IMAGE_BLOCKs of up to 4,096 bytes; AP → label
 * each block in RADIO_PARTs of up to 99 bytes, the label re-requesting lost parts with a bitmap.
 */
import { FRAME_OVERHEAD } from './frame-codec.js';

/** §5 Largest IMAGE_BLOCK data; the edge uses min(BLOCK_SIZE, AP_HELLO.maxBlockSize). */
export const BLOCK_SIZE = 4096;
/** §9.4 Largest RADIO_PART data (an IEEE 802.15.4 frame carries ~102 bytes of payload). */
export const PART_SIZE = 99;
/** §9.4 RADIO_BLOCK_REQUEST.partsWanted holds at most 8 bytes: a block has at most 64 parts. */
export const MAX_PARTS_PER_BLOCK = 64;
/** Bytes a RADIO_PART adds to its data: transferId u32 + blockIndex u16 + partIndex u8. */
export const RADIO_PART_HEADER = 7;
/** Bytes on air per RADIO_PART besides its data: frame header + CRC (§3.1) + part header. */
export const RADIO_PART_OVERHEAD = FRAME_OVERHEAD + RADIO_PART_HEADER;

function checkSize(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new RangeError(`${name} ${v} out of range 1..${max}`);
}

/** The payload cut into consecutive blocks (views, not copies); the empty payload has no blocks. */
export function splitBlocks(payload: Uint8Array, blockSize = BLOCK_SIZE): Uint8Array[] {
  checkSize('blockSize', blockSize, BLOCK_SIZE);
  const blocks: Uint8Array[] = [];
  for (let at = 0; at < payload.length; at += blockSize) blocks.push(payload.subarray(at, Math.min(at + blockSize, payload.length)));
  return blocks;
}

/** Number of blocks of a payload of `totalSize` bytes. */
export function blockCount(totalSize: number, blockSize = BLOCK_SIZE): number {
  checkSize('blockSize', blockSize, BLOCK_SIZE);
  return Math.ceil(totalSize / blockSize);
}

/** Number of RADIO_PARTs a block of `blockLength` bytes is sent in. */
export function partsInBlock(blockLength: number, partSize = PART_SIZE): number {
  checkSize('partSize', partSize, PART_SIZE);
  return Math.ceil(blockLength / partSize);
}

/** Bytes of part `partIndex` of a block of `blockLength` bytes: `partSize`, less for the last part, 0 beyond it. */
export function partLength(blockLength: number, partIndex: number, partSize = PART_SIZE): number {
  return Math.max(0, Math.min(partSize, blockLength - partIndex * partSize));
}

/**
 * §9.12 The parts an AP sends unasked right after a transfer's first RADIO_OFFER: parts 1…n−1 of block 0 (part 0
 * rode in the offer). The AP sends them and the label waits for them by this one list (empty when block 0 is one part).
 */
export function burstParts(block0Length: number, partSize = PART_SIZE): number[] {
  const parts: number[] = [];
  for (let p = 1; p < partsInBlock(block0Length, partSize); p++) parts.push(p);
  return parts;
}

/** Part `partIndex` of a block (a view). */
export function partOf(block: Uint8Array, partIndex: number, partSize = PART_SIZE): Uint8Array {
  checkSize('partSize', partSize, PART_SIZE);
  return block.subarray(partIndex * partSize, Math.min((partIndex + 1) * partSize, block.length));
}

/** §9.4 A partsWanted bitmap with the given parts set (LSB of byte 0 = part 0), ⌈partCount/8⌉ bytes long. */
export function partsBitmap(partCount: number, wanted: Iterable<number> = range(partCount)): Uint8Array {
  if (!Number.isInteger(partCount) || partCount < 0 || partCount > MAX_PARTS_PER_BLOCK) {
    throw new RangeError(`partCount ${partCount} out of range 0..${MAX_PARTS_PER_BLOCK}`);
  }
  const bitmap = new Uint8Array(Math.ceil(partCount / 8));
  for (const p of wanted) {
    if (!Number.isInteger(p) || p < 0 || p >= partCount) throw new RangeError(`part ${p} out of range 0..${partCount - 1}`);
    bitmap[p >> 3]! |= 1 << (p & 7);
  }
  return bitmap;
}

/** The part indexes set in a partsWanted bitmap, ascending, ignoring bits at or beyond `partCount`. */
export function wantedParts(bitmap: Uint8Array, partCount: number): number[] {
  const parts: number[] = [];
  for (let p = 0; p < partCount && p >> 3 < bitmap.length; p++) if (bitmap[p >> 3]! & (1 << (p & 7))) parts.push(p);
  return parts;
}

function* range(n: number): Iterable<number> {
  for (let i = 0; i < n; i++) yield i;
}

/**
 * §9.5 Bytes on air to carry a payload of `payloadLength` bytes to a label once, without losses:
 *
 *   payloadLength + RADIO_PART_OVERHEAD × P,   P = Σ over blocks of ⌈blockLength / partSize⌉
 *
 * RADIO_PART_OVERHEAD = 19 (frame header 8 + CRC 4 + part header 7). The few fixed frames of an exchange
 * (RADIO_PENDING, block requests, RADIO_XFER_DONE) and the radio's own MAC framing are not included.
 */
export function bytesOnAir(payloadLength: number, blockSize = BLOCK_SIZE, partSize = PART_SIZE): number {
  if (!Number.isInteger(payloadLength) || payloadLength < 0) throw new RangeError(`payloadLength ${payloadLength} is not a size`);
  checkSize('blockSize', blockSize, BLOCK_SIZE);
  checkSize('partSize', partSize, PART_SIZE);
  const fullBlocks = Math.floor(payloadLength / blockSize);
  const lastBlock = payloadLength % blockSize;
  const parts = fullBlocks * Math.ceil(blockSize / partSize) + Math.ceil(lastBlock / partSize);
  return payloadLength + RADIO_PART_OVERHEAD * parts;
}
