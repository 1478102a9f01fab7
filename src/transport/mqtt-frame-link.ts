/**
 * APs on MQTT (protocol §11): one binary frame per message, QoS 1, on esl/{chain}/{store}/ap/{apId}/up|down, and
 * the retained status "online"/"offline" (the AP's last will) on .../status.
 */
import type { MqttClient } from 'mqtt';
import { apTopics, decodeFrame, encodeFrame, parseApTopic, type Frame } from '#protocol';
import type { Logger } from '../core/logger.js';
import type { FrameLink, FrameSink } from './frame-link.js';

export class MqttFrameLink implements FrameLink {
  readonly name = 'mqtt';
  readonly reliable = true;
  private sink: FrameSink | null = null;
  private readonly onMessage = (topic: string, payload: Buffer) => this.handle(topic, payload);

  constructor(
    private readonly client: MqttClient,
    private readonly chain: string,
    private readonly store: string,
    private readonly log: Logger,
  ) {}

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    this.client.on('message', this.onMessage);
    const root = `esl/${this.chain}/${this.store}/ap/+`;
    await this.client.subscribeAsync([`${root}/up`, `${root}/status`], { qos: 1 });
  }

  private handle(topic: string, payload: Buffer): void {
    const t = parseApTopic(topic);
    if (!t || t.chain !== this.chain || t.store !== this.store || !this.sink) return;
    if (t.dir === 'status') {
      if (payload.toString('utf8') === 'offline') this.sink.linkDown(this, t.apId);
      return;
    }
    if (t.dir !== 'up') return;
    this.sink.frame(this, t.apId, decodeFrame(new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)));
  }

  async send(apId: string, frame: Frame): Promise<void> {
    await this.client.publishAsync(apTopics(this.chain, this.store, apId).down, Buffer.from(encodeFrame(frame)), { qos: 1 });
  }

  async stop(): Promise<void> {
    this.client.off('message', this.onMessage);
    this.sink = null;
    this.log.debug({ evt: 'aplink.stopped', link: this.name }, 'AP link stopped');
  }
}
