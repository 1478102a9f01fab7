import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FRAME_OVERHEAD,
  MAX_PAYLOAD,
  MessageSchema,
  MessageTypeCode,
  PAYLOAD_LAYOUT,
  ProtocolError,
  crc32,
  decodeFrame,
  decodePayload,
  encodeFrame,
  encodePayload,
  type Frame,
  type Message,
  type MessageName,
} from '../src/index.js';
import { frameArb, frameOf, messageArbitraries, smallFrameArb } from './arbitraries.js';

/** Every Uint8Array inside a decoded message is a plain Uint8Array, not a Buffer or a view of the frame. */
function plainBytes(m: Message): boolean {
  return Object.values(m).every((v) => {
    if (v instanceof Uint8Array) return Object.getPrototypeOf(v) === Uint8Array.prototype && v.byteOffset === 0 && v.buffer.byteLength === v.length;
    if (typeof v === 'object' && v !== null && 'type' in v) return plainBytes(v as Message);
    return true;
  });
}

function withCrc(header: number[], payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(FRAME_OVERHEAD + payload.length);
  b.set(header);
  b[6] = payload.length & 0xff;
  b[7] = payload.length >> 8;
  b.set(payload, 8);
  new DataView(b.buffer).setUint32(8 + payload.length, crc32(b.subarray(0, 8 + payload.length)), true);
  return b;
}

const FIXED_SIZE: Partial<Record<MessageName, number>> = {
  EDGE_HELLO: 13,
  IMAGE_BEGIN: 53,
  IMAGE_CANCEL: 4,
  LED_FLASH: 14,
  PAGE_SWITCH: 11,
  READ_SENSOR: 9,
  LABEL_COMMAND: 9,
  ACK: 3,
  AP_HEARTBEAT: 11,
  LABEL_CHECKIN: 28,
  TRANSFER_RESULT: 25,
  SENSOR_VALUE: 13,
  RADIO_CHECKIN: 22,
  RADIO_PENDING: 52,
  RADIO_XFER_DONE: 13,
  RADIO_SLEEP: 10,
  RADIO_WAIT: 2,
  WAKE_REPORT_CONFIG: 2,
};

describe('frame codec round trip (every message type)', () => {
  it('has a layout for every type code', () => {
    expect(Object.keys(PAYLOAD_LAYOUT).sort()).toEqual(Object.keys(MessageTypeCode).sort());
  });

  it.each(Object.keys(messageArbitraries) as MessageName[])('%s: decodeFrame(encodeFrame(f)) equals f', (name) => {
    fc.assert(
      fc.property(frameOf(messageArbitraries[name] as fc.Arbitrary<Message>), (f) => {
        expect(MessageSchema.safeParse(f.message).success).toBe(true); // the arbitrary stays inside the wire ranges
        const bytes = encodeFrame(f);
        const fixed = FIXED_SIZE[name];
        // §5.3, §9.2: the check-ins' optional last byte (decoders) adds one to the fixed size when present.
        const optional = (f.message as { decoders?: number }).decoders === undefined ? 0 : 1;
        if (fixed !== undefined) expect(bytes.length).toBe(FRAME_OVERHEAD + fixed + optional);
        // §5.6: a u8 count and 14 bytes per entry.
        if (f.message.type === 'WAKE_REPORT') expect(bytes.length).toBe(FRAME_OVERHEAD + 1 + 14 * f.message.entries.length);
        // §4.9: a u8 count and 10 bytes per entry.
        if (f.message.type === 'WORK_AHEAD') expect(bytes.length).toBe(FRAME_OVERHEAD + 1 + 10 * f.message.entries.length);
        const r = decodeFrame(bytes);
        if (!r.ok) throw r.error;
        expect(r.frame).toEqual(f);
        expect(plainBytes(r.frame.message)).toBe(true);
        expect(decodePayload(MessageTypeCode[name], encodePayload(f.message))).toEqual(f.message);
      }),
      { numRuns: 150 },
    );
  });

  it('decodes a payload in place, between start and end of a larger buffer (D163), with lengths relative to it', () => {
    fc.assert(
      fc.property(frameArb, fc.uint8Array({ maxLength: 9 }), fc.uint8Array({ minLength: 1, maxLength: 9 }), (f, before, after) => {
        const payload = encodePayload(f.message);
        const code = MessageTypeCode[f.message.type];
        const buf = Buffer.concat([before, payload, after]);
        const m = decodePayload(code, buf, before.length, before.length + payload.length);
        expect(m).toEqual(f.message);
        expect(plainBytes(m)).toBe(true);
        // The bytes after `end` are not the payload's: read to the buffer's end, they are too many or change the message.
        let beyond: unknown;
        try {
          beyond = decodePayload(code, buf, before.length, buf.length);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
        expect(beyond).not.toEqual(f.message);
        if (payload.length > 0) {
          try {
            decodePayload(code, buf, before.length, before.length + payload.length - 1);
          } catch (e) {
            expect((e as ProtocolError).code).toBe('MSG_BAD_LENGTH');
            // "payload too short" names the payload's length, not the buffer's (other length errors name their field's).
            if ((e as ProtocolError).message.includes('too short')) expect((e as ProtocolError).details?.['length']).toBe(payload.length - 1);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('every encoded frame and payload owns its bytes: later encodes of any size never change it (D139 shared scratch)', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 2, maxLength: 8 }), (frames) => {
        const frames1 = frames.map((f) => encodeFrame(f));
        const payloads1 = frames.map((f) => encodePayload(f.message));
        const snapshots = frames1.map((b) => Uint8Array.from(b));
        const payloadSnapshots = payloads1.map((b) => Uint8Array.from(b));
        // Encode them again in the other order, so a large payload follows a small one and the reverse.
        const frames2 = [...frames].reverse().map((f) => encodeFrame(f)).reverse();
        frames1.forEach((b, i) => {
          expect(b.byteOffset).toBe(0);
          expect(b.buffer.byteLength).toBe(b.length);
          expect(b).toEqual(snapshots[i]);
          expect(frames2[i]).toEqual(snapshots[i]);
          expect(payloads1[i]).toEqual(payloadSnapshots[i]);
          expect(b.subarray(8, b.length - 4)).toEqual(payloadSnapshots[i]);
        });
      }),
      { numRuns: 100 },
    );
  });

  it('a refused encode leaves nothing behind for the next one', () => {
    const good: Frame = { version: 1, seq: 513, ackRequested: true, message: { type: 'RADIO_PART', transferId: 7, blockIndex: 1, partIndex: 2, data: Uint8Array.of(1, 2, 3) } };
    const expected = encodeFrame(good);
    const bad = { ...good, message: { ...good.message, partIndex: 300 } } as Frame;
    expect(() => encodeFrame(bad)).toThrow(ProtocolError);
    expect(encodeFrame(good)).toEqual(expected);
    // §3.2 header little-endian: seq 513 = 0x0201.
    expect([...expected.subarray(0, 8)]).toEqual([0xe5, 1, MessageTypeCode.RADIO_PART, 1, 0x01, 0x02, 10, 0]);
  });

  it('decodes from a Buffer view at an odd offset, copying bytes fields out', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const bytes = encodeFrame(f);
        const pool = Buffer.alloc(bytes.length + 3);
        pool.set(bytes, 3);
        const r = decodeFrame(pool.subarray(3));
        if (!r.ok) throw r.error;
        expect(r.frame).toEqual(f);
        expect(plainBytes(r.frame.message)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('encodeFrame input validation', () => {
  const ack = { type: 'ACK', ackSeq: 1, status: 0 } as const;
  const cases: [string, unknown][] = [
    ['u8 field out of range', { version: 1, seq: 0, ackRequested: true, message: { type: 'LED_FLASH', labelId: '0011223344556677', colour: 256, onMs: 1, offMs: 1, repeat: 1 } }],
    ['lower-case label id', { version: 1, seq: 0, ackRequested: true, message: { type: 'READ_SENSOR', labelId: '00112233445566aa', sensor: 0 } }],
    ['unknown status', { version: 1, seq: 0, ackRequested: true, message: { type: 'ACK', ackSeq: 1, status: 0x42 } }],
    ['unknown type', { version: 1, seq: 0, ackRequested: true, message: { type: 'NOPE' } }],
    ['apId over 32 bytes', { version: 1, seq: 0, ackRequested: false, message: { type: 'AP_HELLO', apId: 'ä'.repeat(17), fwVersion: '', protoMin: 1, protoMax: 1, capabilities: 0, channel: 0, queueCapacity: 0, maxBlockSize: 0 } }],
    ['lone surrogate', { version: 1, seq: 0, ackRequested: false, message: { type: 'AP_HELLO', apId: 'a\uD800', fwVersion: '', protoMin: 1, protoMax: 1, capabilities: 0, channel: 0, queueCapacity: 0, maxBlockSize: 0 } }],
    ['block over 4096 bytes', { version: 1, seq: 0, ackRequested: true, message: { type: 'IMAGE_BLOCK', transferId: 1, blockIndex: 0, data: new Uint8Array(4097) } }],
    ['seq over u16', { version: 1, seq: 65536, ackRequested: true, message: ack }],
    ['version over u8', { version: 256, seq: 0, ackRequested: true, message: ack }],
    ['non-boolean ackRequested', { version: 1, seq: 0, ackRequested: 1, message: ack }],
  ];
  it.each(cases)('%s → MSG_INVALID', (_name, f) => {
    expect(() => encodeFrame(f as Frame)).toThrow(ProtocolError);
    try {
      encodeFrame(f as Frame);
    } catch (e) {
      expect((e as ProtocolError).code).toBe('MSG_INVALID');
    }
  });
});

describe('decodeFrame never throws', () => {
  const check = (bytes: Uint8Array) => {
    const r = decodeFrame(bytes);
    if (r.ok) {
      // decodePayload does not re-check with zod (D152): the layout must give schema-valid messages by construction.
      const parsed = MessageSchema.safeParse(r.frame.message);
      expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
      // Decoding is canonical: whatever decodes re-encodes to the same bytes.
      expect(Buffer.from(encodeFrame(r.frame)).equals(Buffer.from(bytes))).toBe(true);
    } else {
      expect(r.error).toBeInstanceOf(ProtocolError);
      expect(r.error.code).not.toBe('MSG_INVALID'); // reserved for encode input; on decode it would mean a bug
    }
  };

  it('on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => check(b)), { numRuns: 500 });
  });

  it('on frames with a valid CRC but arbitrary header fields and payload (stage 2 fuzzing)', () => {
    const codes = Object.values(MessageTypeCode);
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...codes), fc.integer({ min: 0, max: 255 })),
        fc.oneof(fc.constant(1), fc.integer({ min: 0, max: 255 })),
        fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 120 }),
        (type, version, flags, seq, payload) => check(withCrc([0xe5, version, type, flags, seq & 0xff, seq >> 8], payload)),
      ),
      { numRuns: 3000 },
    );
  });

  it('on valid frames with one bit flipped: always an error', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), (f, at) => {
        const bytes = encodeFrame(f);
        const bit = at % (bytes.length * 8);
        bytes[bit >> 3]! ^= 1 << (bit & 7);
        const r = decodeFrame(bytes);
        expect(r.ok).toBe(false);
        check(bytes);
      }),
      { numRuns: 500 },
    );
  });

  // D152's drift guard, type by type: a valid payload with bytes overwritten (CRC recomputed, so stage 2 sees it)
  // reaches the enum, hex, u64, length and count checks of every layout far more often than random payloads do.
  it.each(Object.keys(messageArbitraries) as MessageName[])('%s: payloads with overwritten bytes decode to schema-valid messages or fail', (name) => {
    fc.assert(
      fc.property(frameOf(messageArbitraries[name] as fc.Arbitrary<Message>), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (f, edits) => {
        const payload = encodePayload(f.message);
        if (payload.length === 0) return;
        for (const [at, v] of edits) payload[at % payload.length] = v;
        // The frame's own header up to its length field, which withCrc writes (§3).
        check(withCrc(Array.from(encodeFrame(f).subarray(0, 6)), payload));
      }),
      { numRuns: 100 },
    );
  });

  it('on truncated valid frames: FRAME_TRUNCATED', () => {
    fc.assert(
      fc.property(smallFrameArb, fc.nat(), (f, at) => {
        const bytes = encodeFrame(f);
        const r = decodeFrame(bytes.subarray(0, at % bytes.length));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.code).toBe('FRAME_TRUNCATED');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a length field above MAX_PAYLOAD before looking for the payload', () => {
    const b = withCrc([0xe5, 1, 0x03, 1, 0, 0], new Uint8Array(MAX_PAYLOAD + 1));
    const r = decodeFrame(b);
    expect(!r.ok && r.error.code).toBe('FRAME_OVERSIZE');
  });

  it('accepts a payload of exactly MAX_PAYLOAD bytes at the framing stage', () => {
    // 4200 bytes is no valid message (IMAGE_BLOCK holds at most 4102), so stage 2 rejects it — framing does not.
    const r = decodeFrame(withCrc([0xe5, 1, 0x03, 1, 0, 0], new Uint8Array(MAX_PAYLOAD)));
    expect(!r.ok && r.error.code).toBe('MSG_BAD_LENGTH');
  });

  it('puts the header into stage-2 errors so the receiver can NACK', () => {
    const r = decodeFrame(withCrc([0xe5, 2, 0x20, 1, 0x34, 0x12], Uint8Array.of(1, 0, 0)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.details).toMatchObject({ version: 2, typeCode: 0x20, seq: 0x1234, ackRequested: true });
  });
});
