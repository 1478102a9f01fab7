/**
 * D136: mqtt-packet caches the bytes of each remaining length (MQTT 3.1.1 §2.2.3) below 16,384 for the process's
 * life, each a slice of Node's shared 8 kB Buffer pool. Filled at start-up, every length lives in a handful of pool
 * slabs; filled one by one as a store's traffic brings new lengths, each pins the slab that was current then.
 */
import { describe, expect, it } from 'vitest';
import { generate, writeToStream } from 'mqtt-packet';
import { prepareMqttPacketWriter } from '../../src/transport/mqtt-client.js';

/** The chunk writeToStream writes for a PUBLISH's remaining length (its second write: header byte, then length). */
function lengthChunk(length: number, payload: Buffer): Buffer {
  const chunks: Buffer[] = [];
  const sink = { write: (c: Buffer) => (chunks.push(c), true), destroy: () => undefined } as unknown as Parameters<typeof writeToStream>[1];
  writeToStream({ cmd: 'publish', topic: 'x', payload: payload.subarray(0, length - 3), qos: 0, retain: false, dup: false }, sink);
  return chunks[1]!;
}

describe('mqtt-packet remaining-length cache (D136)', () => {
  it('after the fill, the lengths of packets written in any order amid other allocations sit in a few pool slabs', () => {
    prepareMqttPacketWriter();
    prepareMqttPacketWriter(); // a second call does nothing more
    const payload = Buffer.alloc(16_384);
    // A store's traffic: lengths in no order, other buffers allocated between them (which moves Node's pool on).
    let seed = 136;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const slabs = new Set<ArrayBufferLike>();
    const seen = new Map<number, Buffer>();
    let junk: Buffer[] = [];
    for (let k = 0; k < 20_000; k++) {
      const length = 3 + Math.floor(next() * (16_384 - 3));
      const chunk = lengthChunk(length, payload);
      slabs.add(chunk.buffer);
      if (seen.has(length)) expect(chunk).toBe(seen.get(length));
      seen.set(length, chunk);
      for (let j = 0; j < 20; j++) junk.push(Buffer.allocUnsafe(200));
      if (junk.length > 1_000) junk = [];
    }
    expect(seen.size).toBeGreaterThan(5_000);
    // 16,381 lengths × 8 bytes (the pool's alignment) fill ~16 slabs of 8 kB; filled one by one, thousands.
    expect(slabs.size).toBeLessThanOrEqual(40);
  });

  it('writes the same bytes as generate() for lengths of one, two and three bytes', () => {
    prepareMqttPacketWriter();
    for (const size of [0, 120, 124, 125, 16_380, 16_381, 20_000]) {
      const packet = { cmd: 'publish' as const, topic: 'x', payload: Buffer.alloc(size, 7), qos: 0 as const, retain: false, dup: false };
      const chunks: Buffer[] = [];
      const sink = { write: (c: Buffer | string) => (chunks.push(Buffer.from(c)), true), destroy: () => undefined } as unknown as Parameters<typeof writeToStream>[1];
      writeToStream(packet, sink);
      expect(Buffer.concat(chunks)).toEqual(generate(packet));
    }
  });
});
