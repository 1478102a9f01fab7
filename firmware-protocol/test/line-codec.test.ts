import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError, decodeLine, encodeFrame, encodeLine, type Frame } from '../src/index.js';
import { frameArb } from './arbitraries.js';

const ack: Frame = { version: 1, seq: 0x1234, ackRequested: true, message: { type: 'ACK', ackSeq: 0x0102, status: 0 } };

describe('serial line codec (README.md §12)', () => {
  it('encodes "@" + base64 of the frame + "\\n"', () => {
    expect(encodeLine(ack)).toBe('@' + Buffer.from(encodeFrame(ack)).toString('base64') + '\n');
    expect(encodeLine(ack)).toBe('@5QEgATQSAwACAQAk6nHT\n');
  });

  it('round-trips every frame, with or without the line terminator', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        const line = encodeLine(f);
        expect(line.indexOf('\n')).toBe(line.length - 1);
        for (const l of [line, line.slice(0, -1), line.slice(0, -1) + '\r\n', line.slice(0, -1) + '\r']) {
          const r = decodeLine(l);
          expect(r.discardedChars).toBe(0);
          if (!r.ok) throw r.error;
          expect(r.frame).toEqual(f);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('discards and counts noise before the last "@"', () => {
    fc.assert(
      fc.property(frameArb, fc.string({ maxLength: 40 }).filter((s) => !s.includes('\n')), (f, noise) => {
        const r = decodeLine(noise + encodeLine(f));
        expect(r.discardedChars).toBe(noise.length);
        expect(r.ok && r.frame).toEqual(f);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['no marker', 'boot v1.2 ok', 12],
    ['empty line', '', 0],
    ['bad alphabet', '@5QEg*TQSAwACAQAk6nHT', 0],
    ['missing padding', '@5QEgATQSAwACAQAk6nH', 0],
    ['empty frame', '@\n', 0],
    ['space inside', 'x@5QEgATQS AwACAQAk6nHT', 1],
  ])('%s → LINE_BAD_ENCODING', (_name, line, discarded) => {
    const r = decodeLine(line);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('LINE_BAD_ENCODING');
    expect(r.discardedChars).toBe(discarded);
  });

  it('passes frame errors through (a corrupted but valid-base64 line → FRAME_BAD_CRC)', () => {
    const r = decodeLine('@5QEgATQSAwACAQAk6nHU');
    expect(!r.ok && r.error.code).toBe('FRAME_BAD_CRC');
  });

  it('never throws on arbitrary lines', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.base64String({ maxLength: 200 }).map((s) => '@' + s)), (line) => {
        const r = decodeLine(line);
        if (!r.ok) expect(r.error).toBeInstanceOf(ProtocolError);
        expect(r.discardedChars).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 1000 },
    );
  });
});
