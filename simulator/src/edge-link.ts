/**
 * The link between a simulated AP and the edge: MQTT (mqtt-edge-link.ts, README §11) or a serial line
 * (serial-edge-link.ts, README §12). A link moves whole frames; the AP logic above it does ACKs, duplicate
 * detection and version handling the same way for both.
 */
import type { DecodeResult, Frame } from '#protocol';

export interface EdgeLinkHandlers {
  /** The link is (again) usable: the AP announces itself with AP_HELLO. */
  onUp(): void;
  /** The link went down without being asked to. */
  onDown(): void;
  /** A frame (or the reason it could not be decoded) arrived from the edge. */
  onFrame(result: DecodeResult): void;
}

export interface EdgeLink {
  readonly kind: 'mqtt' | 'serial';
  readonly connected: boolean;
  /** Connects; resolves once the link is up the first time, rejects when it cannot come up. */
  open(handlers: EdgeLinkHandlers): Promise<void>;
  send(frame: Frame): void;
  /** Cuts the link the way a power or network loss does (MQTT: no DISCONNECT, so the broker sends the will). */
  drop(): Promise<void>;
  /** Orderly shutdown (MQTT: retained "offline", then DISCONNECT). */
  close(): Promise<void>;
}

