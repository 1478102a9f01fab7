/**
 * The AP's store of staged image transfers (firmware-protocol/README.md §4.3): IMAGE_BEGIN stages a transfer,
 * IMAGE_BLOCKs fill it (in any order, each block kept once), IMAGE_CANCEL drops it. A transfer is offered to its
 * label (RADIO_PENDING) only once every block is in. At most `capacity` transfers are staged, and at most one per
 * label and page: a newer IMAGE_BEGIN for the same label and page replaces the older one (the caller reports that
 * one as CANCELLED).
 */
import { ImageKind, StatusCode, labelTypeById, type MessageOf, type StatusCodeValue } from '#protocol';

export type TransferDescriptor = Omit<MessageOf<'RADIO_PENDING'>, 'type'>;

export interface StagedTransfer {
  descriptor: TransferDescriptor;
  priority: number;
  blockSize: number;
  blocks: (Uint8Array | undefined)[];
  blocksReceived: number;
  /** Order of staging, to serve equal priorities first come, first served. */
  stagedOrder: number;
  /** Bytes of the frames the AP sent for this transfer, over all wake-ups (TRANSFER_RESULT.bytesOnAir, §5.4). */
  bytesOnAir: number;
  /** Wake-ups at which the transfer was started on the radio. */
  radioAttempts: number;
}

export interface StageResult {
  status: StatusCodeValue;
  /** The transfer for the same label and page that this one replaced. */
  replaced?: StagedTransfer;
}

/** Largest payload accepted: well above a raw 7.5" BWR image (96,000 bytes). */
export const MAX_TRANSFER_BYTES = 512 * 1024;

export class TransferStore {
  private readonly byId = new Map<number, StagedTransfer>();
  private readonly byLabel = new Map<string, StagedTransfer[]>();
  private order = 0;

  constructor(
    readonly capacity: number,
    readonly blockSize: number,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  get(transferId: number): StagedTransfer | undefined {
    return this.byId.get(transferId);
  }

  /** The labels with at least one staged transfer. */
  labelIds(): IterableIterator<string> {
    return this.byLabel.keys();
  }

  /** Every transfer staged for a label (one per page at most). */
  forLabel(labelId: string): readonly StagedTransfer[] {
    return this.byLabel.get(labelId) ?? [];
  }

  /** The complete transfer to offer the label next: highest priority, then first staged. */
  nextFor(labelId: string): StagedTransfer | undefined {
    let best: StagedTransfer | undefined;
    for (const t of this.forLabel(labelId)) {
      if (!this.isComplete(t)) continue;
      if (best === undefined || t.priority > best.priority || (t.priority === best.priority && t.stagedOrder < best.stagedOrder)) best = t;
    }
    return best;
  }

  isComplete(t: StagedTransfer): boolean {
    return t.blocksReceived === t.blocks.length;
  }

  /** IMAGE_BEGIN. */
  begin(msg: MessageOf<'IMAGE_BEGIN'>): StageResult {
    const { type: _type, priority, ...descriptor } = msg;
    const labelType = labelTypeById(descriptor.labelType);
    if (descriptor.transferId === 0 || labelType === undefined || descriptor.totalSize === 0 || descriptor.totalSize > MAX_TRANSFER_BYTES) {
      return { status: StatusCode.INVALID_PARAMETER };
    }
    if (descriptor.kind === ImageKind.DELTA_REGION) {
      const r = descriptor.region;
      const fits = r.width > 0 && r.height > 0 && r.x + r.width <= Math.ceil(labelType.width / 8) * 8 && r.y + r.height <= labelType.height;
      if (!fits || r.x % 8 !== 0 || r.width % 8 !== 0) return { status: StatusCode.INVALID_PARAMETER };
    }
    if (descriptor.page >= labelType.pages) return { status: StatusCode.INVALID_PARAMETER };

    const existing = this.byId.get(descriptor.transferId);
    if (existing !== undefined) {
      // The same IMAGE_BEGIN again as a new frame (e.g. after a reconnect, §7.3): keep the blocks already staged.
      const same = existing.descriptor.labelId === descriptor.labelId && existing.descriptor.totalSize === descriptor.totalSize;
      return { status: same ? StatusCode.OK : StatusCode.INVALID_PARAMETER };
    }
    const older = this.forLabel(descriptor.labelId).find((t) => t.descriptor.page === descriptor.page);
    if (older === undefined && this.byId.size >= this.capacity) return { status: StatusCode.QUEUE_FULL };
    if (older !== undefined) this.drop(older.descriptor.transferId);

    const staged: StagedTransfer = {
      descriptor,
      priority,
      blockSize: this.blockSize,
      blocks: new Array<Uint8Array | undefined>(Math.ceil(descriptor.totalSize / this.blockSize)).fill(undefined),
      blocksReceived: 0,
      stagedOrder: this.order++,
      bytesOnAir: 0,
      radioAttempts: 0,
    };
    this.byId.set(descriptor.transferId, staged);
    this.byLabel.set(descriptor.labelId, [...this.forLabel(descriptor.labelId), staged]);
    return older === undefined ? { status: StatusCode.OK } : { status: StatusCode.OK, replaced: older };
  }

  /** IMAGE_BLOCK: every block but the last is exactly blockSize bytes, the last holds the rest (§4.3). */
  block(msg: MessageOf<'IMAGE_BLOCK'>): StatusCodeValue {
    const t = this.byId.get(msg.transferId);
    if (t === undefined) return StatusCode.UNKNOWN_TRANSFER;
    if (msg.blockIndex >= t.blocks.length) return StatusCode.INVALID_PARAMETER;
    const expected = Math.min(t.blockSize, t.descriptor.totalSize - msg.blockIndex * t.blockSize);
    if (msg.data.length !== expected) return StatusCode.INVALID_PARAMETER;
    if (t.blocks[msg.blockIndex] === undefined) {
      t.blocksReceived++;
      // A copy: the decoded frame may alias a larger receive buffer that must not be kept alive.
      t.blocks[msg.blockIndex] = msg.data.slice();
    }
    return StatusCode.OK;
  }

  drop(transferId: number): StagedTransfer | undefined {
    const t = this.byId.get(transferId);
    if (t === undefined) return undefined;
    this.byId.delete(transferId);
    const rest = this.forLabel(t.descriptor.labelId).filter((x) => x !== t);
    if (rest.length === 0) this.byLabel.delete(t.descriptor.labelId);
    else this.byLabel.set(t.descriptor.labelId, rest);
    return t;
  }

  clear(): void {
    this.byId.clear();
    this.byLabel.clear();
  }
}
