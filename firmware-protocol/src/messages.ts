/**
 * The typed messages of the ESL access-point protocol (firmware-protocol/README.md §4–§6).
 *
 * Each message is a zod schema; the TypeScript types are derived from the schemas and never written twice.
 * The binary layout of every field is given in the spec and implemented in `message-codec.ts`.
 * Integers are little-endian on the wire (§3.2). Ranges in the schemas are the wire ranges, so
 * a message that validates here always encodes; the encoder checks exactly these ranges as it writes instead of
 * parsing each message here (message-codec.ts, D163; test/message-encode-checks.test.ts holds the two together).
 */
import { z } from 'zod';

const u8 = z.number().int().min(0).max(0xff);
const i8 = z.number().int().min(-128).max(127);
const u16 = z.number().int().min(0).max(0xffff);
const u32 = z.number().int().min(0).max(0xffffffff);
const i32 = z.number().int().min(-0x80000000).max(0x7fffffff);
/** u64 milliseconds since the Unix epoch; JS numbers are exact up to 2^53, far beyond year 2200 (§3.2). */
const epochMs = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** §3.3 Label id: the 8-byte EUI-64 of the label's radio, written as 16 upper-case hex digits. */
export const LabelIdSchema = z.string().regex(/^[0-9A-F]{16}$/, 'label id must be 16 upper-case hex digits (EUI-64)');
/** §3.4 Content hash: the first 8 bytes of SHA-256 over the label's planes, 16 lower-case hex digits. All zeros = blank. */
export const ContentHashSchema = z.string().regex(/^[0-9a-f]{16}$/, 'content hash must be 16 lower-case hex digits');
export const BLANK_HASH = '0000000000000000';
/** §3.5 Short strings: u8 length + UTF-8 bytes. */
const shortString = (max: number) =>
  z.string().refine((s) => Buffer.byteLength(s, 'utf8') <= max, `at most ${max} UTF-8 bytes`);
// z.custom rather than z.instanceof: the inferred type is then plain Uint8Array (any backing buffer).
const bytes = (max: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes').refine((b) => b.length <= max, `at most ${max} bytes`);

export type LabelId = z.infer<typeof LabelIdSchema>;
export type ContentHash = z.infer<typeof ContentHashSchema>;

/** §5.1 Capability bits an AP announces in AP_HELLO. */
export const ApCapability = {
  TIMED_DISPLAY: 1 << 0,
  DELTA_XOR: 1 << 1,
  DELTA_REGION: 1 << 2,
  LED: 1 << 3,
  SENSOR: 1 << 4,
  PAGES: 1 << 5,
  RLE: 1 << 6,
  ZLIB: 1 << 7,
  /** §6.6 The AP serves CTX transfers and forwards the labels' decoder bits (§5.3 decoders). */
  CTX: 1 << 8,
  /** §5.6 The AP reports the wake-ups it hears (WAKE_REPORT) once the edge switches them on (WAKE_REPORT_CONFIG, §4.8). */
  WAKE_REPORT: 1 << 9,
  /** §9.10 The AP offers transfers with RADIO_OFFER to labels that announce LabelDecoder.OFFER (§9.2). */
  RADIO_OFFER: 1 << 10,
  /** §9.1.1, §9.11 The AP holds a label that announces LabelDecoder.WAIT with RADIO_WAIT instead of deferring it. */
  RADIO_WAIT: 1 << 11,
  /** §9.12 After RADIO_OFFER the AP sends the rest of block 0 unasked to a label that announces LabelDecoder.BURST. */
  RADIO_BURST: 1 << 12,
  /** §4.9 The AP gives labels the edge has work ahead for (WORK_AHEAD) a wake-up slot of its own instead of a full sleep. */
  WORK_AHEAD: 1 << 13,
} as const;

/**
 * §5.3, §9.2 What a label decodes besides RAW (optional last byte of RADIO_CHECKIN / LABEL_CHECKIN). A check-in
 * without it comes from a label of before §6.6, which decodes RLE and ZLIB: LEGACY_LABEL_DECODERS.
 */
export const LabelDecoder = {
  RLE: 1 << 0,
  ZLIB: 1 << 1,
  CTX: 1 << 2,
  /** §9.10 Not a decoder: the label takes the compact RADIO_OFFER in place of RADIO_PENDING (§9.2 bit 3). */
  OFFER: 1 << 3,
  /** §9.11 Not a decoder: the label stays in receive when told RADIO_WAIT (§9.2 bit 4). */
  WAIT: 1 << 4,
  /** §9.12 Not a decoder: after RADIO_OFFER the label listens for the rest of block 0 before it requests (§9.2 bit 5). */
  BURST: 1 << 5,
} as const;
export const LEGACY_LABEL_DECODERS = LabelDecoder.RLE | LabelDecoder.ZLIB;

/** §5.3 Why a label woke up (LABEL_CHECKIN / RADIO_CHECKIN). BOOT tells the edge that display memory may be lost. */
export const WakeReason = { TIMER: 0, BOOT: 1, BUTTON: 2, NFC: 3, FIRST_CONTACT: 4, WATCHDOG: 5, TRANSFER_DONE: 6 } as const;
export const WakeReasonSchema = z.nativeEnum(WakeReason);

/** §6.2 How an image payload is compressed. */
export const ImageEncoding = { RAW: 0, RLE: 1, ZLIB: 2, CTX: 3 } as const;
export const ImageEncodingSchema = z.nativeEnum(ImageEncoding);
/** Type of an encoding value (0 … 3), merged with the const so `ImageEncoding` names both (added for image-codec.ts). */
export type ImageEncoding = z.infer<typeof ImageEncodingSchema>;

/** §6.3 What an image payload is relative to what the label shows. */
export const ImageKind = { FULL: 0, DELTA_XOR: 1, DELTA_REGION: 2 } as const;
export const ImageKindSchema = z.nativeEnum(ImageKind);
/** Type of a kind value (0 | 1 | 2), merged with the const so `ImageKind` names both (added for image-codec.ts). */
export type ImageKind = z.infer<typeof ImageKindSchema>;

/** §7 Status / error codes carried by ACK, TRANSFER_RESULT and RADIO_XFER_DONE. 0 is success. */
export const StatusCode = {
  OK: 0x00,
  RETRY: 0x01,
  QUEUE_FULL: 0x02,
  INSUFFICIENT_BATTERY: 0x03,
  INVALID_PARAMETER: 0x04,
  UNKNOWN_LABEL: 0x05,
  UNSUPPORTED_VERSION: 0x06,
  UNSUPPORTED_FEATURE: 0x07,
  HASH_MISMATCH: 0x08,
  BASE_MISMATCH: 0x09,
  TIMEOUT: 0x0a,
  CANCELLED: 0x0b,
  BUSY: 0x0c,
  DECODE_ERROR: 0x0d,
  UNKNOWN_TRANSFER: 0x0e,
  /** §8 The receiver has no session with the sender (e.g. the edge restarted): the AP MUST send AP_HELLO again. */
  HELLO_REQUIRED: 0x0f,
  INTERNAL_ERROR: 0xff,
} as const;
export const StatusCodeSchema = z.nativeEnum(StatusCode);
export type StatusCodeValue = z.infer<typeof StatusCodeSchema>;

export const LedColour = { OFF: 0, RED: 1, GREEN: 2, BLUE: 3, WHITE: 4, YELLOW: 5 } as const;
export const Sensor = { TEMPERATURE: 0, BATTERY: 1, LIGHT: 2 } as const;
export const LabelCommandCode = { PING: 0, REBOOT: 1, REFRESH: 2, UNASSOCIATE: 3 } as const;

/** A rectangle on the panel, in pixels; x and width are multiples of 8 for DELTA_REGION (§6.3.2). */
export const RegionSchema = z.object({ x: u16, y: u16, width: u16, height: u16 });

/** §6.1 Description of one image transfer, shared by IMAGE_BEGIN (edge→AP) and RADIO_PENDING (AP→label). */
const transferDescriptor = {
  transferId: u32,
  labelId: LabelIdSchema,
  labelType: u8,
  kind: ImageKindSchema,
  encoding: ImageEncodingSchema,
  /** DELTA only: what the label must show now; otherwise BLANK_HASH. */
  baseHash: ContentHashSchema,
  /** What the label must show after applying the payload; the label checks it (§6.4). */
  targetHash: ContentHashSchema,
  /** Bytes of the (compressed) payload that follows in blocks. */
  totalSize: u32,
  /** DELTA_REGION only: the region the payload covers; else all zero. */
  region: RegionSchema,
  /** 0 = show as soon as received; else the epoch ms at which the label switches (timed display, §6.5). */
  displayAt: epochMs,
  page: u8,
};

// ---- §4 edge → AP ---------------------------------------------------------------------------------
export const EdgeHelloSchema = z.object({
  type: z.literal('EDGE_HELLO'),
  /** The protocol version the edge chose from the AP's range (§8). */
  version: u8,
  serverTimeMs: epochMs,
  heartbeatIntervalS: u16,
  /** §5.3 The AP forwards an unchanged TIMER check-in at most this often per label; any change at once. */
  checkinReportIntervalS: u16,
});
export const ImageBeginSchema = z.object({ type: z.literal('IMAGE_BEGIN'), ...transferDescriptor, priority: u8 });
export const ImageBlockSchema = z.object({
  type: z.literal('IMAGE_BLOCK'),
  transferId: u32,
  blockIndex: u16,
  data: bytes(4096),
});
export const ImageCancelSchema = z.object({ type: z.literal('IMAGE_CANCEL'), transferId: u32 });
export const LedFlashSchema = z.object({
  type: z.literal('LED_FLASH'),
  labelId: LabelIdSchema,
  colour: u8,
  onMs: u16,
  offMs: u16,
  repeat: u8,
});
export const PageSwitchSchema = z.object({ type: z.literal('PAGE_SWITCH'), labelId: LabelIdSchema, page: u8, durationS: u16 });
export const ReadSensorSchema = z.object({ type: z.literal('READ_SENSOR'), labelId: LabelIdSchema, sensor: u8 });
export const LabelCommandSchema = z.object({ type: z.literal('LABEL_COMMAND'), labelId: LabelIdSchema, command: u8 });

// ---- §4 both directions -----------------------------------------------------------------------------
/** §7.1 Acknowledges the frame with sequence number `ackSeq`; a non-zero status is a NACK. */
export const AckSchema = z.object({ type: z.literal('ACK'), ackSeq: u16, status: StatusCodeSchema });

// ---- §5 AP → edge -----------------------------------------------------------------------------------
export const ApHelloSchema = z.object({
  type: z.literal('AP_HELLO'),
  apId: shortString(32),
  fwVersion: shortString(16),
  protoMin: u8,
  protoMax: u8,
  capabilities: u32,
  channel: u8,
  queueCapacity: u16,
  maxBlockSize: u16,
});
export const ApHeartbeatSchema = z.object({
  type: z.literal('AP_HEARTBEAT'),
  uptimeS: u32,
  queueDepth: u16,
  queueCapacity: u16,
  channel: u8,
  labelsSeen: u16,
});
export const LabelCheckinSchema = z.object({
  type: z.literal('LABEL_CHECKIN'),
  labelId: LabelIdSchema,
  labelType: u8,
  /** §5.3 The hash the label computed over what its panel shows now — not the last transfer. */
  displayedHash: ContentHashSchema,
  page: u8,
  batteryMv: u16,
  rssi: i8,
  lqi: u8,
  temperatureC: i8,
  wakeReason: WakeReasonSchema,
  /** Transfers the AP still holds for this label (so the edge does not re-send them). */
  pendingTransferId: u32,
  /** §5.3 LabelDecoder bits the label announced; absent = a label of before §6.6 (LEGACY_LABEL_DECODERS). */
  decoders: u8.optional(),
});
export const TransferResultSchema = z.object({
  type: z.literal('TRANSFER_RESULT'),
  transferId: u32,
  labelId: LabelIdSchema,
  status: StatusCodeSchema,
  displayedHash: ContentHashSchema,
  bytesOnAir: u32,
});
export const SensorValueSchema = z.object({
  type: z.literal('SENSOR_VALUE'),
  labelId: LabelIdSchema,
  sensor: u8,
  value: i32,
});

// ---- §9 radio link, AP ↔ label (implemented by AP firmware and by the simulator) ---------------------
export const RadioCheckinSchema = z.object({
  type: z.literal('RADIO_CHECKIN'),
  labelId: LabelIdSchema,
  labelType: u8,
  displayedHash: ContentHashSchema,
  page: u8,
  batteryMv: u16,
  temperatureC: i8,
  wakeReason: WakeReasonSchema,
  /** §9.2 LabelDecoder bits; labels of before §6.6 do not send the byte. */
  decoders: u8.optional(),
});
export const RadioPendingSchema = z.object({ type: z.literal('RADIO_PENDING'), ...transferDescriptor });
export const RadioBlockRequestSchema = z.object({
  type: z.literal('RADIO_BLOCK_REQUEST'),
  transferId: u32,
  blockIndex: u16,
  /** One bit per part of the block, LSB of byte 0 = part 0; a set bit = "send me this part" (§9.4). */
  partsWanted: bytes(8),
});
export const RadioPartSchema = z.object({
  type: z.literal('RADIO_PART'),
  transferId: u32,
  blockIndex: u16,
  partIndex: u8,
  data: bytes(99),
});
export const RadioXferDoneSchema = z.object({
  type: z.literal('RADIO_XFER_DONE'),
  transferId: u32,
  status: StatusCodeSchema,
  displayedHash: ContentHashSchema,
});
export const RadioCommandSchema = z.object({
  type: z.literal('RADIO_COMMAND'),
  /** One of LED_FLASH, PAGE_SWITCH, READ_SENSOR, LABEL_COMMAND, carried unchanged (§9.6). */
  command: z.discriminatedUnion('type', [LedFlashSchema, PageSwitchSchema, ReadSensorSchema, LabelCommandSchema]),
});
/**
 * §9.10 RADIO_OFFER: the transfer descriptor without what the radio link already knows (labelId: the frame is
 * addressed by the label's EUI-64; labelType: the AP checked it against the check-in), fields at their zero value
 * left out (flags), and part 0 of block 0 inline. Every field is present in the message; the codec leaves zeros
 * off the wire (message-codec.ts, RADIO_OFFER_FLAGS).
 */
export const RadioOfferSchema = z.object({
  type: z.literal('RADIO_OFFER'),
  transferId: u32,
  kind: ImageKindSchema,
  encoding: ImageEncodingSchema,
  baseHash: ContentHashSchema,
  targetHash: ContentHashSchema,
  totalSize: u32,
  region: RegionSchema,
  displayAt: epochMs,
  page: u8,
  /**
   * Part 0 of block 0 (§9.4): the first min(totalSize, 99) payload bytes, or nothing (the codec checks the length
   * against totalSize: a discriminated union cannot hold a refined schema).
   */
  data: bytes(99),
});
/** §9.7 Ends an exchange; carries the AP's clock so labels can honour timed display (§6.5). */
export const RadioSleepSchema = z.object({ type: z.literal('RADIO_SLEEP'), nextWakeS: u16, nowMs: epochMs });
/**
 * §9.11 The channel is busy but will be free soon: keep listening for up to waitMs (from the end of this frame),
 * the AP starts the label's transfer within it (RADIO_PENDING / RADIO_OFFER). Only to labels with decoders bit 4.
 */
export const RadioWaitSchema = z.object({ type: z.literal('RADIO_WAIT'), waitMs: u16 });

// ---- §4.8, §5.6 wake reports (capability WAKE_REPORT) --------------------------------------------------
/** §4.8 Switches the AP's wake reports on (every intervalMs, at least WAKE_REPORT_MIN_INTERVAL_MS) or off (0). */
export const WakeReportConfigSchema = z.object({ type: z.literal('WAKE_REPORT_CONFIG'), intervalMs: u16 });
/** §5.6 One label's exchange that ended with RADIO_SLEEP: when (relative to the report), how long it was awake, what it was told. */
export const WakeReportEntrySchema = z.object({
  labelId: LabelIdSchema,
  /** ms from the end of the RADIO_SLEEP the AP sent to the sending of this report (saturates at 65535). */
  agoMs: u16,
  /** ms from the label's RADIO_CHECKIN to that RADIO_SLEEP: the wake-up was agoMs + awakeMs before the report. */
  awakeMs: u16,
  /** RADIO_SLEEP.nextWakeS the AP told the label (§9.7). */
  nextWakeS: u16,
});
/** §5.6 At most this many entries per WAKE_REPORT (u8 count). */
export const WAKE_REPORT_MAX_ENTRIES = 255;
/** §4.8 An AP sends WAKE_REPORT at most this often, whatever the edge asks. */
export const WAKE_REPORT_MIN_INTERVAL_MS = 100;
export const WakeReportSchema = z.object({ type: z.literal('WAKE_REPORT'), entries: z.array(WakeReportEntrySchema).max(WAKE_REPORT_MAX_ENTRIES) });
export type WakeReportEntry = z.infer<typeof WakeReportEntrySchema>;

// ---- §4.9 work ahead (capability WORK_AHEAD) -----------------------------------------------------------
/** §4.9 A label the edge will have a transfer for, and when (ms after the frame's arrival) it should come back for it. */
export const WorkAheadEntrySchema = z.object({ labelId: LabelIdSchema, inMs: u16 });
/** §4.9 At most this many entries per WORK_AHEAD (u8 count). */
export const WORK_AHEAD_MAX_ENTRIES = 255;
/**
 * §4.9 Appointments for labels the edge has work ahead for: when one checks in and the AP holds nothing for it, the
 * AP tells it to come back at its appointment rather than after a full sleep.
 */
export const WorkAheadSchema = z.object({ type: z.literal('WORK_AHEAD'), entries: z.array(WorkAheadEntrySchema).max(WORK_AHEAD_MAX_ENTRIES) });
export type WorkAheadEntry = z.infer<typeof WorkAheadEntrySchema>;

export const MessageSchema = z.discriminatedUnion('type', [
  EdgeHelloSchema,
  ImageBeginSchema,
  ImageBlockSchema,
  ImageCancelSchema,
  LedFlashSchema,
  PageSwitchSchema,
  ReadSensorSchema,
  LabelCommandSchema,
  AckSchema,
  ApHelloSchema,
  ApHeartbeatSchema,
  LabelCheckinSchema,
  TransferResultSchema,
  SensorValueSchema,
  RadioCheckinSchema,
  RadioPendingSchema,
  RadioBlockRequestSchema,
  RadioPartSchema,
  RadioXferDoneSchema,
  RadioCommandSchema,
  RadioSleepSchema,
  RadioOfferSchema,
  RadioWaitSchema,
  WakeReportConfigSchema,
  WakeReportSchema,
  WorkAheadSchema,
]);
export type Message = z.infer<typeof MessageSchema>;
export type MessageName = Message['type'];
export type MessageOf<T extends MessageName> = Extract<Message, { type: T }>;

/** §4 Message type codes: edge→AP 0x01–0x1F, both ways 0x20, AP→edge 0x40–0x5F, radio 0x80–0x9F. */
export const MessageTypeCode: Record<MessageName, number> = {
  EDGE_HELLO: 0x01,
  IMAGE_BEGIN: 0x02,
  IMAGE_BLOCK: 0x03,
  IMAGE_CANCEL: 0x04,
  LED_FLASH: 0x05,
  PAGE_SWITCH: 0x06,
  READ_SENSOR: 0x07,
  LABEL_COMMAND: 0x08,
  ACK: 0x20,
  AP_HELLO: 0x40,
  AP_HEARTBEAT: 0x41,
  LABEL_CHECKIN: 0x42,
  TRANSFER_RESULT: 0x43,
  SENSOR_VALUE: 0x44,
  RADIO_CHECKIN: 0x80,
  RADIO_PENDING: 0x81,
  RADIO_BLOCK_REQUEST: 0x82,
  RADIO_PART: 0x83,
  RADIO_XFER_DONE: 0x84,
  RADIO_COMMAND: 0x85,
  RADIO_SLEEP: 0x86,
  RADIO_OFFER: 0x87,
  RADIO_WAIT: 0x88,
  // §4.8, §5.6 wake reports (capability WAKE_REPORT)
  WAKE_REPORT_CONFIG: 0x09,
  WAKE_REPORT: 0x45,
  // §4.9 work ahead (capability WORK_AHEAD)
  WORK_AHEAD: 0x0a,
};

/** §3.1 A frame: header fields plus one message. */
export interface Frame<M extends Message = Message> {
  /** Protocol version of this frame (§8); hello frames are always version 1. */
  version: number;
  /** u16 sequence number of the sender on this link (§7.2). */
  seq: number;
  /** §3.1 flags: bit 0 = the sender wants an ACK for this frame. */
  ackRequested: boolean;
  message: M;
}

export const PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS = { min: 1, max: 1 } as const;
