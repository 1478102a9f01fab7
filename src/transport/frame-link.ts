/**
 * The one small interface every AP transport implements (protocol §11 MQTT, §12 serial): frames in, frames out,
 * addressed by AP id. Everything above it (sessions, ACKs, retries) is shared by all transports (ap-hub.ts).
 */
import type { DecodeResult, Frame } from '#protocol';

export interface FrameSink {
  /** A frame (or a decoding failure) arrived from an AP. */
  frame(link: FrameLink, apId: string, result: DecodeResult): void;
  /** The carrier says the AP is gone (MQTT last will "offline", serial port closed). */
  linkDown(link: FrameLink, apId: string): void;
}

export interface FrameLink {
  readonly name: string;
  /**
   * True when the carrier itself redelivers while connected (MQTT QoS 1); false for a serial line, where the
   * sender retransmits unacknowledged frames (§7.3).
   */
  readonly reliable: boolean;
  start(sink: FrameSink): Promise<void>;
  send(apId: string, frame: Frame): Promise<void>;
  stop(): Promise<void>;
}
