/**
 * The AP's store of staged image transfers (firmware-protocol/README.md §6): IMAGE_BEGIN stages a transfer for a
 * label, IMAGE_BLOCKs fill it, IMAGE_CANCEL drops it. A transfer is offered to its label (RADIO_PENDING) only
 * once every block is in. At most `capacity` transfers are staged; one label has at most one (a newer IMAGE_BEGIN
 * replaces the older, which is what the edge wants when a price changed twice before the label woke).
 */
import { ImageKind, StatusCode, labelTypeById, type MessageOf, type StatusCodeValue } from '../../firmware-protocol/src/index.js';

export type TransferDescriptor = Omit<MessageOf<'RADIO_PENDING'>, 'type'>;

export interface StagedTransfer {
  descriptor: TransferDescriptor;
  priority: number;
  blockSize: number;
  blocks: (Uint8Array | undefined)[];
  blocksReceived: number;
  /** Bytes on air spent on this transfer so far, over all wake-ups (reported in TRANSFER_RESULT). */
  bytesOnAir: number;
  /** Wake-ups at which the transfer was started on the radio. */
  radioAttempts: number;
}

export type StageResult = { status: StatusCodeValue; replaced?: StagedTransfer };

/** Largest payload accepted: well above a raw 7.5" BWRY image (4 × 48,000 bytes). */
export const MAX_TRANSFER_BYTES = 512 * 1024;

export class TransferStore {
  private readonly byId = new Map<number, StagedTransfer>();
  private readonly byLabel = new Map<string, StagedTransfer>();

  constructor(
    readonly capacity: number,
    readonly blockSize: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  forLabel(labelId: string): StagedTransfer | undefined {
    return this.byLabel.get(labelId);
  }

  get(transferId: number): StagedTransfer | undefined {
    return this.byId.get(transferId);
  }

  isComplete(t: StagedTransfer): boolean {
    return t.blocksReceived === t.blocks.length;
  }

  /** IMAGE_BEGIN. */
  begin(msg: MessageOf<'IMAGE_BEGIN'>): StageResult {
    const { type: _type, priority, ...descriptor } = msg;
    const labelType = labelTypeById(descriptor.labelType);
    if (labelType === undefined || descriptor.totalSize === 0 || descriptor.totalSize > MAX_TRANSFER_BYTES) {
      return { status: StatusCode.INVALID_PARAMETER };
    }
    if (descriptor.kind === ImageKind.DELTA_REGION) {
      const r = descriptor.region;
      const fits = r.width > 0 && r.height > 0 && r.x + r.width <= labelType.width && r.y + r.height <= labelType.height;
      if (!fits || r.x % 8 !== 0 || r.width % 8 !== 0) return { status: StatusCode.INVALID_PARAMETER };
    }
    if (descriptor.page >= labelType.pages) return { status: StatusCode.INVALID_PARAMETER };

    const existing = this.byId.get(descriptor.transferId);
    if (existing !== undefined) {
      // The same IMAGE_BEGIN again (e.g. re-sent by an edge that restarted): keep the blocks already staged.
      if (existing.descriptor.labelId === descriptor.labelId && existing.descriptor.totalSize === descriptor.totalSize) {
        return { status: StatusCode.OK };
      }
      return { status: StatusCode.INVALID_PARAMETER };
    }
    const older = this.byLabel.get(descriptor.labelId);
    if (older === undefined && this.byId.size >= this.capacity) return { status: StatusCode.QUEUE_FULL };
    if (older !== undefined) this.drop(older.descriptor.transferId);

    const blockCount = Math.ceil(descriptor.totalSize / this.blockSize);
    const staged: StagedTransfer = {
      descriptor,
      priority,
      blockSize: this.blockSize,
      blocks: new Array<Uint8Array | undefined>(blockCount).fill(undefined),
      blocksReceived: 0,
      bytesOnAir: 0,
      radioAttempts: 0,
    };
    this.byId.set(descriptor.transferId, staged);
    this.byLabel.set(descriptor.labelId, staged);
    return older === undefined ? { status: StatusCode.OK } : { status: StatusCode.OK, replaced: older };
  }

  /** IMAGE_BLOCK: every block but the last is exactly blockSize bytes, the last holds the rest (§6.6). */
  block(msg: MessageOf<'IMAGE_BLOCK'>): StatusCodeValue {
    const t = this.byId.get(msg.transferId);
    if (t === undefined) return StatusCode.UNKNOWN_TRANSFER;
    if (msg.blockIndex >= t.blocks.length) return StatusCode.INVALID_PARAMETER;
    const expected = Math.min(t.blockSize, t.descriptor.totalSize - msg.blockIndex * t.blockSize);
    if (msg.data.length !== expected) return StatusCode.INVALID_PARAMETER;
    if (t.blocks[msg.blockIndex] === undefined) t.blocksReceived++;
    // A copy: the decoder's output may alias a larger receive buffer that must not be kept alive.
    t.blocks[msg.blockIndex] = msg.data.slice();
    return StatusCode.OK;
  }

  /** IMAGE_CANCEL. */
  cancel(transferId: number): StatusCodeValue {
    return this.drop(transferId) === undefined ? StatusCode.UNKNOWN_TRANSFER : StatusCode.OK;
  }

  drop(transferId: number): StagedTransfer | undefined {
    const t = this.byId.get(transferId);
    if (t === undefined) return undefined;
    this.byId.delete(transferId);
    if (this.byLabel.get(t.descriptor.labelId) === t) this.byLabel.delete(t.descriptor.labelId);
    return t;
  }

  clear(): void {
    this.byId.clear();
    this.byLabel.clear();
  }
}
