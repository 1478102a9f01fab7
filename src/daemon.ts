/**
 * Composition root: builds every feature from the validated config, wires the ports, starts them in dependency
 * order and stops them in reverse (docs/architecture.md). Nothing here is global: two daemons can run in one
 * process (the tests do), each with its own clock, database, broker and registry.
 *
 * Shutdown order: stop taking work (HTTP, MQTT intake) → let planning and in-flight sends finish → close the AP
 * links, the MQTT client and the broker → close the database (WAL checkpoint). What is still in flight is durable
 * already: labels keep their dirty counters and desired hashes, so the next start resumes.
 */
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/config-schema.js';
import { systemClock, type Clock, type Random } from './core/clock.js';
import { createLogger, type Logger } from './core/logger.js';
import { createIntakeAckLatency } from './core/stage-latency.js';
import { createLoopTaskTiming, type LoopTaskTiming } from './core/loop-tasks.js';
import { EdgeError, EdgeErrorCode, errorMessage } from '#contracts';
import { Database } from './persistence/database.js';
import { EventIntake } from './domain/events/event-intake.js';
import { LabelPlanner, type Renderer } from './domain/labels/label-planner.js';
import { Dispatcher } from './domain/dispatch/dispatcher.js';
import { LabelStore } from './domain/labels/label-store.js';
import { ImageStore } from './domain/labels/image-store.js';
import { ImageSweep } from './domain/labels/image-sweep.js';
import { ApRegistry } from './domain/aps/ap-registry.js';
import { ApInboundHandler } from './domain/dispatch/ap-inbound-handler.js';
import { startRenderPool } from './domain/rendering/render-pool.js';
import { BUNDLED_TEMPLATE_DIR } from './domain/rendering/package-root.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './transport/embedded-broker.js';
import { MqttFrameLink } from './transport/mqtt-frame-link.js';
import { BrokerFrameLink } from './transport/broker-frame-link.js';
import { SerialFrameLink } from './transport/serial-frame-link.js';
import { ApHub } from './transport/ap-hub.js';
import { MqttEventSource } from './transport/mqtt-event-source.js';
import { OutboxPublisher } from './transport/outbox-publisher.js';
import { MqttRequestSource } from './transport/mqtt-request-source.js';
import { LabelAlerts } from './domain/audit/label-alerts.js';
import { AuditReporter } from './domain/audit/audit-reporter.js';
import { storeOperations } from './domain/operations/store-operations.js';
import { auditOptionsAt, auditSettings } from './domain/operations/operation-deps.js';
import { connectEdgeMqttClient } from './transport/mqtt-client.js';
import type { FrameLink } from './transport/frame-link.js';
import { buildHttpServer } from './api/http-server.js';
import { createMetrics, type Metrics } from './api/metrics.js';
import { StoragePruner } from './domain/storage/storage-pruner.js';
import { writePidFile } from './persistence/backup.js';
import { dashboardPlugin } from './api/dashboard/dashboard-plugin.js';
import { RuleEngine } from './domain/rules/rule-engine.js';
import { withPricingMarks } from './domain/rules/rule-store.js';
import { ShelfFeed } from './domain/feeds/shelf-feed.js';
import { feedsRoutes } from './api/feeds-routes.js';

export interface DaemonOptions {
  clock?: Clock;
  random?: Random;
  log?: Logger;
  /** Start the HTTP listener (tests may use inject() only). Default true. */
  listenHttp?: boolean;
  renderer?: Renderer;
}

export interface Daemon {
  config: Config;
  log: Logger;
  db: Database;
  /** The owner of every label's state (D17); sqlite's `labels` table is its durable record. */
  labels: LabelStore;
  images: ImageStore;
  broker: EmbeddedBroker | null;
  /** URL of the MQTT broker the edge uses (embedded or external). */
  mqttUrl: string;
  mqttPort: number;
  http: FastifyInstance;
  httpPort: number;
  intake: EventIntake;
  planner: LabelPlanner;
  dispatcher: Dispatcher;
  hub: ApHub;
  aps: ApRegistry;
  renderer: Renderer;
  pruner: StoragePruner;
  /** Label rules and the till's price feed (issue 14). */
  rules: RuleEngine;
  /** The omnichannel shelf feed (issue 14). */
  shelf: ShelfFeed;
  /** D143 How long the dispatcher's and planner's synchronous stretches held the event loop. */
  loopTasks: LoopTaskTiming;
  /** Resolves when planning and dispatch have nothing left to do right now. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDaemon(config: Config, opts: DaemonOptions = {}): Promise<Daemon> {
  const clock = opts.clock ?? systemClock;
  const random = opts.random ?? Math.random;
  const log = opts.log ?? createLogger({ level: config.log.level });
  const startedAt = clock.now();
  const cleanup: (() => Promise<void>)[] = [];
  try {
    const db = await Database.open(join(config.dataDir, 'esl-edge.db'), { maxBytes: config.storage.maxDbBytes, checkpoints: config.storage.walCheckpoints });
    cleanup.push(() => db.close());
    log.info({ evt: 'db.opened', file: db.file }, 'store database open');
    // `esl-edge restore` refuses while this process has the database open (src/persistence/backup.ts).
    const releasePidFile = writePidFile(config.dataDir);
    cleanup.push(async () => releasePidFile());

    // The store's template directories come after the bundled ones: a store template overrides one of the same name.
    const templateDirs = [BUNDLED_TEMPLATE_DIR, ...config.rendering.templateDirs];
    const renderPool = opts.renderer ? null : await startRenderPool(config.rendering.workers, { templateDirs, log, nice: config.rendering.workerNice });
    if (renderPool) cleanup.push(() => renderPool.close());
    // The renderer's modules (fonts, shaping, barcodes: ~13 MB of heap) load on this thread only when it renders here
    // itself (rendering.workers = 0): with a pool they live in the workers (D136).
    const renderer = opts.renderer ?? renderPool ?? (await (await import('./domain/rendering/label-renderer.js')).LabelRenderer.create({ templateDirs }));

    // Where an event's acknowledgement spends its time, per stage (D80; /metrics esl_edge_intake_ack_stage_ms).
    const ackTiming = createIntakeAckLatency();
    // D143 How long the dispatcher's and planner's synchronous stretches hold the event loop (/metrics esl_edge_loop_task_ms).
    const loopTasks = createLoopTaskTiming();
    let broker: EmbeddedBroker | null = null;
    let mqttUrl: string;
    let credentials: { username?: string; password?: string };
    if (config.mqtt.embedded.enabled) {
      broker = await startEmbeddedBroker({ config, log, clock, ackTiming, host: config.mqtt.embedded.host, port: config.mqtt.embedded.port, maxPacketBytes: config.mqtt.embedded.maxPacketBytes });
      const b = broker;
      cleanup.push(() => b.close());
      mqttUrl = broker.edgeUrl;
      credentials = broker.edgeCredentials;
    } else {
      if (!config.mqtt.url) throw new EdgeError(EdgeErrorCode.CONFIG_INVALID, 'mqtt.url is required when mqtt.embedded.enabled is false');
      mqttUrl = config.mqtt.url;
      credentials = { ...(config.mqtt.username ? { username: config.mqtt.username } : {}), ...(config.mqtt.password ? { password: config.mqtt.password } : {}) };
    }

    const storeClientId = `esl-edge-${config.store.chain}-${config.store.id}`;
    const client = await connectEdgeMqttClient({ name: 'mqtt', url: mqttUrl, ...credentials, clientId: storeClientId, reconnectPeriodMs: 1_000, waitForConnect: true, log });
    cleanup.push(() => client.endAsync(true).catch(() => undefined));

    const aps = new ApRegistry(db);
    await aps.load();
    const labels = await LabelStore.load({ db, clock, log, telemetrySampleMs: config.storage.telemetry.sampleIntervalS * 1000 });
    cleanup.push(() => labels.stop());
    const images = new ImageStore({ db });
    // Pictures no label refers to any more are dropped (D19); later, memory is swept the same way.
    const pruned = await images.prune(await labels.referencedHashes());
    log.info({ evt: 'labels.loaded', labels: labels.size, imagesPruned: pruned }, 'label state loaded');
    const publishers: OutboxPublisher[] = [];

    // The AP hub is built first and handed its inbound sink at start(): the dispatcher sends through it and the
    // inbound handler behind it calls the dispatcher, so neither waits for the other to exist.
    // D103 With the embedded broker the APs are read and written in process, not through the edge's own client.
    const apLink = broker ? new BrokerFrameLink(broker.bus, config.store.chain, config.store.id, log, loopTasks) : new MqttFrameLink(client, config.store.chain, config.store.id, log);
    // D98: while the link has too many frames waiting to reach the APs, the embedded broker holds back the APs' frames.
    broker?.setUplinkGate(() => apLink.backlog());
    const links: FrameLink[] = [apLink];
    for (const s of config.serialAps) links.push(new SerialFrameLink({ apId: s.apId, path: s.path, baudRate: s.baudRate, log, clock }));
    const hub = new ApHub({
      links,
      clock,
      random,
      log,
      ackTimeoutMs: config.dispatch.ackTimeoutMs,
      heartbeatIntervalS: config.dispatch.heartbeatIntervalS,
      checkinReportIntervalS: config.dispatch.checkinReportIntervalS,
    });
    const kickOutbox = () => publishers.forEach((p) => p.kick());
    const shelf = new ShelfFeed({ db, labels, images, clock, log, onOutbox: kickOutbox });
    await shelf.load();
    const alerts = new LabelAlerts({ db, labels, lowBatteryMv: config.audit.lowBatteryMv, unreachableAfterS: config.audit.unreachableAfterS, onOutbox: kickOutbox });
    const dispatcher = new Dispatcher({
      labels,
      images,
      gateway: hub,
      aps,
      clock,
      random,
      log,
      config: config.dispatch,
      loopTasks,
      ...(renderPool ? { deltaEncoder: renderPool } : {}),
      onCheckin: (labelId, _apId, msg) => {
        alerts.checkin(labelId, msg.batteryMv, clock.now()).catch((err: unknown) => log.warn({ evt: 'alerts.failed', err: errorMessage(err) }, 'label alert check failed'));
        shelf.observe(labelId);
      },
    });
    const planner = new LabelPlanner({
      db,
      labels,
      images,
      renderer,
      clock,
      log,
      concurrency: config.rendering.concurrency,
      prestageLeadMs: config.dispatch.prestageLeadS * 1000,
      planByWake: config.dispatch.planByWake,
      loopTasks,
      onPictures: (ids, planesOf) => dispatcher.prepare(ids, planesOf),
      onPlanned: (ids) => {
        dispatcher.kick();
        // A label becomes consistent also when its desired picture changes to the one it already confirmed (a timed
        // picture shown at its boundary before the planner's re-plan, D56): the shelf feed records that too (D52).
        for (const id of ids) shelf.observe(id);
      },
    });
    const late: { metrics?: Metrics } = {};
    const pruner = new StoragePruner({ db, clock, log, config: config.storage, hqConfigured: config.hq !== undefined, onOutbox: kickOutbox, onPruned: (t, r, n) => late.metrics?.storagePruned(t, r, n) });
    const rules = new RuleEngine({
      db,
      labels,
      clock,
      log,
      storeId: config.store.id,
      switchLeadMs: config.rules.switchLeadS * 1000,
      horizonMs: config.dispatch.prestageLeadS * 1000,
      onChanged: () => planner.kick(),
      onOutbox: kickOutbox,
    });
    const intake = new EventIntake({
      db,
      // Every product a tick touches is also marked for the label rules and the price feed (same transaction).
      labels: withPricingMarks(labels),
      clock,
      log,
      maxEventBytes: config.intake.maxEventBytes,
      onApplied: () => {
        // Not yet gated on `replan` (D81): test/e2e/stock-rules.test.ts lost the price-history row of a rule's end
        // boundary with the gate, so every applied commit still kicks the planner.
        planner.kick();
        rules.kick();
      },
      onOutbox: kickOutbox,
      deadLetterPayloadBytes: config.storage.deadLetters.maxPayloadBytes,
      onDeadLetter: (bytes) => pruner.noteDeadLetter(bytes),
      timing: ackTiming,
      loopTasks,
    });

    await dispatcher.start();
    await hub.start(new ApInboundHandler({ aps, dispatcher, labels, clock, log, onLabelSeen: () => planner.kick() }));
    cleanup.push(() => hub.stop());

    const events = new MqttEventSource(client, intake, { chain: config.store.chain, store: config.store.id, log });
    await events.start({ subscribe: broker === null });
    broker?.setEventHandler((topic, payload, from) => events.handle(topic, payload, undefined, from.username, from.receivedAt));
    cleanup.push(() => events.stop());

    // The HQ uplink: the same intake, fed from the chain's broker (persistent session: the broker keeps our events
    // while the store is offline). Not awaited beyond the first attempt: a store starts without its uplink.
    let hqEvents: MqttEventSource | null = null;
    let hqClient: MqttClient | null = null;
    if (config.hq) {
      const hc = await connectEdgeMqttClient({ name: 'hq', url: config.hq.url, username: config.hq.username, password: config.hq.password, clientId: config.hq.clientId ?? storeClientId, reconnectPeriodMs: 2_000, waitForConnect: false, log });
      hqClient = hc;
      hqEvents = new MqttEventSource(hc, intake, { chain: config.store.chain, store: config.store.id, log });
      await hqEvents.start({ subscribe: true });
      cleanup.push(() => hc.endAsync(true).catch(() => undefined));
    }

    // Alerts and reports go to the local broker and, when configured, to HQ — each from the durable outbox.
    const root = `esl/${config.store.chain}/${config.store.id}`;
    publishers.push(new OutboxPublisher({ db, client, dest: 'local', root, clock, log, maxMessageBytes: config.mqtt.embedded.maxPacketBytes }));
    if (hqClient) publishers.push(new OutboxPublisher({ db, client: hqClient, dest: 'hq', root, clock, log, maxMessageBytes: config.mqtt.embedded.maxPacketBytes }));
    for (const p of publishers) p.kick();
    rules.start();

    const audit = auditSettings(config);
    const reporter = new AuditReporter({ db, labels, images, clock, log, store: { chain: config.store.chain, id: config.store.id }, intervalS: config.audit.reportIntervalS, auditOptions: () => auditOptionsAt({ clock, audit }), alerts, onOutbox: kickOutbox, maxReportBytes: config.mqtt.embedded.maxPacketBytes });
    reporter.start();
    // Every store operation once (src/domain/operations/); the HTTP plugins, the MQTT requests and the dashboard call these.
    const operations = storeOperations({ db, labels, images, clock, log, gateway: hub, intake, reporter, kickDispatch: () => dispatcher.kick(), store: { chain: config.store.chain, id: config.store.id }, audit, maxReportBytes: config.mqtt.embedded.maxPacketBytes });
    const requestSources = [client, ...(hqClient ? [hqClient] : [])].map((c) => new MqttRequestSource(c, operations, { chain: config.store.chain, store: config.store.id, log }));
    for (const r of requestSources) await r.start();

    const metrics = createMetrics({ db, labels, dispatcher, hub, intake, aps, ackTiming, loopTasks, extra: broker ? [broker.metrics] : [] });
    late.metrics = metrics;
    pruner.start();
    const http = await buildHttpServer({ config, db, labels, images, clock, log, intake, aps, metrics, startedAt, operations, renderer });
    await http.register(feedsRoutes, { db, storeCode: config.store.id });
    if (config.dashboard.enabled) await http.register(dashboardPlugin, { config, db, labels, images, clock, log, intake, aps, operations, renderer });
    let httpPort = 0;
    if (opts.listenHttp !== false) {
      await http.listen({ host: config.http.host, port: config.http.port });
      const addr = http.server.address();
      httpPort = typeof addr === 'object' && addr ? addr.port : config.http.port;
      log.info({ evt: 'http.listening', scheme: config.http.tls ? 'https' : 'http', host: config.http.host, port: httpPort }, 'HTTP API listening');
    }
    cleanup.push(() => http.close());

    // Memory keeps a picture only while a label refers to it (desired, confirmed, in transfer, next).
    const imageSweep = new ImageSweep({ clock, labels, images, loopTasks });
    imageSweep.start();

    // Resume whatever a previous run left: dirty labels are planned, unconfirmed ones dispatched.
    planner.kick();
    dispatcher.kick();

    let stopping: Promise<void> | null = null;
    const daemon: Daemon = {
      config,
      log,
      db,
      labels,
      images,
      broker,
      mqttUrl,
      mqttPort: broker?.port ?? Number(new URL(mqttUrl).port || 1883),
      http,
      httpPort,
      intake,
      planner,
      dispatcher,
      hub,
      aps,
      renderer,
      pruner,
      rules,
      shelf,
      loopTasks,
      async settle() {
        await rules.idle();
        await planner.idle();
        await dispatcher.idle();
        await labels.flush();
      },
      stop() {
        stopping ??= (async () => {
          log.info({ evt: 'daemon.stopping' }, 'stopping');
          const step = (name: string, fn: () => Promise<unknown>) =>
            fn().catch((err: unknown) => log.warn({ evt: 'daemon.stop_step_failed', step: name, err: errorMessage(err) }, 'shutdown step failed'));
          // 1. Stop taking work.
          await step('http', () => http.close());
          await step('intake', () => events.stop());
          if (hqEvents) await step('hq-intake', () => hqEvents!.stop());
          // 2. Let planning and the sends under way finish (bounded: what is not done is durable anyway). The bound
          //    is host time on purpose (D22): a stop must end within the service manager's limit even when the
          //    injected clock is a simulated one that stands still.
          await Promise.race([Promise.all([planner.idle(), dispatcher.idle()]), new Promise((r) => setTimeout(r, 5_000).unref())]);
          planner.stop();
          if (renderPool) await step('render-pool', () => renderPool.close());
          dispatcher.stop();
          await step('audit', () => reporter.stop());
          rules.stop();
          await step('rules', () => rules.idle());
          await step('shelf-feed', () => shelf.idle());
          await step('pruner', () => pruner.stop());
          await step('image-sweep', () => imageSweep.stop());
          for (const r of requestSources) r.stop();
          for (const p of publishers) await step('outbox', () => p.stop());
          // 3. Close the links, the MQTT client, the broker and last the database.
          await step('ap-links', () => hub.stop());
          await step('mqtt-client', () => client.endAsync(true));
          if (hqClient) await step('hq-client', () => hqClient!.endAsync(true));
          if (broker) await step('broker', () => broker!.close());
          // The label store's last batch goes in before the database closes.
          await step('labels', () => labels.stop());
          await step('database', () => db.close());
          releasePidFile();
          log.info({ evt: 'daemon.stopped' }, 'stopped');
        })();
        return stopping;
      },
    };
    log.info({ evt: 'daemon.started', store: `${config.store.chain}/${config.store.id}`, mqtt: mqttUrl, http: httpPort, instance: randomBytes(4).toString('hex') }, 'esl-edge started');
    return daemon;
  } catch (err) {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    throw err;
  }
}
