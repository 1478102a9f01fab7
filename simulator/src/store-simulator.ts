/**
 * A simulated store: virtual APs that speak the real protocol to the edge over MQTT or a serial line, and
 * thousands of virtual labels behind them that speak the real radio protocol, with the radio and panel model of
 * the reference store (radio-model.ts). Tests, benchmarks, the demo and the `esl-sim` CLI drive it.
 */
import { z } from 'zod';
import { ApCapability, LabelIdSchema, SUPPORTED_VERSIONS, StatusCode, apTopics, decodeFrame, type ContentHash, type Message, type MessageName } from '#protocol';
import type { EdgeLink } from './edge-link.js';
import type { TransferRadioStats, LabelStats } from './label-stats.js';
import { MqttEdgeLink } from './mqtt-edge-link.js';
import { panelPng, wallPng } from './panel-png.js';
import { RadioAir } from './radio-air.js';
import { RadioMedium, type RadioMediumStats } from './radio-medium.js';
import { radioModel, type RadioModel } from './radio-model.js';
import { RealClock } from './real-clock.js';
import { seededRandom, type Random } from './rng.js';
import { SerialEdgeLink } from './serial-edge-link.js';
import type { SimClock } from './sim-clock.js';
import { silentLogger, type SimLogger } from './sim-logger.js';
import { SIM_AP_CAPABILITIES, VirtualAp, type ApFault, type VirtualApStats } from './virtual-ap.js';
import { VirtualLabel, type LabelEnvironment, type LabelPeer } from './virtual-label.js';
import type { ApRadioStats } from './ap-radio.js';
import { EslError } from '#contracts';

const apIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);

export const SimApOptionsSchema = z.object({
  apId: apIdSchema,
  username: z.string(),
  password: z.string(),
  transport: z.union([z.literal('mqtt'), z.object({ serialPath: z.string().min(1) })]).optional(),
  /** 802.15.4 channel announced in AP_HELLO (default 11). */
  channel: z.number().int().min(0).max(255).optional(),
  /** Staged transfers the AP holds (default 64). */
  queueCapacity: z.number().int().min(1).max(0xffff).optional(),
  /** MQTT client id (default: the apId, §11.3). Brokers shared by several stores need distinct ids. */
  clientId: z.string().min(1).max(64).optional(),
  /** §9.10 Serve RADIO_OFFER to labels that announce it (default true); false = an AP of before §9.10. */
  radioOffer: z.boolean().optional(),
  /** §5.6 The AP announces WAKE_REPORT (default true); false = an AP firmware of before wake reports. */
  wakeReport: z.boolean().optional(),
});

export const SimLabelOptionsSchema = z.object({
  labelId: LabelIdSchema,
  labelType: z.number().int().min(1).max(255),
  apId: apIdSchema,
  neighbourApId: apIdSchema.optional(),
  batteryMv: z.number().int().min(0).max(0xffff).optional(),
  /** §5.3 LabelDecoder bits the label announces (default: RLE, ZLIB and CTX); null = a label of before §6.6. */
  decoders: z.number().int().min(0).max(0xff).nullable().optional(),
});

export interface SimStoreOptions {
  brokerUrl: string;
  chain: string;
  store: string;
  aps: z.input<typeof SimApOptionsSchema>[];
  labels: z.input<typeof SimLabelOptionsSchema>[];
  radio?: Partial<RadioModel>;
  /** Default: real time at speed 1. */
  clock?: SimClock;
  seed?: number;
  logger?: SimLogger;
  /** First wake-ups are spread uniformly over this many ms from start (default: one wake interval). */
  startSpreadMs?: number;
}

export interface GroundTruth {
  labelId: string;
  labelType: number;
  /** Hash of what the panel physically shows (BLANK_HASH for a blank panel). */
  hash: ContentHash;
  /** What the panel shows, or null while blank. */
  planes: Uint8Array | null;
  page: number;
  batteryMv: number;
  updates: number;
  bytesOnAir: number;
  /** What the label would report in a check-in now (differs from `hash` during a refresh or after a reboot). */
  reportedHash: ContentHash;
  refreshes: number;
  transferRetries: number;
}

export interface SimStats {
  labels: number;
  /** Labels that accepted at least one image. */
  updated: number;
  bytesOnAir: number;
  framesLost: number;
  framesCorrupted: number;
  framesSent: number;
  framesDuplicated: number;
  /** Frames labels dropped because they failed decodeFrame (corruption caught by the CRC). */
  framesRejectedByLabels: number;
}

export interface SimProgress {
  labels: number;
  updated: number;
  pending: number;
  failed: number;
  /** Simulated time since start. */
  simulatedMs: number;
}

export class StoreSimulator {
  readonly clock: SimClock;
  readonly model: RadioModel;
  private readonly medium: RadioMedium;
  private readonly aps = new Map<string, VirtualAp>();
  private readonly labels = new Map<string, VirtualLabel>();
  private readonly ownClock: RealClock | undefined;
  private readonly random: Random;
  private readonly startedAt: number;
  private stopped = false;

  private constructor(
    private readonly opts: SimStoreOptions,
    private readonly logger: SimLogger,
  ) {
    const aps = opts.aps.map((a) => SimApOptionsSchema.parse(a));
    const labels = opts.labels.map((l) => SimLabelOptionsSchema.parse(l));
    this.model = radioModel(opts.radio);
    if (opts.clock === undefined) this.ownClock = new RealClock({ eventTime: true });
    this.clock = opts.clock ?? this.ownClock!;
    const random: Random = seededRandom(opts.seed ?? 1);
    this.medium = new RadioMedium({ frameLoss: this.model.frameLoss, corruption: this.model.corruption, duplication: this.model.duplication }, random);
    const air = new RadioAir(this.clock, this.model, this.medium);
    const env = { clock: this.clock, model: this.model, random, air };

    for (const a of aps) {
      if (this.aps.has(a.apId)) throw new EslError('SIM_INVALID_OPTIONS', `AP ${a.apId} listed twice`);
      const transport = a.transport ?? 'mqtt';
      const link: EdgeLink =
        transport === 'mqtt'
          ? new MqttEdgeLink({
              brokerUrl: opts.brokerUrl,
              username: a.username,
              password: a.password,
              topics: apTopics(opts.chain, opts.store, a.apId),
              clientId: a.clientId ?? a.apId,
              logger,
            })
          : new SerialEdgeLink({ path: transport.serialPath, logger, random });
      this.aps.set(
        a.apId,
        new VirtualAp({
          apId: a.apId,
          channel: a.channel ?? 11,
          queueCapacity: a.queueCapacity ?? 64,
          ...(a.wakeReport === false ? { capabilities: SIM_AP_CAPABILITIES & ~ApCapability.WAKE_REPORT } : {}),
          maxBlockSize: 4096,
          protoMin: SUPPORTED_VERSIONS.min,
          protoMax: SUPPORTED_VERSIONS.max,
          link,
          env,
          logger,
          radioOffer: a.radioOffer,
        }),
      );
    }
    const labelEnv: LabelEnvironment = { ...env, servingAp: (label) => this.servingAp(label) };
    for (const l of labels) {
      if (this.labels.has(l.labelId)) throw new EslError('SIM_INVALID_OPTIONS', `label ${l.labelId} listed twice`);
      if (!this.aps.has(l.apId)) throw new EslError('SIM_UNKNOWN_AP', `label ${l.labelId}: no AP ${l.apId}`);
      if (l.neighbourApId !== undefined && !this.aps.has(l.neighbourApId)) {
        throw new EslError('SIM_UNKNOWN_AP', `label ${l.labelId}: no neighbour AP ${l.neighbourApId}`);
      }
      this.labels.set(l.labelId, new VirtualLabel(l, labelEnv));
    }
    this.random = random;
    this.startedAt = this.clock.now();
  }

  /** Connects every AP (each sends AP_HELLO), then lets the labels wake up, spread over one wake interval. */
  static async start(opts: SimStoreOptions): Promise<StoreSimulator> {
    const sim = new StoreSimulator(opts, opts.logger ?? silentLogger);
    try {
      await Promise.all([...sim.aps.values()].map((ap) => ap.start()));
    } catch (e) {
      await sim.stop();
      throw e;
    }
    const spread = opts.startSpreadMs ?? sim.model.wakeIntervalMs;
    const now = sim.clock.now();
    for (const label of sim.labels.values()) label.start(now + sim.random() * spread);
    sim.logger.info({ evt: 'sim.started', chain: opts.chain, store: opts.store, aps: sim.aps.size, labels: sim.labels.size }, 'store simulator started');
    return sim;
  }

  // ---- ground truth ------------------------------------------------------------------------------------

  groundTruth(labelId: string): GroundTruth | undefined {
    const l = this.labels.get(labelId);
    if (l === undefined) return undefined;
    return {
      labelId,
      labelType: l.type.id,
      hash: l.display.panelHash,
      planes: l.display.panel,
      page: l.display.panelPage,
      batteryMv: l.batteryMv,
      updates: l.stats.updates,
      bytesOnAir: l.stats.bytesOnAir,
      reportedHash: l.display.reportedHash(),
      refreshes: l.stats.refreshes,
      transferRetries: l.stats.transferRetries,
    };
  }

  allGroundTruth(): GroundTruth[] {
    return [...this.labels.keys()].map((id) => this.groundTruth(id)!);
  }

  labelIds(): string[] {
    return [...this.labels.keys()];
  }

  /** Everything a label counted about itself. */
  labelStats(labelId: string): LabelStats | undefined {
    return this.labels.get(labelId)?.stats;
  }

  /** Radio statistics of the label's recent transfers (requests with the parts each asked for), newest last. */
  transferStats(labelId: string): readonly TransferRadioStats[] {
    return this.label(labelId).transfers;
  }

  apStats(apId: string): { ap: VirtualApStats; radio: ApRadioStats; staged: number; online: boolean } {
    const ap = this.ap(apId);
    return { ap: ap.stats, radio: ap.radio.stats, staged: ap.transfers.size, online: ap.online };
  }

  /** The simulated label itself (tests inspect its display and state). */
  label(labelId: string): VirtualLabel {
    const l = this.labels.get(labelId);
    if (l === undefined) throw new EslError('SIM_UNKNOWN_LABEL', `no label ${labelId}`);
    return l;
  }

  ap(apId: string): VirtualAp {
    const ap = this.aps.get(apId);
    if (ap === undefined) throw new EslError('SIM_UNKNOWN_AP', `no AP ${apId}`);
    return ap;
  }

  /** PNG of what the label's panel shows, decoded from the planes it received. */
  labelPng(labelId: string, scale = 1): Promise<Buffer> {
    const l = this.label(labelId);
    return panelPng({ type: l.type, planes: l.display.panel }, scale);
  }

  /** PNG mosaic of what every (or the listed) label shows. */
  storeWallPng(opts: { labelIds?: string[]; columns?: number } = {}): Promise<Buffer> {
    const ids = opts.labelIds ?? this.labelIds();
    const pictures = ids.map((id) => {
      const l = this.label(id);
      return { type: l.type, planes: l.display.panel };
    });
    return wallPng(pictures, opts.columns ?? Math.max(1, Math.ceil(Math.sqrt(pictures.length))));
  }

  // ---- faults ------------------------------------------------------------------------------------------

  /** AP offline / back (see VirtualAp.setOnline for the two kinds of fault; default: power loss). */
  async setApOnline(apId: string, online: boolean, fault: ApFault = 'power'): Promise<void> {
    await this.ap(apId).setOnline(online, fault);
    this.logger.info({ evt: 'sim.ap_fault', apId, online, fault }, online ? 'AP back online' : 'AP offline');
  }

  /** The AP loses the next `count` frames of `type` from the edge (see VirtualAp.loseFromEdge). */
  loseFromEdge(apId: string, type: MessageName, count = 1): void {
    this.ap(apId).loseFromEdge(type, count);
  }

  /** Frames of `type` from the edge that the AP lost by loseFromEdge. */
  lostFromEdge(apId: string, type: MessageName): number {
    return this.ap(apId).lostFromEdge.get(type) ?? 0;
  }

  /** The label's battery is at `mv` from now on. The AP forwards a 50 mV change at once (§5.3). */
  setLabelBattery(labelId: string, mv: number): void {
    this.label(labelId).setBattery(mv);
  }

  /** The label is moved into `toApId`'s area (see VirtualLabel.moveTo); returns the AP it hung at before. */
  moveLabel(labelId: string, toApId: string): { from: string } {
    const label = this.label(labelId);
    this.ap(toApId); // throws SIM_UNKNOWN_AP for an AP the store does not have
    const from = label.homeApId;
    label.moveTo(toApId);
    return { from };
  }

  rebootLabel(labelId: string): void {
    this.label(labelId).reboot();
  }

  setFrameLoss(p: number): void {
    this.medium.setFrameLoss(p);
  }

  /** Loses the next `count` radio frames whose message `match` accepts (RadioMedium.loseNext). */
  loseNextFrames(match: (message: Message) => boolean, count = 1): void {
    this.medium.loseNext((bytes) => {
      const d = decodeFrame(bytes);
      return d.ok && match(d.frame.message);
    }, count);
  }

  setCorruption(p: number): void {
    this.medium.setCorruption(p);
  }

  setDuplication(p: number): void {
    this.medium.setDuplication(p);
  }

  radioStats(): Readonly<RadioMediumStats> {
    return this.medium.stats;
  }

  stats(): SimStats {
    let updated = 0;
    let bytesOnAir = 0;
    let rejected = 0;
    for (const l of this.labels.values()) {
      if (l.stats.updates > 0) updated++;
      bytesOnAir += l.stats.bytesOnAir;
      rejected += l.stats.framesRejected;
    }
    const m = this.medium.stats;
    return {
      labels: this.labels.size,
      updated,
      bytesOnAir,
      framesLost: m.framesLost,
      framesCorrupted: m.framesCorrupted,
      framesSent: m.framesSent,
      framesDuplicated: m.framesDuplicated,
      framesRejectedByLabels: rejected,
    };
  }

  /**
   * Where the store stands: labels that accepted an image, labels with a transfer staged at an AP or half
   * received, and labels whose last transfer the label refused (BASE_MISMATCH, HASH_MISMATCH, …).
   */
  progress(): SimProgress {
    let updated = 0;
    let pending = 0;
    let failed = 0;
    for (const l of this.labels.values()) {
      if (l.stats.updates > 0) updated++;
      const staged = [l.homeApId, l.neighbourApId].some((id) => id !== undefined && (this.aps.get(id)?.transfers.forLabel(l.id).length ?? 0) > 0);
      if (staged || l.receiving) pending++;
      const last = l.transfers.at(-1);
      if (last?.status !== undefined && last.status !== StatusCode.OK) failed++;
    }
    return { labels: this.labels.size, updated, pending, failed, simulatedMs: this.clock.now() - this.startedAt };
  }

  /** Stops the labels and disconnects the APs in an orderly way (each leaves a retained "offline"). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const l of this.labels.values()) l.stop();
    await Promise.all([...this.aps.values()].map((ap) => ap.stop().catch(() => undefined)));
    this.ownClock?.stop();
    this.logger.info({ evt: 'sim.stopped' }, 'store simulator stopped');
  }

  private servingAp(label: VirtualLabel): LabelPeer | null {
    const home = this.aps.get(label.homeApId);
    if (home !== undefined && home.powerOn) return home.radio;
    const neighbour = label.neighbourApId === undefined ? undefined : this.aps.get(label.neighbourApId);
    if (neighbour !== undefined && neighbour.powerOn) return neighbour.radio;
    return null;
  }
}
