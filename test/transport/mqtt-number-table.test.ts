/**
 * D87: the edge writes MQTT's 16-bit numbers (MQTT 3.1.1 §1.5.2: packet ids, string lengths) without mqtt-packet's
 * table of 65,536 pre-built Buffers, and the bytes on the wire are the same.
 */
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { generate, writeToStream } from 'mqtt-packet';
import { skipMqttNumberTable } from '../../src/transport/mqtt-client.js';

const require = createRequire(import.meta.url);

describe('mqtt-packet number table (D87)', () => {
  it('is never built, and a QoS 1 PUBLISH is written byte for byte as generate() builds it', async () => {
    skipMqttNumberTable();
    const packet = { cmd: 'publish' as const, topic: 'esl/bench/ref-1/ap/AP-1/down', payload: Buffer.from('abc'), qos: 1 as const, messageId: 0x1234, retain: false, dup: false };
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    writeToStream(packet, out);
    await new Promise((r) => setImmediate(r));
    const bytes = Buffer.concat(chunks);
    expect(bytes).toEqual(generate(packet));
    // Topic length and packet id, big-endian (§1.5.2, §3.3.2).
    expect(bytes.readUInt16BE(2)).toBe(packet.topic.length);
    expect(bytes.readUInt16BE(4 + packet.topic.length)).toBe(0x1234);
    const numbers = require('mqtt-packet/numbers') as { cache: Record<number, Buffer> };
    expect(Object.keys(numbers.cache)).toHaveLength(0);
    expect(writeToStream.cacheNumbers).toBe(false);
  });
});
