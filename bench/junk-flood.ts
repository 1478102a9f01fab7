/**
 * A bounded flood of malformed payloads against a running edge, over MQTT (QoS 1, a window of unacknowledged
 * publishes) and over HTTP (a few keep-alive connections): what any authenticated publisher on a store network can
 * send (issue 10, defect 6). Used by bench/flood.ts (100,000 payloads) and test/e2e/storage-flood.test.ts (fewer).
 */
import mqtt from 'mqtt';

export interface FloodResult {
  sent: number;
  seconds: number;
  /** Answers other than the expected refusal (HTTP 400 / MQTT PUBACK). */
  unexpected: number;
}

/** Not JSON: a brace, a quoted id, then filler up to `bytes`. Every payload differs (no de-duplication helps). */
export function junkPayload(i: number, bytes: number): Buffer {
  const head = `{"id":"junk-${i}", this is not json `;
  return Buffer.concat([Buffer.from(head), Buffer.alloc(Math.max(0, bytes - head.length), 0x41 + (i % 26))]);
}

export async function floodMqtt(opts: { url: string; username: string; password: string; topic: string; count: number; bytes: number; window?: number; offset?: number }): Promise<FloodResult> {
  const client = await mqtt.connectAsync(opts.url, { username: opts.username, password: opts.password, reconnectPeriod: 0, protocolVersion: 4, clean: true });
  const window = opts.window ?? 64;
  const t0 = performance.now();
  let next = 0;
  let unexpected = 0;
  const worker = async () => {
    while (next < opts.count) {
      const i = next++;
      await client.publishAsync(opts.topic, junkPayload((opts.offset ?? 0) + i, opts.bytes), { qos: 1 }).catch(() => unexpected++);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const seconds = (performance.now() - t0) / 1000;
  await client.endAsync();
  return { sent: opts.count, seconds, unexpected };
}

export async function floodHttp(opts: { baseUrl: string; token: string; count: number; bytes: number; concurrency?: number; offset?: number }): Promise<FloodResult> {
  const t0 = performance.now();
  let next = 0;
  let unexpected = 0;
  const worker = async () => {
    while (next < opts.count) {
      const i = next++;
      const res = await fetch(`${opts.baseUrl}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
        body: new Uint8Array(junkPayload((opts.offset ?? 0) + i, opts.bytes)),
      }).catch(() => null);
      if (!res || res.status !== 400) unexpected++;
      await res?.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return { sent: opts.count, seconds: (performance.now() - t0) / 1000, unexpected };
}
