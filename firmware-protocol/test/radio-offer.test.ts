/**
 * §9.10 RADIO_OFFER: one encoding per offer (zero fields left off, flagged fields never zero), every byte string
 * either decodes to an offer that encodes back to exactly those bytes or is rejected with a codec error, the
 * descriptor survives offerOf / descriptorOfOffer, and §9.5.2's exchange figures are the spec's example.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BLANK_HASH,
  ProtocolError,
  RADIO_OFFER_FLAGS,
  boundCost,
  decodePayload,
  descriptorOfOffer,
  encodePayload,
  exchangeCost,
  offerOf,
  radioOfferHeaderBytes,
  type RadioDescriptor,
} from '../src/index.js';
import { contentHash, encoding, epochMs, kind, labelId, messageArbitraries, region, u16, u32, u8 } from './arbitraries.js';

const OFFER = 0x87;

describe('RADIO_OFFER codec (§9.10.2)', () => {
  it('fast-check: decode(encode(offer)) = offer, and the header is what radioOfferHeaderBytes says', () => {
    fc.assert(
      fc.property(messageArbitraries.RADIO_OFFER, (m) => {
        const bytes = encodePayload(m);
        expect(decodePayload(OFFER, bytes)).toEqual(m);
        expect(bytes.length).toBe(radioOfferHeaderBytes(m) + m.data.length);
      }),
      { numRuns: 2_000 },
    );
  });

  it('fast-check: any payload bytes either decode to an offer that encodes back to the same bytes, or fail with a codec error', () => {
    // Mostly well-formed prefixes (flags without reserved bits, a valid format) so the optional fields are reached.
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 160 }),
      fc
        .tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 0x1f }), fc.constantFrom(0x00, 0x31, 0x32, 0x21, 0x12, 0x03), fc.uint8Array({ maxLength: 150 }))
        .map(([id, flags, format, rest]) => Uint8Array.from([...id, flags, format, ...rest])),
    );
    let decoded = 0;
    fc.assert(
      fc.property(payload, (b) => {
        try {
          const m = decodePayload(OFFER, b);
          decoded++;
          expect(Buffer.from(encodePayload(m)).equals(Buffer.from(b))).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          expect(['MSG_BAD_LENGTH', 'MSG_INVALID_FIELD']).toContain((e as ProtocolError).code);
        }
      }),
      { numRuns: 5_000 },
    );
    expect(decoded).toBeGreaterThan(0);
  });

  it('leaves zero fields off the wire: 16 bytes of header for a FULL image on page 0 shown at once', () => {
    const m = { type: 'RADIO_OFFER' as const, transferId: 1, kind: 0 as const, encoding: 3 as const, baseHash: BLANK_HASH, targetHash: '0123456789abcdef', totalSize: 40, region: { x: 0, y: 0, width: 0, height: 0 }, displayAt: 0, page: 0, data: new Uint8Array(40) };
    const b = encodePayload(m);
    expect(b.length).toBe(16 + 40);
    expect(b[4]).toBe(0); // flags
    expect(b[5]).toBe(0x30); // kind FULL, encoding CTX
    const all = { ...m, baseHash: 'ffffffffffffffff', region: { x: 8, y: 1, width: 16, height: 2 }, displayAt: 1, page: 2, totalSize: 70_000, data: new Uint8Array(99) };
    expect(radioOfferHeaderBytes(all)).toBe(43);
    expect(encodePayload(all)[4]).toBe(RADIO_OFFER_FLAGS.BASE | RADIO_OFFER_FLAGS.REGION | RADIO_OFFER_FLAGS.DISPLAY_AT | RADIO_OFFER_FLAGS.PAGE | RADIO_OFFER_FLAGS.SIZE32);
  });

  it('refuses to encode data that is neither empty nor part 0 of block 0', () => {
    const m = { type: 'RADIO_OFFER' as const, transferId: 1, kind: 0 as const, encoding: 3 as const, baseHash: BLANK_HASH, targetHash: '0123456789abcdef', totalSize: 150, region: { x: 0, y: 0, width: 0, height: 0 }, displayAt: 0, page: 0, data: new Uint8Array(50) };
    expect(() => encodePayload(m)).toThrow(expect.objectContaining({ code: 'MSG_INVALID' }));
    expect(() => encodePayload({ ...m, data: new Uint8Array(99) })).not.toThrow();
    expect(() => encodePayload({ ...m, totalSize: 50 })).not.toThrow();
  });
});

describe('offerOf / descriptorOfOffer (§9.10.3, §9.10.4)', () => {
  const descriptor: fc.Arbitrary<RadioDescriptor> = fc.record({ transferId: u32, labelId, labelType: u8, kind, encoding, baseHash: contentHash, targetHash: contentHash, totalSize: u32, region, displayAt: epochMs, page: u8 });
  it('fast-check: the label rebuilds the descriptor the AP had, with its own id and type', () => {
    fc.assert(
      fc.property(descriptor, u16, (d, n) => {
        const part0 = new Uint8Array(Math.min(d.totalSize, 99, n));
        const data = part0.length === Math.min(d.totalSize, 99) ? part0 : new Uint8Array(0);
        const offer = decodePayload(OFFER, encodePayload(offerOf(d, data)));
        expect(descriptorOfOffer(offer as ReturnType<typeof offerOf>, d.labelId, d.labelType)).toEqual(d);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('exchange cost (§9.5.2)', () => {
  const delta = { baseHash: '3f1c9a2b4d5e6f70', region: { x: 64, y: 40, width: 96, height: 32 }, displayAt: 0, page: 0 };
  it('the spec example: a 113-byte 2.9" CTX delta, 300 byte-equivalents with RADIO_PENDING, 253 with RADIO_OFFER', () => {
    const pending = exchangeCost({ ...delta, totalSize: 113 }, false);
    const offer = exchangeCost({ ...delta, totalSize: 113 }, true);
    expect(pending).toEqual({ bytes: 260, frames: 5 });
    expect(offer).toEqual({ bytes: 221, frames: 4 });
    expect([boundCost(pending), boundCost(offer)]).toEqual([300, 253]);
  });
  it('a payload of up to 99 bytes: the offer and RADIO_XFER_DONE, nothing else', () => {
    expect(exchangeCost({ ...delta, totalSize: 63 }, true)).toEqual({ bytes: 12 + 32 + 63 + 25, frames: 2 });
    expect(exchangeCost({ ...delta, totalSize: 63 }, false)).toEqual({ bytes: 191, frames: 4 });
    expect(exchangeCost({ ...delta, totalSize: 0 }, true)).toEqual({ bytes: 12 + 32 + 25, frames: 2 });
  });
  it('several blocks: block 0 without part 0, then every other block requested whole', () => {
    // RAW 2.9": 9,472 bytes = 4,096 + 4,096 + 1,280 → 42 + 42 + 13 parts.
    const full = { baseHash: BLANK_HASH, region: { x: 0, y: 0, width: 0, height: 0 }, displayAt: 0, page: 0, totalSize: 9_472 };
    const p = exchangeCost(full, false);
    const o = exchangeCost(full, true);
    expect(p.frames).toBe(1 + 3 + 97 + 1);
    expect(o.frames).toBe(1 + 3 + 96 + 1);
    expect(p.bytes - o.bytes).toBe(64 + 19 - (12 + 16));
  });
});
