import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAME_MAGIC, Framer, MAX_FRAME_SIZE, ProtocolError, crc32, encodeFrame, type Frame, type FramerOutput } from '../src/index.js';
import { frameArb, smallFrameArb } from './arbitraries.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function collect(outputs: FramerOutput[]): FramerOutput {
  return {
    frames: outputs.flatMap((o) => o.frames),
    errors: outputs.flatMap((o) => o.errors),
    discardedBytes: outputs.reduce((n, o) => n + o.discardedBytes, 0),
  };
}

/** Noise, half of the time dense with magic bytes followed by plausible length fields (false starts). */
const garbageArb = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constant(FRAME_MAGIC), fc.integer({ min: 0, max: 16 })), { maxLength: 24 }).map((a) => Uint8Array.from(a)),
);

const ack = (seq: number): Frame => ({ version: 1, seq, ackRequested: false, message: { type: 'ACK', ackSeq: seq, status: 0 } });

describe('Framer', () => {
  it('delivers a frame pushed in one chunk and one pushed byte by byte', () => {
    const f = ack(7);
    const bytes = encodeFrame(f);
    expect(new Framer().push(bytes)).toEqual({ frames: [f], errors: [], discardedBytes: 0 });
    const framer = new Framer();
    const outs = [...bytes].map((b) => framer.push(Uint8Array.of(b)));
    expect(collect(outs)).toEqual({ frames: [f], errors: [], discardedBytes: 0 });
    expect(framer.bufferedBytes).toBe(0);
  });

  it('discards noise before a frame and counts it', () => {
    const out = new Framer().push(concat([Uint8Array.of(1, 2, 3, FRAME_MAGIC, 0), encodeFrame(ack(1))]));
    expect(out.frames).toEqual([ack(1)]);
    expect(out.discardedBytes).toBe(5);
  });

  it('drops only the magic byte of a candidate with a bad CRC and finds the frame inside it', () => {
    // A false start whose length covers the real frame: the CRC fails, the scan resumes one byte later.
    const real = encodeFrame(ack(2));
    const fake = Uint8Array.of(FRAME_MAGIC, 1, 0x20, 0, 0, 0, real.length - 4 + 2, 0);
    const out = new Framer().push(concat([fake, real, new Uint8Array(10)]));
    expect(out.frames).toEqual([ack(2)]);
    expect(out.errors.map((e) => e.code)).toContain('FRAME_BAD_CRC');
    expect(out.discardedBytes).toBe(fake.length + 10);
  });

  it('does not stall behind a false magic with a large length: resynchronises to a complete valid frame', () => {
    const fake = Uint8Array.of(FRAME_MAGIC, 1, 0x20, 0, 0, 0, 0xa0, 0x0f); // claims 4000 bytes
    const framer = new Framer();
    const out = framer.push(concat([fake, encodeFrame(ack(3))]));
    expect(out.frames).toEqual([ack(3)]);
    expect(out.discardedBytes).toBe(fake.length);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('resynchronises past an oversize length at once', () => {
    const out = new Framer().push(concat([Uint8Array.of(FRAME_MAGIC, 1, 0x20, 0, 0, 0, 0xff, 0xff), encodeFrame(ack(4))]));
    expect(out.frames).toEqual([ack(4)]);
    expect(out.errors[0]?.code).toBe('FRAME_OVERSIZE');
    expect(out.discardedBytes).toBe(8);
  });

  it('consumes a CRC-valid frame of an unknown type whole and reports it', () => {
    const unknown = Uint8Array.of(FRAME_MAGIC, 1, 0x3f, 1, 9, 0, 3, 0, FRAME_MAGIC, 1, 0x20, 0, 0, 0, 0);
    new DataView(unknown.buffer).setUint32(11, crc32(unknown.subarray(0, 11)), true);
    const out = new Framer().push(concat([unknown, encodeFrame(ack(5))]));
    expect(out.frames).toEqual([ack(5)]);
    expect(out.errors.map((e) => e.code)).toEqual(['MSG_UNKNOWN_TYPE']);
    expect(out.errors[0]?.details).toMatchObject({ seq: 9, ackRequested: true });
    expect(out.discardedBytes).toBe(unknown.length);
  });

  it('flush() ends the stream: an incomplete frame is noise, frames behind it are still found', () => {
    const framer = new Framer();
    const partial = encodeFrame(ack(6)).subarray(0, 9);
    expect(framer.push(partial).frames).toEqual([]);
    expect(framer.bufferedBytes).toBe(9);
    const out = framer.flush();
    expect(out.frames).toEqual([]);
    expect(out.discardedBytes).toBe(9);
    expect(out.errors[0]?.code).toBe('FRAME_TRUNCATED');
    expect(framer.bufferedBytes).toBe(0);
  });

  it('keeps no reference to the caller’s chunk', () => {
    const framer = new Framer();
    const bytes = Buffer.from(encodeFrame(ack(8)));
    framer.push(bytes.subarray(0, 10));
    bytes.fill(0, 0, 10); // serialport reuses its buffers
    expect(framer.push(bytes.subarray(10)).frames).toEqual([ack(8)]);
  });

  it('frames split at every boundary, with garbage between them, come out intact with discarded bytes counted exactly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbageArb, smallFrameArb), { minLength: 1, maxLength: 4 }),
        garbageArb,
        (pairs, tail) => {
          const parts = pairs.flatMap(([garbage, f]) => [garbage, encodeFrame(f)]);
          const stream = concat([...parts, tail]);
          const garbage = pairs.reduce((n, [g]) => n + g.length, 0) + tail.length;
          for (let k = 0; k <= stream.length; k++) {
            const framer = new Framer();
            const out = collect([framer.push(stream.subarray(0, k)), framer.push(stream.subarray(k)), framer.flush()]);
            expect(out.frames).toEqual(pairs.map(([, f]) => f));
            expect(out.discardedBytes).toBe(garbage);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('any chunking of a stream gives the same frames and discarded count', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbageArb, frameArb), { minLength: 1, maxLength: 3 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
        (pairs, sizes) => {
          const stream = concat(pairs.flatMap(([g, f]) => [g, encodeFrame(f)]));
          const framer = new Framer();
          const outs: FramerOutput[] = [];
          for (let at = 0, i = 0; at < stream.length; i++) {
            const n = sizes[i % sizes.length]!;
            outs.push(framer.push(stream.subarray(at, at + n)));
            at += n;
            expect(framer.bufferedBytes).toBeLessThan(MAX_FRAME_SIZE);
          }
          outs.push(framer.flush());
          const out = collect(outs);
          expect(out.frames).toEqual(pairs.map(([, f]) => f));
          expect(out.discardedBytes).toBe(pairs.reduce((n, [g]) => n + g.length, 0));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never throws, accounts for every byte and stays bounded on arbitrary input and mutated frames', () => {
    const chunk = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => (x & 3 ? x : FRAME_MAGIC))), // magic-dense noise
      fc.tuple(smallFrameArb, fc.nat(), fc.boolean()).map(([f, at, cut]) => {
        const b = encodeFrame(f);
        b[at % b.length]! ^= 1 << (at % 8);
        return cut ? b.subarray(0, at % b.length) : b;
      }),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 20 }), (chunks) => {
        const framer = new Framer();
        const outs: FramerOutput[] = [];
        for (const c of chunks) {
          outs.push(framer.push(c));
          expect(framer.bufferedBytes).toBeLessThan(MAX_FRAME_SIZE);
        }
        outs.push(framer.flush());
        const out = collect(outs);
        for (const e of out.errors) expect(e).toBeInstanceOf(ProtocolError);
        const delivered = out.frames.reduce((n, f) => n + encodeFrame(f).length, 0);
        expect(delivered + out.discardedBytes).toBe(chunks.reduce((n, c) => n + c.length, 0));
      }),
      { numRuns: 300 },
    );
  });
});
