/**
 * The label's receive buffer for one image transfer (firmware-protocol/README.md §9.4): the payload is cut in
 * blocks of `blockSize` bytes and each block in parts of `partSize` bytes; a bitmap per block records which
 * parts arrived, so a RADIO_BLOCK_REQUEST asks for exactly the parts still missing. The buffer survives the end
 * of a wake-up (it models the label's flash), so a transfer cut by the 20 s limit resumes where it stopped.
 */
import { BLOCK_SIZE, partLength, partsBitmap, partsInBlock, type MessageOf } from '#protocol';
import type { TransferDescriptor } from './transfer-store.js';

const BITMAP_BYTES = 8;

export type PartOutcome = 'new' | 'duplicate' | 'invalid';

export class TransferReceiver {
  readonly blockCount: number;
  private readonly buffer: Uint8Array;
  /** 8 bytes per block; bit p of the block's bitmap (LSB of byte 0 = part 0) set = part p received. */
  private readonly received: Uint8Array;
  private partsMissing: number;

  constructor(
    readonly descriptor: TransferDescriptor,
    readonly partSize: number,
    readonly blockSize: number = BLOCK_SIZE,
  ) {
    this.blockCount = Math.ceil(descriptor.totalSize / blockSize);
    this.buffer = new Uint8Array(descriptor.totalSize);
    this.received = new Uint8Array(this.blockCount * BITMAP_BYTES);
    let parts = 0;
    for (let b = 0; b < this.blockCount; b++) parts += this.partsOf(b);
    this.partsMissing = parts;
  }

  get complete(): boolean {
    return this.partsMissing === 0;
  }

  blockLength(block: number): number {
    return Math.min(this.blockSize, this.descriptor.totalSize - block * this.blockSize);
  }

  partsOf(block: number): number {
    return partsInBlock(this.blockLength(block), this.partSize);
  }

  partLength(block: number, part: number): number {
    return partLength(this.blockLength(block), part, this.partSize);
  }

  /** The first block with a missing part, or -1 when all are in. */
  firstIncompleteBlock(): number {
    for (let b = 0; b < this.blockCount; b++) if (this.missingCount(b) > 0) return b;
    return -1;
  }

  missingCount(block: number): number {
    let n = 0;
    for (let p = 0; p < this.partsOf(block); p++) if (!this.has(block, p)) n++;
    return n;
  }

  /** The parts of `block` not yet received, ascending. */
  missingParts(block: number): number[] {
    const parts: number[] = [];
    for (let p = 0; p < this.partsOf(block); p++) if (!this.has(block, p)) parts.push(p);
    return parts;
  }

  /** §9.4 The partsWanted bitmap of a RADIO_BLOCK_REQUEST: a set bit for every part not yet received. */
  wantedBitmap(block: number): Uint8Array {
    return partsBitmap(this.partsOf(block), this.missingParts(block));
  }

  has(block: number, part: number): boolean {
    return (this.received[block * BITMAP_BYTES + (part >> 3)]! & (1 << (part & 7))) !== 0;
  }

  accept(part: MessageOf<'RADIO_PART'>): PartOutcome {
    const { blockIndex: b, partIndex: p, data } = part;
    if (part.transferId !== this.descriptor.transferId || b >= this.blockCount || p >= this.partsOf(b)) return 'invalid';
    if (data.length !== this.partLength(b, p)) return 'invalid';
    if (this.has(b, p)) return 'duplicate';
    this.buffer.set(data, b * this.blockSize + p * this.partSize);
    this.received[b * BITMAP_BYTES + (p >> 3)]! |= 1 << (p & 7);
    this.partsMissing--;
    return 'new';
  }

  payload(): Uint8Array {
    return this.buffer;
  }
}

