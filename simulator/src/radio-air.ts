/**
 * Puts frames on the air: encodes them with the protocol codec, charges their air time (radio-model.ts) and
 * delivers what survives the medium to the receiver when the last bit has arrived.
 */
import { FRAME_OVERHEAD, PROTOCOL_VERSION, encodeFrame, type Frame, type Message } from '#protocol';
import { airTimeMs, type RadioModel } from './radio-model.js';
import type { RadioMedium } from './radio-medium.js';
import type { SimClock } from './sim-clock.js';

export interface Transmission {
  /** Simulated time at which the frame has been received (or lost). */
  endAt: number;
  /** Encoded frame size, header and CRC included. */
  bytes: number;
}

export class RadioAir {
  constructor(
    readonly clock: SimClock,
    readonly model: RadioModel,
    readonly medium: RadioMedium,
  ) {}

  /** Air time of a frame whose payload (frame minus header and CRC) is `payloadBytes`. */
  frameAirMs(payloadBytes: number): number {
    return airTimeMs(this.model, payloadBytes);
  }

  /** Sends `message` as a radio frame (radio frames never request ACKs, §9) starting at `startAt`. */
  send(message: Message, seq: number, startAt: number, deliver: (bytes: Uint8Array) => void): Transmission {
    const frame: Frame = { version: PROTOCOL_VERSION, seq, ackRequested: false, message };
    const bytes = encodeFrame(frame);
    const endAt = Math.max(startAt, this.clock.now()) + airTimeMs(this.model, bytes.length - FRAME_OVERHEAD);
    for (const copy of this.medium.transmit(bytes)) this.clock.schedule(endAt, () => deliver(copy));
    return { endAt, bytes: bytes.length };
  }
}
