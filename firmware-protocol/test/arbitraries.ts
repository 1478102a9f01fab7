/**
 * fast-check arbitraries for every message, derived from the wire ranges of the schemas in messages.ts
 * (u8/i8/u16/u32/i32/epoch-ms bounds, enum values, string and bytes limits). fc.integer biases towards the
 * bounds, so minimum and maximum values are exercised on every run.
 */
import fc from 'fast-check';
import {
  BLANK_HASH,
  ImageEncoding,
  ImageKind,
  StatusCode,
  SUPPORTED_VERSIONS,
  WakeReason,
  type Frame,
  type Message,
  type MessageName,
} from '../src/index.js';

export const u8 = fc.integer({ min: 0, max: 0xff });
export const i8 = fc.integer({ min: -128, max: 127 });
export const u16 = fc.integer({ min: 0, max: 0xffff });
export const u32 = fc.integer({ min: 0, max: 0xffffffff });
export const i32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
export const epochMs = fc.oneof(fc.maxSafeNat(), fc.integer({ min: 1_700_000_000_000, max: 2_000_000_000_000 }));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const labelId = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => hex(b).toUpperCase());
export const contentHash = fc.oneof(fc.constant(BLANK_HASH), fc.uint8Array({ minLength: 8, maxLength: 8 }).map(hex));
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Well-formed strings of at most `max` UTF-8 bytes, ASCII and beyond (umlauts, CJK, emoji, U+FEFF). */
export const shortString = (max: number) =>
  fc
    .oneof(fc.string({ unit: 'grapheme', maxLength: max }), fc.string({ unit: 'binary', maxLength: max }), fc.constant('\uFEFFbom'))
    .filter((s) => Buffer.byteLength(s, 'utf8') <= max && !LONE_SURROGATE.test(s));
export const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const enumOf = <T extends Record<string, number>>(o: T) => fc.constantFrom(...(Object.values(o) as T[keyof T][]));
export const kind = enumOf(ImageKind);
export const encoding = enumOf(ImageEncoding);
export const status = enumOf(StatusCode);
export const wakeReason = enumOf(WakeReason);
export const region = fc.record({ x: u16, y: u16, width: u16, height: u16 });

const descriptor = {
  transferId: u32,
  labelId,
  labelType: u8,
  kind,
  encoding,
  baseHash: contentHash,
  targetHash: contentHash,
  totalSize: u32,
  region,
  displayAt: epochMs,
  page: u8,
};

const ledFlash = fc.record({ type: fc.constant('LED_FLASH' as const), labelId, colour: u8, onMs: u16, offMs: u16, repeat: u8 });
const pageSwitch = fc.record({ type: fc.constant('PAGE_SWITCH' as const), labelId, page: u8, durationS: u16 });
const readSensor = fc.record({ type: fc.constant('READ_SENSOR' as const), labelId, sensor: u8 });
const labelCommand = fc.record({ type: fc.constant('LABEL_COMMAND' as const), labelId, command: u8 });

/** One arbitrary per message type; the Record type makes a missing type a compile error. */
export const messageArbitraries: { [K in MessageName]: fc.Arbitrary<Extract<Message, { type: K }>> } = {
  EDGE_HELLO: fc.record({ type: fc.constant('EDGE_HELLO'), version: u8, serverTimeMs: epochMs, heartbeatIntervalS: u16, checkinReportIntervalS: u16 }),
  IMAGE_BEGIN: fc.record({ type: fc.constant('IMAGE_BEGIN'), ...descriptor, priority: u8 }),
  IMAGE_BLOCK: fc.record({
    type: fc.constant('IMAGE_BLOCK'),
    transferId: u32,
    blockIndex: u16,
    data: fc.oneof({ weight: 4, arbitrary: bytes(300) }, { weight: 1, arbitrary: fc.uint8Array({ minLength: 4096, maxLength: 4096 }) }),
  }),
  IMAGE_CANCEL: fc.record({ type: fc.constant('IMAGE_CANCEL'), transferId: u32 }),
  LED_FLASH: ledFlash,
  PAGE_SWITCH: pageSwitch,
  READ_SENSOR: readSensor,
  LABEL_COMMAND: labelCommand,
  ACK: fc.record({ type: fc.constant('ACK'), ackSeq: u16, status }),
  AP_HELLO: fc.record({
    type: fc.constant('AP_HELLO'),
    apId: shortString(32),
    fwVersion: shortString(16),
    protoMin: u8,
    protoMax: u8,
    capabilities: u32,
    channel: u8,
    queueCapacity: u16,
    maxBlockSize: u16,
  }),
  AP_HEARTBEAT: fc.record({ type: fc.constant('AP_HEARTBEAT'), uptimeS: u32, queueDepth: u16, queueCapacity: u16, channel: u8, labelsSeen: u16 }),
  LABEL_CHECKIN: fc.record({
    type: fc.constant('LABEL_CHECKIN'),
    labelId,
    labelType: u8,
    displayedHash: contentHash,
    page: u8,
    batteryMv: u16,
    rssi: i8,
    lqi: u8,
    temperatureC: i8,
    wakeReason,
    pendingTransferId: u32,
    // §5.3 the optional last byte: absent (a label of before §6.6) or present
    decoders: u8,
  }, { requiredKeys: ['type', 'labelId', 'labelType', 'displayedHash', 'page', 'batteryMv', 'rssi', 'lqi', 'temperatureC', 'wakeReason', 'pendingTransferId'] }),
  TRANSFER_RESULT: fc.record({ type: fc.constant('TRANSFER_RESULT'), transferId: u32, labelId, status, displayedHash: contentHash, bytesOnAir: u32 }),
  SENSOR_VALUE: fc.record({ type: fc.constant('SENSOR_VALUE'), labelId, sensor: u8, value: i32 }),
  RADIO_CHECKIN: fc.record({
    type: fc.constant('RADIO_CHECKIN'),
    labelId,
    labelType: u8,
    displayedHash: contentHash,
    page: u8,
    batteryMv: u16,
    temperatureC: i8,
    wakeReason,
    decoders: u8,
  }, { requiredKeys: ['type', 'labelId', 'labelType', 'displayedHash', 'page', 'batteryMv', 'temperatureC', 'wakeReason'] }),
  RADIO_PENDING: fc.record({ type: fc.constant('RADIO_PENDING'), ...descriptor }),
  RADIO_BLOCK_REQUEST: fc.record({ type: fc.constant('RADIO_BLOCK_REQUEST'), transferId: u32, blockIndex: u16, partsWanted: bytes(8) }),
  RADIO_PART: fc.record({ type: fc.constant('RADIO_PART'), transferId: u32, blockIndex: u16, partIndex: u8, data: bytes(99) }),
  RADIO_XFER_DONE: fc.record({ type: fc.constant('RADIO_XFER_DONE'), transferId: u32, status, displayedHash: contentHash }),
  RADIO_COMMAND: fc.record({ type: fc.constant('RADIO_COMMAND'), command: fc.oneof(ledFlash, pageSwitch, readSensor, labelCommand) }),
  RADIO_SLEEP: fc.record({ type: fc.constant('RADIO_SLEEP'), nextWakeS: u16, nowMs: epochMs }),
  RADIO_WAIT: fc.record({ type: fc.constant('RADIO_WAIT'), waitMs: u16 }),
  // §9.10 Zero-valued optional fields are left off the wire, so zeros are drawn often; data is part 0 or nothing.
  RADIO_OFFER: fc
    .record({
      transferId: u32,
      kind,
      encoding,
      baseHash: contentHash,
      targetHash: contentHash,
      totalSize: fc.oneof(fc.integer({ min: 0, max: 300 }), u16, u32),
      region: fc.oneof(fc.constant({ x: 0, y: 0, width: 0, height: 0 }), region),
      displayAt: fc.oneof(fc.constant(0), epochMs),
      page: fc.oneof(fc.constant(0), u8),
      inline: fc.boolean(),
      fill: fc.uint8Array({ minLength: 99, maxLength: 99 }),
    })
    .map(({ inline, fill, ...o }) => ({ type: 'RADIO_OFFER' as const, ...o, data: inline ? fill.slice(0, Math.min(o.totalSize, 99)) : new Uint8Array(0) })),
  // §4.8, §5.6 wake reports
  WAKE_REPORT_CONFIG: fc.record({ type: fc.constant('WAKE_REPORT_CONFIG'), intervalMs: u16 }),
  WAKE_REPORT: fc.record({
    type: fc.constant('WAKE_REPORT'),
    entries: fc.array(fc.record({ labelId, agoMs: u16, awakeMs: u16, nextWakeS: u16 }), { maxLength: 255 }),
  }),
  // §4.9 work ahead
  WORK_AHEAD: fc.record({
    type: fc.constant('WORK_AHEAD'),
    entries: fc.array(fc.record({ labelId, inMs: u16 }), { maxLength: 255 }),
  }),
};

export const messageArb: fc.Arbitrary<Message> = fc.oneof(...(Object.values(messageArbitraries) as fc.Arbitrary<Message>[]));

export const frameOf = <M extends Message>(message: fc.Arbitrary<M>): fc.Arbitrary<Frame<M>> =>
  fc.record({
    version: fc.integer({ min: SUPPORTED_VERSIONS.min, max: SUPPORTED_VERSIONS.max }),
    seq: u16,
    ackRequested: fc.boolean(),
    message,
  });

export const frameArb = frameOf(messageArb);
/** Frames without the 4 kB blocks, for tests that do per-byte work on streams of several frames. */
export const smallFrameArb = frameOf(fc.oneof(...(Object.entries(messageArbitraries).filter(([k]) => k !== 'IMAGE_BLOCK').map(([, a]) => a) as fc.Arbitrary<Message>[])));
