/**
 * What every simulated label records about itself: the ground truth a benchmark or a test compares the edge's
 * beliefs with, and the radio statistics of its recent transfers.
 */

export interface LabelStats {
  /** Images received and accepted (RADIO_XFER_DONE with status OK after a download). */
  updates: number;
  /** Bytes on air of this label's transfers, both directions, headers and retransmissions included. */
  bytesOnAir: number;
  /** Bytes on air of all this label's radio frames (check-ins, commands, sleeps and transfers). */
  radioBytes: number;
  refreshes: number;
  wakeUps: number;
  /** Wake-ups at which no AP answered the check-in. */
  missedExchanges: number;
  /** §9.11 Times the label kept listening on RADIO_WAIT for a busy channel. */
  radioWaits: number;
  /** Transfers resumed at a later wake-up after being cut off. */
  transferRetries: number;
  /** Transfers cut off by the awake-time limit. */
  transferTimeouts: number;
  /** Frames the label dropped because decodeFrame rejected them (bad CRC after corruption). */
  framesRejected: number;
  /** Frames the label dropped as duplicates (same seq again). */
  framesDuplicate: number;
  ledFlashes: number;
  commandsExecuted: number;
  reboots: number;
}

export function emptyLabelStats(): LabelStats {
  return {
    updates: 0,
    bytesOnAir: 0,
    radioBytes: 0,
    refreshes: 0,
    wakeUps: 0,
    missedExchanges: 0,
    radioWaits: 0,
    transferRetries: 0,
    transferTimeouts: 0,
    framesRejected: 0,
    framesDuplicate: 0,
    ledFlashes: 0,
    commandsExecuted: 0,
    reboots: 0,
  };
}

/** One RADIO_BLOCK_REQUEST as the label sent it. */
export interface BlockRequestRecord {
  at: number;
  blockIndex: number;
  /** The parts the request asked for (decoded from its partsWanted bitmap). */
  parts: number[];
  /** The parts that arrived intact in answer to it. */
  received: number[];
}

/** Radio statistics of one transfer, as seen by the label (exposed for tests and benchmarks). */
export interface TransferRadioStats {
  transferId: number;
  /** §6.1.1 kind and encoding of the transfer's descriptor. */
  kind?: number;
  encoding?: number;
  startedAt: number;
  finishedAt?: number;
  /** Status the label answered in RADIO_XFER_DONE (a StatusCode value), once finished. */
  status?: number;
  /** Wake-ups the transfer took (1 = done in the first). */
  wakeUps: number;
  requests: BlockRequestRecord[];
  partsReceived: number;
  partsDuplicate: number;
  framesRejected: number;
  bytesOnAir: number;
  /** §9.10 Offers of this transfer that came as RADIO_OFFER (the others came as RADIO_PENDING). */
  radioOffers?: number;
}

/** Transfers kept per label, newest last. */
export const TRANSFER_LOG_LENGTH = 8;
/** Requests kept per transfer (a transfer of a 96 kB raw image under heavy loss needs a few hundred). */
export const REQUEST_LOG_LENGTH = 1024;
