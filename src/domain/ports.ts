/**
 * The ports through which the domain talks to the outside (hexagonal): the domain defines them, the transport
 * layer implements them, the daemon wires them (docs/architecture.md). The domain never imports a transport.
 */
import type { EncodedImage, Message, MessageOf, StatusCodeValue } from '#protocol';

/** Sends protocol messages to access points, whatever carries them (MQTT, serial). */
export interface ApGateway {
  /**
   * Sends one message to an AP and resolves with the status of its ACK (protocol §7.1); rejects with an EdgeError
   * AP_OFFLINE or AP_ACK_TIMEOUT.
   */
  send(apId: string, message: Message): Promise<StatusCodeValue>;
}

/** What the transports deliver to the domain. Returning resolves the ACK status for frames that asked for one. */
export interface ApInbound {
  apHello(apId: string, hello: MessageOf<'AP_HELLO'>, protocolVersion: number): Promise<void>;
  apHeartbeat(apId: string, hb: MessageOf<'AP_HEARTBEAT'>): Promise<void>;
  apOffline(apId: string): Promise<void>;
  labelCheckin(apId: string, msg: MessageOf<'LABEL_CHECKIN'>): Promise<StatusCodeValue>;
  transferResult(apId: string, msg: MessageOf<'TRANSFER_RESULT'>): Promise<StatusCodeValue>;
  sensorValue(apId: string, msg: MessageOf<'SENSOR_VALUE'>): Promise<StatusCodeValue>;
  /** §5.6 The wake-ups the AP heard since its last report (no ACK: a lost report costs predictions only). */
  wakeReport?(apId: string, msg: MessageOf<'WAKE_REPORT'>): Promise<void>;
}

/**
 * D148 One delta to encode (protocol §6.6.1, `chooseEncoding`): the picture to send, the one the label shows, and for
 * whom. Pure CPU work, bytes in and bytes out, so it may run on another thread.
 */
export interface DeltaJob {
  target: Uint8Array;
  base: Uint8Array;
  /** LabelType id (§3.2) of both pictures. */
  labelType: number;
  /** ApCapability bits of the label's AP (§5.1). */
  apCapabilities: number;
  /** The label's §5.3 decoder bits (null: never announced). */
  decoders: number | null;
  /** §3.4 The pictures' hashes, which name them (D149: the encoder does not hash them again). */
  targetHash: string;
  baseHash: string;
}

/**
 * Encodes deltas off the event loop (the render worker pool, D148): one settled result per job, in order, each
 * byte for byte what `chooseEncoding` returns on the main thread.
 */
export interface DeltaEncoder {
  encodeDeltas(jobs: readonly DeltaJob[]): Promise<PromiseSettledResult<EncodedImage>[]>;
}
