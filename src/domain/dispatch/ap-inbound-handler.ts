/**
 * Routes what the APs report to the features that care: the AP registry (hello, heartbeat, offline) and the
 * dispatcher (check-ins, transfer results). The transport calls it through the ApInbound port.
 */
import { type MessageOf, StatusCode, type StatusCodeValue } from '#protocol';
import type { ApInbound } from '../ports.js';
import type { ApRegistry } from '../aps/ap-registry.js';
import type { Dispatcher } from './dispatcher.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import type { LabelStore } from '../labels/label-store.js';

export class ApInboundHandler implements ApInbound {
  constructor(
    private readonly deps: {
      aps: ApRegistry;
      dispatcher: Dispatcher;
      clock: Clock;
      log: Logger;
      /** The label-state owner: whether a label that checked in has something to plan. */
      labels: Pick<LabelStore, 'get'>;
      /**
       * A check-in made a label plannable (first contact tells its panel type, a new panel type): the planner looks.
       * Not called for the check-ins of labels with nothing to plan — nearly all of them in a store at rest, where a
       * planner pass per check-in cost two database reads each (D67).
       */
      onLabelSeen: () => void;
    },
  ) {}

  async apHello(apId: string, hello: MessageOf<'AP_HELLO'>, version: number): Promise<void> {
    await this.deps.aps.hello(apId, hello, version, this.deps.clock.now());
    await this.deps.dispatcher.apRestarted(apId);
  }

  async apHeartbeat(apId: string, hb: MessageOf<'AP_HEARTBEAT'>): Promise<void> {
    await this.deps.aps.heartbeat(apId, hb, this.deps.clock.now());
    this.deps.dispatcher.kick();
  }

  async apOffline(apId: string): Promise<void> {
    await this.deps.aps.offline(apId);
    this.deps.dispatcher.apOffline(apId);
  }

  async labelCheckin(apId: string, msg: MessageOf<'LABEL_CHECKIN'>): Promise<StatusCodeValue> {
    const status = await this.deps.dispatcher.labelCheckin(apId, msg);
    if ((this.deps.labels.get(msg.labelId)?.dirty ?? 0) > 0) this.deps.onLabelSeen();
    return status;
  }

  transferResult(apId: string, msg: MessageOf<'TRANSFER_RESULT'>): Promise<StatusCodeValue> {
    return this.deps.dispatcher.transferResult(apId, msg);
  }

  wakeReport(apId: string, msg: MessageOf<'WAKE_REPORT'>): Promise<void> {
    return this.deps.dispatcher.wakeReport(apId, msg);
  }

  async sensorValue(apId: string, msg: MessageOf<'SENSOR_VALUE'>): Promise<StatusCodeValue> {
    this.deps.log.info({ evt: 'label.sensor', apId, labelId: msg.labelId, sensor: msg.sensor, value: msg.value }, 'sensor value');
    return StatusCode.OK;
  }
}
