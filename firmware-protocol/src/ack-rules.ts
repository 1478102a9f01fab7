/**
 * Acknowledgement rules (README.md §4, §7.1): which messages are sent with the ACK-requested flag, and which
 * status a receiver NACKs an undecodable frame with.
 */
import type { ProtocolError } from './errors.js';
import { StatusCode, type MessageName, type StatusCodeValue } from './messages.js';

/**
 * §4 table, "ACK" column. Every edge→AP frame requests an ACK (§7.1). AP_HELLO does not: its answer is
 * EDGE_HELLO (or a NACK with UNSUPPORTED_VERSION), §8. Heartbeats are superseded by the next one. Radio frames
 * (§9) never use ACK frames: the label's next request is the acknowledgement — including a SENSOR_VALUE the
 * label sends on the radio (§9.6); the flag below is for the AP→edge link.
 */
export const ACK_REQUESTED: Readonly<Record<MessageName, boolean>> = {
  EDGE_HELLO: true,
  IMAGE_BEGIN: true,
  IMAGE_BLOCK: true,
  IMAGE_CANCEL: true,
  LED_FLASH: true,
  PAGE_SWITCH: true,
  READ_SENSOR: true,
  LABEL_COMMAND: true,
  ACK: false,
  AP_HELLO: false,
  AP_HEARTBEAT: false,
  LABEL_CHECKIN: true,
  TRANSFER_RESULT: true,
  SENSOR_VALUE: true,
  RADIO_CHECKIN: false,
  RADIO_PENDING: false,
  RADIO_BLOCK_REQUEST: false,
  RADIO_PART: false,
  RADIO_XFER_DONE: false,
  RADIO_COMMAND: false,
  RADIO_SLEEP: false,
  RADIO_WAIT: false,
  RADIO_OFFER: false,
  // §4.8 like every edge→AP frame; §5.6 a wake report is not acknowledged: a lost one costs predictions, never an update.
  WAKE_REPORT_CONFIG: true,
  WORK_AHEAD: true,
  WAKE_REPORT: false,
};

/**
 * §7.1, §13 The NACK a receiver sends for a frame that passed the CRC but could not be decoded, or null when no
 * ACK must be sent (the sender did not ask for one, or the error came before the CRC check so the header —
 * including seq — cannot be trusted; the sender's retry covers that case).
 */
export function nackFor(error: ProtocolError): { ackSeq: number; status: StatusCodeValue } | null {
  const d = error.details;
  if (d === undefined || d['ackRequested'] !== true || typeof d['seq'] !== 'number') return null;
  let status: StatusCodeValue;
  switch (error.code) {
    case 'MSG_BAD_VERSION':
      status = StatusCode.UNSUPPORTED_VERSION;
      break;
    case 'MSG_UNKNOWN_TYPE':
      status = StatusCode.UNSUPPORTED_FEATURE;
      break;
    case 'FRAME_BAD_FLAGS':
    case 'MSG_BAD_LENGTH':
    case 'MSG_INVALID_FIELD':
      status = StatusCode.DECODE_ERROR;
      break;
    default:
      return null;
  }
  return { ackSeq: d['seq'], status };
}
