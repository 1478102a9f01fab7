/**
 * Stage 2 of decoding (README.md §3–§9): the payload of a frame ⇄ a typed message.
 *
 * Every message is a fixed sequence of fields in the order of its zod schema (messages.ts). The layout table
 * below is the single source of both directions and of the byte tables in the spec. Integers are little-endian
 * (§3.2); a label id and a content hash are 8 raw bytes in the order they are written in hex (§3.3, §3.4);
 * short strings are a u8 byte length + UTF-8 (§3.5).
 *
 * Throws ProtocolError only; frame-codec.ts turns it into a DecodeResult.
 */
import { ProtocolError } from './errors.js';
import {
  ImageEncoding,
  ImageKind,
  MessageTypeCode,
  StatusCode,
  WakeReason,
  type Message,
  type MessageName,
  type MessageOf,
} from './messages.js';

/** How one field is written. */
type FieldCodec =
  | 'u8'
  | 'i8'
  | 'u16'
  | 'u32'
  | 'i32'
  /** u64 LE, epoch milliseconds; values above 2^53−1 are rejected (§3.2). */
  | 'u64'
  /** 8 raw bytes ⇄ 16 upper-case hex digits (§3.3). */
  | 'labelId'
  /** 8 raw bytes ⇄ 16 lower-case hex digits (§3.4). */
  | 'hash'
  /** 4 × u16: x, y, width, height (§6.3.2). */
  | 'region'
  /** u8 whose value must be one of the given set (else MSG_INVALID_FIELD). */
  | { enum: ReadonlySet<number> }
  /** u8 byte length + UTF-8, at most `max` bytes (§3.5). */
  | { str: number }
  /** u8 length + that many bytes, at most `max`. */
  | { lenBytes: number }
  /** All remaining bytes of the payload, at most `max` (IMAGE_BLOCK.data, RADIO_PART.data). */
  | { rest: number }
  /** u8 type code of an embedded command + its payload as the rest (RADIO_COMMAND, §9.6). */
  | 'command'
  /** A last u8 that older senders omit (§5.3, §9.2 decoders): absent on the wire = absent in the message. */
  | 'optU8'
  /** Everything of RADIO_OFFER after transferId: flags, format and the fields the flags announce (§9.10). */
  | 'offer'
  /** u8 count + that many entries of a fixed layout, at most `max` (WAKE_REPORT.entries, §5.6). */
  | { list: readonly (readonly [string, FieldCodec])[]; max: number };

const enumOf = (o: Record<string, number>): { enum: ReadonlySet<number> } => ({ enum: new Set(Object.values(o)) });
const KIND = enumOf(ImageKind);
const ENCODING = enumOf(ImageEncoding);
const STATUS = enumOf(StatusCode);
const WAKE = enumOf(WakeReason);

/** §6.1 The transfer descriptor shared by IMAGE_BEGIN and RADIO_PENDING (52 bytes). */
const DESCRIPTOR: [string, FieldCodec][] = [
  ['transferId', 'u32'],
  ['labelId', 'labelId'],
  ['labelType', 'u8'],
  ['kind', KIND],
  ['encoding', ENCODING],
  ['baseHash', 'hash'],
  ['targetHash', 'hash'],
  ['totalSize', 'u32'],
  ['region', 'region'],
  ['displayAt', 'u64'],
  ['page', 'u8'],
];

/** Field layout of every message's payload, in schema order (README.md §4–§9 byte tables). */
export const PAYLOAD_LAYOUT: Readonly<Record<MessageName, readonly (readonly [string, FieldCodec])[]>> = {
  EDGE_HELLO: [
    ['version', 'u8'],
    ['serverTimeMs', 'u64'],
    ['heartbeatIntervalS', 'u16'],
    ['checkinReportIntervalS', 'u16'],
  ],
  IMAGE_BEGIN: [...DESCRIPTOR, ['priority', 'u8']],
  IMAGE_BLOCK: [
    ['transferId', 'u32'],
    ['blockIndex', 'u16'],
    ['data', { rest: 4096 }],
  ],
  IMAGE_CANCEL: [['transferId', 'u32']],
  LED_FLASH: [
    ['labelId', 'labelId'],
    ['colour', 'u8'],
    ['onMs', 'u16'],
    ['offMs', 'u16'],
    ['repeat', 'u8'],
  ],
  PAGE_SWITCH: [
    ['labelId', 'labelId'],
    ['page', 'u8'],
    ['durationS', 'u16'],
  ],
  READ_SENSOR: [
    ['labelId', 'labelId'],
    ['sensor', 'u8'],
  ],
  LABEL_COMMAND: [
    ['labelId', 'labelId'],
    ['command', 'u8'],
  ],
  ACK: [
    ['ackSeq', 'u16'],
    ['status', STATUS],
  ],
  AP_HELLO: [
    ['apId', { str: 32 }],
    ['fwVersion', { str: 16 }],
    ['protoMin', 'u8'],
    ['protoMax', 'u8'],
    ['capabilities', 'u32'],
    ['channel', 'u8'],
    ['queueCapacity', 'u16'],
    ['maxBlockSize', 'u16'],
  ],
  AP_HEARTBEAT: [
    ['uptimeS', 'u32'],
    ['queueDepth', 'u16'],
    ['queueCapacity', 'u16'],
    ['channel', 'u8'],
    ['labelsSeen', 'u16'],
  ],
  LABEL_CHECKIN: [
    ['labelId', 'labelId'],
    ['labelType', 'u8'],
    ['displayedHash', 'hash'],
    ['page', 'u8'],
    ['batteryMv', 'u16'],
    ['rssi', 'i8'],
    ['lqi', 'u8'],
    ['temperatureC', 'i8'],
    ['wakeReason', WAKE],
    ['pendingTransferId', 'u32'],
    ['decoders', 'optU8'],
  ],
  TRANSFER_RESULT: [
    ['transferId', 'u32'],
    ['labelId', 'labelId'],
    ['status', STATUS],
    ['displayedHash', 'hash'],
    ['bytesOnAir', 'u32'],
  ],
  SENSOR_VALUE: [
    ['labelId', 'labelId'],
    ['sensor', 'u8'],
    ['value', 'i32'],
  ],
  RADIO_CHECKIN: [
    ['labelId', 'labelId'],
    ['labelType', 'u8'],
    ['displayedHash', 'hash'],
    ['page', 'u8'],
    ['batteryMv', 'u16'],
    ['temperatureC', 'i8'],
    ['wakeReason', WAKE],
    ['decoders', 'optU8'],
  ],
  RADIO_PENDING: DESCRIPTOR,
  RADIO_BLOCK_REQUEST: [
    ['transferId', 'u32'],
    ['blockIndex', 'u16'],
    ['partsWanted', { lenBytes: 8 }],
  ],
  RADIO_PART: [
    ['transferId', 'u32'],
    ['blockIndex', 'u16'],
    ['partIndex', 'u8'],
    ['data', { rest: 99 }],
  ],
  RADIO_XFER_DONE: [
    ['transferId', 'u32'],
    ['status', STATUS],
    ['displayedHash', 'hash'],
  ],
  RADIO_COMMAND: [['command', 'command']],
  RADIO_SLEEP: [
    ['nextWakeS', 'u16'],
    ['nowMs', 'u64'],
  ],
  RADIO_OFFER: [
    ['transferId', 'u32'],
    ['offer', 'offer'],
  ],
  RADIO_WAIT: [['waitMs', 'u16']],
  // §4.8, §5.6 wake reports (capability WAKE_REPORT)
  WAKE_REPORT_CONFIG: [['intervalMs', 'u16']],
  WAKE_REPORT: [
    [
      'entries',
      {
        list: [
          ['labelId', 'labelId'],
          ['agoMs', 'u16'],
          ['awakeMs', 'u16'],
          ['nextWakeS', 'u16'],
        ],
        max: 255,
      },
    ],
  ],
  // §4.9 work ahead (capability WORK_AHEAD)
  WORK_AHEAD: [
    [
      'entries',
      {
        list: [
          ['labelId', 'labelId'],
          ['inMs', 'u16'],
        ],
        max: 255,
      },
    ],
  ],
};

// ---- §9.10 RADIO_OFFER ---------------------------------------------------------------------------------------

/** §9.10 RADIO_OFFER.flags: which optional fields follow. Each is set exactly when its field is not zero. */
export const RADIO_OFFER_FLAGS = { BASE: 1 << 0, REGION: 1 << 1, DISPLAY_AT: 1 << 2, PAGE: 1 << 3, SIZE32: 1 << 4 } as const;
const OFFER_RESERVED_FLAGS = 0xe0;
/** §9.10 Image bytes a RADIO_OFFER carries at most: part 0 of block 0 (§9.4). */
export const RADIO_OFFER_MAX_DATA = 99;
/** §9.10 Payload bytes of a RADIO_OFFER before its data: 16 (FULL, nothing optional) … 43 (every field). */
export function radioOfferHeaderBytes(m: { baseHash: string; region: { x: number; y: number; width: number; height: number }; displayAt: number; page: number; totalSize: number }): number {
  const f = offerFlags(m);
  return (
    4 + 1 + 1 + 8 + ((f & RADIO_OFFER_FLAGS.SIZE32) !== 0 ? 4 : 2) +
    ((f & RADIO_OFFER_FLAGS.BASE) !== 0 ? 8 : 0) +
    ((f & RADIO_OFFER_FLAGS.REGION) !== 0 ? 8 : 0) +
    ((f & RADIO_OFFER_FLAGS.DISPLAY_AT) !== 0 ? 8 : 0) +
    ((f & RADIO_OFFER_FLAGS.PAGE) !== 0 ? 1 : 0)
  );
}

const BLANK_HASH_HEX = '0000000000000000';

function offerFlags(m: { baseHash: string; region: { x: number; y: number; width: number; height: number }; displayAt: number; page: number; totalSize: number }): number {
  const r = m.region;
  return (
    (m.baseHash !== BLANK_HASH_HEX ? RADIO_OFFER_FLAGS.BASE : 0) |
    (r.x !== 0 || r.y !== 0 || r.width !== 0 || r.height !== 0 ? RADIO_OFFER_FLAGS.REGION : 0) |
    (m.displayAt !== 0 ? RADIO_OFFER_FLAGS.DISPLAY_AT : 0) |
    (m.page !== 0 ? RADIO_OFFER_FLAGS.PAGE : 0) |
    (m.totalSize > 0xffff ? RADIO_OFFER_FLAGS.SIZE32 : 0)
  );
}

/** The data of an offer is part 0 of block 0 or nothing (§9.10); anything else is not an offer. */
function offerDataFits(dataLength: number, totalSize: number): boolean {
  return dataLength === 0 || dataLength === Math.min(totalSize, RADIO_OFFER_MAX_DATA);
}

/** The messages RADIO_COMMAND may carry (§9.6). */
export const RADIO_COMMAND_TYPES: readonly MessageName[] = ['LED_FLASH', 'PAGE_SWITCH', 'READ_SENSOR', 'LABEL_COMMAND'];

const NAME_BY_CODE = new Map<number, MessageName>(
  (Object.entries(MessageTypeCode) as [MessageName, number][]).map(([name, code]) => [code, name]),
);

/** The message name of a type code, or undefined for a code this version does not know. */
export function messageNameOf(typeCode: number): MessageName | undefined {
  return NAME_BY_CODE.get(typeCode);
}

const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is content and must survive a round trip.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const TWO_POW_32 = 0x1_0000_0000;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// ---- encode ----------------------------------------------------------------------------------------------

/**
 * The encoder's scratch buffer, shared by every encode and grown on demand. An encode runs synchronously from its
 * first field to its result and never starts another, so one buffer serves them all; each result is a copy of its
 * bytes. A fresh buffer and DataView per message, grown once for a 99-byte part, cost most of an encode (~9.5 µs of
 * a RADIO_PART's, most of it allocation) — and the simulator encodes every radio frame of thousands of labels (D139).
 */
let scratch = new Uint8Array(512);
let scratchView = new DataView(scratch.buffer);

class Writer {
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > scratch.length) {
      const next = new Uint8Array(Math.max(scratch.length * 2, at + n));
      next.set(scratch.subarray(0, at));
      scratch = next;
      scratchView = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }
  u8(v: number): void {
    scratchView.setUint8(this.reserve(1), v);
  }
  i8(v: number): void {
    scratchView.setInt8(this.reserve(1), v);
  }
  u16(v: number): void {
    scratchView.setUint16(this.reserve(2), v, true);
  }
  u32(v: number): void {
    scratchView.setUint32(this.reserve(4), v, true);
  }
  i32(v: number): void {
    scratchView.setInt32(this.reserve(4), v, true);
  }
  u64(v: number): void {
    this.u32(v % TWO_POW_32);
    this.u32(Math.floor(v / TWO_POW_32));
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length); // first: reserve may replace the scratch buffer
    scratch.set(b, at);
  }
  /** Hex digits as bytes (§3.3 ids, §3.4 hashes; writeFields has checked them: 16 digits of the field's case). */
  hex(s: string): void {
    const n = s.length >>> 1;
    const at = this.reserve(n);
    for (let i = 0; i < n; i++) scratch[at + i] = (nibble(s.charCodeAt(2 * i)) << 4) | nibble(s.charCodeAt(2 * i + 1));
  }
  result(): Uint8Array {
    return scratch.slice(0, this.length);
  }
}

/** The value of one hex digit's char code ('0'-'9', 'a'-'f', 'A'-'F'). */
const nibble = (c: number): number => (c <= 57 ? c - 48 : (c | 0x20) - 87);

/**
 * A field that does not fit its wire layout, found while writing: `path` from the message down to the field.
 * Internal to the encoder; write() turns it into ProtocolError MSG_INVALID.
 */
class FieldFault {
  constructor(
    readonly path: (string | number)[],
    readonly why: string,
  ) {}
}

const isInt = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
const LABEL_ID = /^[0-9A-F]{16}$/;
const HASH = /^[0-9a-f]{16}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The integer codecs: range and what a fault says. u64 is epoch milliseconds, exact up to 2^53−1 (§3.2). */
const INT_RANGE: Readonly<Record<string, readonly [number, number, string]>> = {
  u8: [0, 0xff, 'must be an integer 0–255 (u8)'],
  optU8: [0, 0xff, 'must be absent or an integer 0–255 (u8)'],
  i8: [-128, 127, 'must be an integer −128–127 (i8)'],
  u16: [0, 0xffff, 'must be an integer 0–65535 (u16)'],
  u32: [0, 0xffffffff, 'must be an integer 0–4294967295 (u32)'],
  i32: [-0x80000000, 0x7fffffff, 'must be an integer −2^31–2^31−1 (i32)'],
  u64: [0, Number.MAX_SAFE_INTEGER, 'must be an integer 0–2^53−1 (u64)'],
};

function checkInt(v: unknown, codec: string, name: string): number {
  const [lo, hi, why] = INT_RANGE[codec]!;
  if (!isInt(v, lo, hi)) throw new FieldFault([name], why);
  return v;
}

function checkRegion(v: unknown, name: string): { x: number; y: number; width: number; height: number } {
  if (!isObject(v)) throw new FieldFault([name], 'must be a region {x, y, width, height}');
  for (const k of ['x', 'y', 'width', 'height'] as const) if (!isInt(v[k], 0, 0xffff)) throw new FieldFault([name, k], INT_RANGE['u16']![2]);
  return v as { x: number; y: number; width: number; height: number };
}

function checkHex(v: unknown, codec: 'labelId' | 'hash', name: string): string {
  if (typeof v !== 'string' || !(codec === 'labelId' ? LABEL_ID : HASH).test(v)) {
    throw new FieldFault([name], codec === 'labelId' ? 'must be 16 upper-case hex digits (EUI-64, §3.3)' : 'must be 16 lower-case hex digits (§3.4)');
  }
  return v;
}

function checkEnum(v: unknown, values: ReadonlySet<number>, name: string): number {
  if (typeof v !== 'number' || !values.has(v)) throw new FieldFault([name], `must be one of ${[...values].join(', ')}`);
  return v;
}

function checkBytes(v: unknown, max: number, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new FieldFault([name], 'must be bytes (Uint8Array)');
  if (v.length > max) throw new FieldFault([name], `must be at most ${max} bytes`);
  return v;
}

/**
 * Writes `m`'s fields in layout order, checking each value against its field's wire range as it goes. The layout
 * is the single source of both directions, and MessageSchema's ranges are the wire ranges (messages.ts), so these
 * checks accept exactly what the schema accepts — without a zod parse per message, which was the largest allocation
 * of the simulator's wake-ups (D163). A property test holds the equivalence (firmware-protocol/test/
 * message-encode-checks.test.ts: encode refuses a message exactly when MessageSchema does).
 */
function writeFields(w: Writer, m: Record<string, unknown>, layout: readonly (readonly [string, FieldCodec])[]): void {
  for (const [name, codec] of layout) {
    const v = m[name];
    if (typeof codec === 'string') {
      switch (codec) {
        case 'u8':
          w.u8(checkInt(v, codec, name));
          break;
        case 'optU8':
          if (v !== undefined) w.u8(checkInt(v, codec, name));
          break;
        case 'i8':
          w.i8(checkInt(v, codec, name));
          break;
        case 'u16':
          w.u16(checkInt(v, codec, name));
          break;
        case 'u32':
          w.u32(checkInt(v, codec, name));
          break;
        case 'i32':
          w.i32(checkInt(v, codec, name));
          break;
        case 'u64':
          w.u64(checkInt(v, codec, name));
          break;
        case 'labelId':
        case 'hash':
          w.hex(checkHex(v, codec, name));
          break;
        case 'region': {
          const r = checkRegion(v, name);
          w.u16(r.x);
          w.u16(r.y);
          w.u16(r.width);
          w.u16(r.height);
          break;
        }
        case 'offer':
          writeOffer(w, m);
          break;
        case 'command': {
          // §9.6 RADIO_COMMAND carries one of the label commands, nothing else.
          if (!isObject(v) || !RADIO_COMMAND_TYPES.includes(v['type'] as MessageName)) {
            throw new FieldFault([name, 'type'], `must be one of ${RADIO_COMMAND_TYPES.join(', ')}`);
          }
          const inner = v as unknown as Message;
          w.u8(MessageTypeCode[inner.type]);
          try {
            writeFields(w, v, PAYLOAD_LAYOUT[inner.type]);
          } catch (e) {
            throw within(e, name);
          }
          break;
        }
      }
    } else if ('enum' in codec) {
      w.u8(checkEnum(v, codec.enum, name));
    } else if ('str' in codec) {
      if (typeof v !== 'string') throw new FieldFault([name], 'must be a string');
      // A lone UTF-16 surrogate has no UTF-8 form; it would silently become U+FFFD and break the round trip.
      if (LONE_SURROGATE.test(v)) throw new FieldFault([name], 'is not well-formed Unicode');
      const b = utf8Encoder.encode(v);
      if (b.length > codec.str) throw new FieldFault([name], `must be at most ${codec.str} UTF-8 bytes (§3.5)`);
      w.u8(b.length);
      w.bytes(b);
    } else if ('lenBytes' in codec) {
      const b = checkBytes(v, codec.lenBytes, name);
      w.u8(b.length);
      w.bytes(b);
    } else if ('list' in codec) {
      if (!Array.isArray(v)) throw new FieldFault([name], 'must be an array');
      if (v.length > codec.max) throw new FieldFault([name], `must have at most ${codec.max} entries`);
      w.u8(v.length);
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (!isObject(item)) throw new FieldFault([name, i], 'must be an object');
        try {
          writeFields(w, item, codec.list);
        } catch (e) {
          throw within(e, name, i);
        }
      }
    } else {
      w.bytes(checkBytes(v, codec.rest, name));
    }
  }
}

/** A fault from a field inside `name` (at `index` of a list): the field's place goes in front of its path. */
function within(e: unknown, name: string, index?: number): unknown {
  if (e instanceof FieldFault) {
    if (index !== undefined) e.path.unshift(index);
    e.path.unshift(name);
  }
  return e;
}

/** §9.10 flags, format, then the optional fields in table order, then the inline data. */
function writeOffer(w: Writer, m: Record<string, unknown>): void {
  for (const [name, codec] of OFFER_FIELDS) {
    const v = m[name];
    // The descriptor's fields are integers, hashes, a region and enums (kind, encoding).
    if (typeof codec !== 'string') {
      if ('enum' in codec) checkEnum(v, codec.enum, name);
    } else if (codec === 'hash') checkHex(v, codec, name);
    else if (codec === 'region') checkRegion(v, name);
    else checkInt(v, codec, name);
  }
  const data = checkBytes(m['data'], RADIO_OFFER_MAX_DATA, 'data');
  const o = m as unknown as MessageOf<'RADIO_OFFER'>;
  if (!offerDataFits(data.length, o.totalSize)) throw new FieldFault(['data'], 'must be empty or min(totalSize, 99) bytes (§9.10)');
  const f = offerFlags(o);
  w.u8(f);
  w.u8(o.kind | (o.encoding << 4));
  if ((f & RADIO_OFFER_FLAGS.BASE) !== 0) w.hex(o.baseHash);
  w.hex(o.targetHash);
  if ((f & RADIO_OFFER_FLAGS.SIZE32) !== 0) w.u32(o.totalSize);
  else w.u16(o.totalSize);
  if ((f & RADIO_OFFER_FLAGS.REGION) !== 0) {
    w.u16(o.region.x);
    w.u16(o.region.y);
    w.u16(o.region.width);
    w.u16(o.region.height);
  }
  if ((f & RADIO_OFFER_FLAGS.DISPLAY_AT) !== 0) w.u64(o.displayAt);
  if ((f & RADIO_OFFER_FLAGS.PAGE) !== 0) w.u8(o.page);
  w.bytes(data);
}

/**
 * §9.10 The fields of RADIO_OFFER after transferId that its flags and format carry: the transfer descriptor (§6.1)
 * without what the radio link already knows (labelId, labelType).
 */
const OFFER_FIELDS = DESCRIPTOR.filter(([name]) => name !== 'transferId' && name !== 'labelId' && name !== 'labelType');

/**
 * Encodes the payload of a message (without frame header and CRC). Every field is checked against its wire range
 * as it is written, so an out-of-range value never wraps silently on the wire: a bad input throws ProtocolError
 * MSG_INVALID naming the field.
 */
export function encodePayload(m: Message): Uint8Array {
  return write(m).result();
}

/**
 * The payload as encodePayload encodes it, inside a buffer with `before` free bytes ahead of it and `after` behind
 * it: the frame codec writes its header and CRC around it (§3.1), one allocation per frame (D139).
 */
export function encodePayloadWithin(m: Message, before: number, after: number): Uint8Array {
  const w = write(m);
  const n = w.length;
  const out = new Uint8Array(before + n + after);
  // Most payloads are a few dozen bytes: copied by hand, without a view of the scratch buffer per frame (D163).
  if (n <= 128) for (let i = 0; i < n; i++) out[before + i] = scratch[i]!;
  else out.set(scratch.subarray(0, n), before);
  return out;
}

/** Checks and writes `m`'s payload into the scratch buffer (valid until the next encode). */
function write(m: Message): Writer {
  const type: unknown = isObject(m) ? m['type'] : undefined;
  if (typeof type !== 'string' || !Object.hasOwn(PAYLOAD_LAYOUT, type)) {
    throw new ProtocolError('MSG_INVALID', `invalid ${String(type)} message`, { field: 'type', issues: [{ path: 'type', message: 'is not a message type of this protocol version' }] });
  }
  const w = new Writer();
  try {
    writeFields(w, m as unknown as Record<string, unknown>, PAYLOAD_LAYOUT[type as MessageName]);
  } catch (e) {
    if (!(e instanceof FieldFault)) throw e;
    const path = e.path.join('.');
    throw new ProtocolError('MSG_INVALID', `invalid ${type} message: ${path} ${e.why}`, { field: path, issues: [{ path, message: e.why }] });
  }
  return w;
}

// ---- decode ----------------------------------------------------------------------------------------------

class Reader {
  private readonly view: DataView;
  pos: number;
  /** Reads `src[start, end)`: the frame codec hands over the whole frame and the payload's place in it, no view of it (D163). */
  constructor(
    private readonly src: Uint8Array,
    private readonly type: MessageName,
    readonly start: number,
    private readonly end: number,
  ) {
    this.view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    this.pos = start;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  private take(n: number, field: string): number {
    if (this.pos + n > this.end) {
      throw new ProtocolError('MSG_BAD_LENGTH', `${this.type} payload too short at field ${field}`, {
        type: this.type,
        field,
        length: this.end - this.start,
      });
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(f: string): number {
    return this.view.getUint8(this.take(1, f));
  }
  i8(f: string): number {
    return this.view.getInt8(this.take(1, f));
  }
  u16(f: string): number {
    return this.view.getUint16(this.take(2, f), true);
  }
  u32(f: string): number {
    return this.view.getUint32(this.take(4, f), true);
  }
  i32(f: string): number {
    return this.view.getInt32(this.take(4, f), true);
  }
  /** Copies into a plain Uint8Array: the input may be a Buffer or a view into a larger frame. */
  bytes(n: number, f: string): Uint8Array {
    const at = this.take(n, f);
    return new Uint8Array(this.src.subarray(at, at + n));
  }
  /** §3.3, §3.4 An 8-byte id or hash as 16 hex digits, read in place (every check-in carries one of each). */
  hex8(upper: boolean, f: string): string {
    const at = this.take(8, f);
    const digits = upper ? HEX_UPPER : HEX_LOWER;
    let hex = '';
    for (let i = at; i < at + 8; i++) hex += digits[this.src[i]!]!;
    return hex;
  }
}

function invalid(type: MessageName, field: string, value: unknown, why: string): ProtocolError {
  return new ProtocolError('MSG_INVALID_FIELD', `${type}.${field} ${why}`, { type, field, value });
}

/** Two hex digits per byte value, lower and upper case: an 8-byte id or hash is eight lookups, not a Buffer (D139). */
const HEX_LOWER = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_UPPER = HEX_LOWER.map((h) => h.toUpperCase());

function hexOf(b: Uint8Array, upper: boolean): string {
  const digits = upper ? HEX_UPPER : HEX_LOWER;
  let hex = '';
  for (let i = 0; i < b.length; i++) hex += digits[b[i]!]!;
  return hex;
}

function readFields(r: Reader, type: MessageName, layout: readonly (readonly [string, FieldCodec])[]): Record<string, unknown> {
  const m: Record<string, unknown> = { type };
  for (const [name, codec] of layout) {
    if (typeof codec === 'string') {
      switch (codec) {
        case 'u8':
          m[name] = r.u8(name);
          break;
        case 'optU8':
          if (r.remaining > 0) m[name] = r.u8(name);
          break;
        case 'i8':
          m[name] = r.i8(name);
          break;
        case 'u16':
          m[name] = r.u16(name);
          break;
        case 'u32':
          m[name] = r.u32(name);
          break;
        case 'i32':
          m[name] = r.i32(name);
          break;
        case 'u64': {
          const lo = r.u32(name);
          const hi = r.u32(name);
          const v = hi * TWO_POW_32 + lo;
          if (!Number.isSafeInteger(v)) throw invalid(type, name, `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`, 'exceeds 2^53-1');
          m[name] = v;
          break;
        }
        case 'labelId':
          m[name] = r.hex8(true, name);
          break;
        case 'hash':
          m[name] = r.hex8(false, name);
          break;
        case 'region':
          m[name] = { x: r.u16(name), y: r.u16(name), width: r.u16(name), height: r.u16(name) };
          break;
        case 'offer':
          readOffer(r, m);
          break;
        case 'command': {
          const code = r.u8(name);
          const inner = NAME_BY_CODE.get(code);
          if (inner === undefined || !RADIO_COMMAND_TYPES.includes(inner)) throw invalid(type, name, code, 'is not a label command type');
          m[name] = readFields(r, inner, PAYLOAD_LAYOUT[inner]);
          break;
        }
      }
    } else if ('enum' in codec) {
      const v = r.u8(name);
      if (!codec.enum.has(v)) throw invalid(type, name, v, 'has an unknown value');
      m[name] = v;
    } else if ('str' in codec) {
      const n = r.u8(name);
      if (n > codec.str) throw invalid(type, name, n, `is longer than ${codec.str} bytes`);
      const b = r.bytes(n, name);
      try {
        m[name] = utf8Decoder.decode(b);
      } catch {
        throw invalid(type, name, hexOf(b, false), 'is not valid UTF-8');
      }
    } else if ('lenBytes' in codec) {
      const n = r.u8(name);
      if (n > codec.lenBytes) throw invalid(type, name, n, `is longer than ${codec.lenBytes} bytes`);
      m[name] = r.bytes(n, name);
    } else if ('list' in codec) {
      const n = r.u8(name);
      if (n > codec.max) throw invalid(type, name, n, `has more than ${codec.max} entries`);
      const items: Record<string, unknown>[] = [];
      for (let i = 0; i < n; i++) {
        const item = readFields(r, type, codec.list);
        delete item['type'];
        items.push(item);
      }
      m[name] = items;
    } else {
      if (r.remaining > codec.rest) {
        throw new ProtocolError('MSG_BAD_LENGTH', `${type}.${name} is longer than ${codec.rest} bytes`, {
          type,
          field: name,
          length: r.remaining,
        });
      }
      m[name] = r.bytes(r.remaining, name);
    }
  }
  return m;
}

/**
 * §9.10 The fields after transferId, checked in wire order: reserved flag bits, kind and encoding, then each
 * optional field, which MUST NOT be present holding its zero value (one encoding per offer), then the data.
 */
function readOffer(r: Reader, m: Record<string, unknown>): void {
  const type = 'RADIO_OFFER';
  const f = r.u8('flags');
  if ((f & OFFER_RESERVED_FLAGS) !== 0) throw invalid(type, 'flags', f, 'has reserved bits set');
  const format = r.u8('format');
  const kind = format & 0x0f;
  const encoding = format >> 4;
  if (!KIND.enum.has(kind)) throw invalid(type, 'kind', kind, 'has an unknown value');
  if (!ENCODING.enum.has(encoding)) throw invalid(type, 'encoding', encoding, 'has an unknown value');
  m['kind'] = kind;
  m['encoding'] = encoding;
  const present = (bit: number) => (f & bit) !== 0;
  const notZero = (field: string, zero: boolean): void => {
    if (zero) throw invalid(type, field, 0, 'is flagged present but zero');
  };
  m['baseHash'] = BLANK_HASH_HEX;
  if (present(RADIO_OFFER_FLAGS.BASE)) {
    m['baseHash'] = r.hex8(false, 'baseHash');
    notZero('baseHash', m['baseHash'] === BLANK_HASH_HEX);
  }
  m['targetHash'] = r.hex8(false, 'targetHash');
  if (present(RADIO_OFFER_FLAGS.SIZE32)) {
    m['totalSize'] = r.u32('totalSize');
    if ((m['totalSize'] as number) <= 0xffff) throw invalid(type, 'totalSize', m['totalSize'], 'fits 16 bits but is flagged SIZE32');
  } else {
    m['totalSize'] = r.u16('totalSize');
  }
  m['region'] = { x: 0, y: 0, width: 0, height: 0 };
  if (present(RADIO_OFFER_FLAGS.REGION)) {
    const region = { x: r.u16('region'), y: r.u16('region'), width: r.u16('region'), height: r.u16('region') };
    notZero('region', region.x === 0 && region.y === 0 && region.width === 0 && region.height === 0);
    m['region'] = region;
  }
  m['displayAt'] = 0;
  if (present(RADIO_OFFER_FLAGS.DISPLAY_AT)) {
    const lo = r.u32('displayAt');
    const hi = r.u32('displayAt');
    const v = hi * TWO_POW_32 + lo;
    if (!Number.isSafeInteger(v)) throw invalid(type, 'displayAt', `0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')}`, 'exceeds 2^53-1');
    notZero('displayAt', v === 0);
    m['displayAt'] = v;
  }
  m['page'] = 0;
  if (present(RADIO_OFFER_FLAGS.PAGE)) {
    m['page'] = r.u8('page');
    notZero('page', m['page'] === 0);
  }
  const n = r.remaining;
  if (!offerDataFits(n, m['totalSize'] as number)) {
    throw new ProtocolError('MSG_BAD_LENGTH', `RADIO_OFFER.data has ${n} bytes: not 0 and not min(totalSize, 99)`, { type, field: 'data', length: n });
  }
  m['data'] = r.bytes(n, 'data');
}

/**
 * Decodes the payload of a frame of type `typeCode`. Throws ProtocolError: MSG_UNKNOWN_TYPE for a code not in
 * MessageTypeCode, MSG_BAD_LENGTH when the payload is shorter or longer than the type's layout,
 * MSG_INVALID_FIELD for an unknown enum value, over-long or non-UTF-8 string, or a u64 above 2^53−1. The payload is
 * `payload[start, end)`, all of it by default (the frame codec passes the frame and the payload's place in it).
 */
export function decodePayload(typeCode: number, payload: Uint8Array, start = 0, end = payload.length): Message {
  const type = NAME_BY_CODE.get(typeCode);
  if (type === undefined) {
    throw new ProtocolError('MSG_UNKNOWN_TYPE', `unknown message type 0x${typeCode.toString(16).padStart(2, '0')}`, { typeCode });
  }
  const r = new Reader(payload, type, start, end);
  const m = readFields(r, type, PAYLOAD_LAYOUT[type]);
  if (r.remaining !== 0) {
    throw new ProtocolError('MSG_BAD_LENGTH', `${type} payload has ${r.remaining} bytes too many`, {
      type,
      length: end - start,
      expected: r.pos - start,
    });
  }
  // The layout satisfies MessageSchema by construction: readFields checks every width, enum, length and count that
  // the schema states, and ids and hashes are hex of 8 bytes. Re-checking every decoded message with zod cost a tenth
  // of the simulator's CPU (D152); the tests hold the promise instead — every message any fuzzed frame decodes to
  // must satisfy the schema (firmware-protocol/test/frame-codec.test.ts, "decodeFrame never throws").
  return m as unknown as Message;
}
