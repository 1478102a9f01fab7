/**
 * The ports through which the domain talks to the outside (hexagonal): the domain defines them, the transport
 * layer implements them, the daemon wires them (docs/architecture.md). The domain never imports a transport.
 */
import type { Message, MessageOf, StatusCodeValue } from '#protocol';

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
