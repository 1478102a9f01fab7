/**
 * The daemon's configuration, validated once at start-up (README, "Running it in a store"). Every field has a default
 * where a safe one exists; secrets (passwords, tokens) never do.
 */
import { z } from 'zod';
import { assertValidStoredSecret } from '../core/secret-hash.js';
import { StorageSchema } from './storage-schema.js';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" or "-", at most 32');
const secret = z.string().min(8, 'at least 8 characters');
/** A secret as stored in the config: plaintext, or an scrypt hash that must be well-formed (src/core/secret-hash.ts). */
const storedSecret = (s: z.ZodString) =>
  s.superRefine((v, ctx) => {
    try {
      assertValidStoredSecret(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

export const MqttUserSchema = z
  .object({
    /** One topic level of reply/{username} (mqtt-acl.ts), so no "/", "+" or "#". */
    username: z.string().regex(/^[^/+#]{1,64}$/, '1–64 characters, no "/", "+" or "#"'),
    /** Plaintext (warned about at start-up) or an scrypt hash from `esl-edge secret hash` (src/core/secret-hash.ts). */
    password: storedSecret(secret),
    /** ap: one access point; publisher: HQ/POS systems sending events; observer: read-only dashboards. */
    role: z.enum(['ap', 'publisher', 'observer']),
    /** For role "ap": the AP id this user may speak for (§11 of the protocol spec). */
    apId: id.optional(),
    /**
     * MQTT client ids this user may connect with: exact ids, or a prefix ending in "*" (docs/decisions.md D24).
     * Default: an AP only its apId (protocol §11.3); a publisher or observer any id not reserved to another user
     * (ids listed here or an AP's id) or to the edge (`esl-edge-*`).
     */
    clientIds: z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}\*?$/, 'a client id ([A-Za-z0-9_.:-]) or a prefix ending in "*"')).min(1).optional(),
  })
  .refine((u) => u.role !== 'ap' || u.apId !== undefined, { message: 'an "ap" user needs apId', path: ['apId'] });

/** MQTT over TLS (MQTT 3.1.1 §5.1, IANA port 8883); with clientCa, APs may authenticate by certificate too. */
export const MqttTlsSchema = z.object({
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).default(8883),
  /** PEM files, relative to the config file. */
  cert: z.string().min(1),
  key: z.string().min(1),
  /** CA that signs client certificates (mutual TLS); a verified certificate's CN must equal the MQTT username. */
  clientCa: z.string().min(1).optional(),
  /** Refuse TLS clients without a certificate signed by clientCa (default: true when clientCa is set). */
  requireClientCert: z.boolean().optional(),
});

/** Failed MQTT logins slow down per source address and per username (docs/decisions.md D25). */
export const LoginThrottleSchema = z.object({
  /** Failures tolerated before any delay. */
  freeFailures: z.number().int().min(0).default(3),
  /** First delay; doubles with each further failure, up to maxDelayMs. */
  baseDelayMs: z.number().int().min(1).default(250),
  maxDelayMs: z.number().int().min(1).default(15_000),
  /** Logins of one source being checked at once; more are refused with CONNACK 3 unchecked. */
  maxPendingPerSource: z.number().int().min(1).default(4),
  /** Failure counts decay: a key is forgotten this long after its last failure. */
  forgetAfterMs: z.number().int().min(1000).default(15 * 60_000),
});

const LOGIN_THROTTLE_DEFAULTS = LoginThrottleSchema.parse({});

export const ConfigSchema = z.object({
  store: z.object({
    chain: id,
    id,
    name: z.string().max(100).optional(),
    timezone: z.string().default('Europe/Berlin'),
  }),
  dataDir: z.string().min(1).default('./data'),
  log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).default({ level: 'info' }),
  mqtt: z.object({
    embedded: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(1883),
        /** Largest MQTT packet the broker accepts; a full 7.5" image frame is ~4.2 kB. */
        maxPacketBytes: z.number().int().min(1024).default(256 * 1024),
        /** Plain TCP listener on host:port; false = TLS only (the edge's own client then uses a loopback listener). */
        plain: z.boolean().default(true),
        tls: MqttTlsSchema.optional(),
        loginThrottle: LoginThrottleSchema.default(LOGIN_THROTTLE_DEFAULTS),
      })
      .default({ enabled: true, host: '127.0.0.1', port: 1883, maxPacketBytes: 256 * 1024, plain: true, loginThrottle: LOGIN_THROTTLE_DEFAULTS }),
    /** External broker (used when embedded.enabled is false), e.g. mqtt://broker.local:1883. */
    url: z.string().url().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    users: z.array(MqttUserSchema).default([]),
  }),
  /**
   * The chain's HQ broker (optional). The edge connects as one client with a persistent session and takes events for
   * this store from esl/{chain}/{store}/in/… there too, replying on the HQ broker (docs/decisions.md D11).
   */
  hq: z
    .object({
      url: z.string().url(),
      username: z.string().min(1),
      password: z.string().min(1),
      /** Default: esl-edge-{chain}-{store}; must be stable for the broker to keep the session. */
      clientId: z.string().min(1).max(64).optional(),
    })
    .optional(),
  http: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** `token` is an scrypt hash from `esl-edge secret hash` (recommended) or plaintext (accepted with a warning). */
    tokens: z.array(z.object({ name: z.string().min(1), token: storedSecret(z.string().min(16, 'at least 16 characters')) })).min(1, 'at least one API token'),
    bodyLimitBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
    /** HTTPS: PEM files of the certificate (chain) and its key. Without it the API speaks plain HTTP. */
    tls: z.object({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /**
     * Failed authentications per source address and per presented token: the first `freeFailures` are free, then
     * each blocks the key (429 + Retry-After) for a delay doubling from `baseDelayMs` up to `maxDelayMs` (D27).
     */
    authLimits: z
      .object({
        freeFailures: z.number().int().min(0).max(1000).default(5),
        baseDelayMs: z.number().int().min(1).default(1_000),
        maxDelayMs: z.number().int().min(1).default(60_000),
        forgetAfterMs: z.number().int().min(1).default(15 * 60_000),
        maxKeys: z.number().int().min(1).default(10_000),
      })
      .default({ freeFailures: 5, baseDelayMs: 1_000, maxDelayMs: 60_000, forgetAfterMs: 15 * 60_000, maxKeys: 10_000 }),
  }),
  intake: z
    .object({
      /** Largest event accepted (a whole price list as one batch event can be large). */
      maxEventBytes: z.number().int().min(1024).default(8 * 1024 * 1024),
    })
    .default({ maxEventBytes: 8 * 1024 * 1024 }),
  dispatch: z
    .object({
      /**
       * Transfers staged on one AP at once, further bounded by the AP's reported queue capacity. A staged transfer
       * waits for its label's wake-up (~15 s on average), so the window must be large for an AP to be busy
       * (Little's law: 12 labels/s × 15 s ≈ 180); the AP's queue capacity is the real bound.
       */
      maxInFlightPerAp: z.number().int().min(1).max(4096).default(256),
      ackTimeoutMs: z.number().int().min(100).default(10_000),
      /** A staged transfer not delivered within this time is cancelled and retried. */
      transferTimeoutMs: z.number().int().min(1000).default(300_000),
      retryBaseMs: z.number().int().min(10).default(5_000),
      retryMaxMs: z.number().int().min(100).default(600_000),
      maxAttempts: z.number().int().min(1).default(12),
      /**
       * Labels affected by a price or promotion boundary this far ahead get the new picture in advance with a timed
       * display (protocol §6.5), so the shelf switches at the boundary minute. 0 = off.
       */
      prestageLeadS: z.number().int().min(0).max(7 * 24 * 3600).default(1800),
      /** Heartbeat and check-in intervals the edge asks the APs for (protocol §5, §8). */
      heartbeatIntervalS: z.number().int().min(1).max(3600).default(30),
      checkinReportIntervalS: z.number().int().min(1).max(65535).default(300),
      /**
       * Dispatch passes start at most this often. Every check-in, transfer result and heartbeat asks for one; a
       * 50,000-label store forwards ~170 check-ins/s, and unthrottled passes would run back to back (D16). 0 = off.
       */
      minPassIntervalMs: z.number().int().min(0).max(10_000).default(200),
      /**
       * Wake-aware staging (D19): a transfer is staged this long (plus the phase uncertainty) before its label's
       * predicted wake, learnt from its check-ins. Labels whose wake cannot be predicted are staged at once. 0 = off.
       */
      wakeLeadMs: z.number().int().min(0).max(60_000).default(3_000),
      /**
       * Wake reports (protocol §4.8, §5.6, D34): APs with capability WAKE_REPORT are asked to report the wake-ups
       * they hear this often, and their transfers are staged by predicted wake (D35). 0 = off.
       */
      wakeReportIntervalMs: z.number().int().min(0).max(60_000).default(1_000),
      /** D35: with more work than free slots, a label is staged only when its expected slot time is at most this. */
      wakeHorizonMs: z.number().int().min(0).max(120_000).default(4_000),
      /** D35: a staged transfer whose label was seen asleep again without taking it is cancelled to free its slot. */
      wakeCancelMisses: z.boolean().default(true),
      /**
       * D120: a planning pass takes its dirty labels in the order they will wake (their learnt wake phase), so the
       * pictures planned first are those the APs can send first. D129: only labels whose next transfer is a delta
       * (a repricing, where the planner and not the air is the bottleneck); full images (a fill) stay in catalogue
       * order. On by default since D129; false plans every pass in catalogue order (D61).
       */
      planByWake: z.boolean().default(true),
      /**
       * D146 Every this often the edge plans each AP's channel in the order its labels wake and sends the AP
       * (capability WORK_AHEAD, protocol §4.9) appointments for the labels the plan passes over at their wake, so they
       * come back when the channel is free instead of after a full sleep; 0 = off. On by default since D154: once an
       * AP repeated an appointment to a label that missed its RADIO_SLEEP (protocol §4.9.1), they cut the reference
       * repricing's 25-s tail (D146 had kept them opt-in).
       */
      workAheadIntervalMs: z.number().int().min(0).max(60_000).default(2_000),
    })
    .default({
      maxInFlightPerAp: 256,
      ackTimeoutMs: 10_000,
      transferTimeoutMs: 300_000,
      retryBaseMs: 5_000,
      retryMaxMs: 600_000,
      maxAttempts: 12,
      prestageLeadS: 1800,
      wakeReportIntervalMs: 1_000,
      wakeHorizonMs: 4_000,
      wakeCancelMisses: true,
      planByWake: true,
      workAheadIntervalMs: 2_000,
      heartbeatIntervalS: 30,
      checkinReportIntervalS: 300,
      minPassIntervalMs: 200,
      wakeLeadMs: 3_000,
    }),
  audit: z
    .object({
      /** A label not consistent this long after its desired content changed is "stale" (store SLA). */
      slaSeconds: z.number().int().min(1).default(900),
      /** A label not heard from this long is "unreachable". */
      unreachableAfterS: z.number().int().min(1).default(3600),
      /** Battery below this raises a low-battery alert (coin cells: ~2.4 V is the usual threshold). */
      lowBatteryMv: z.number().int().min(0).default(2400),
      /** How often the audit summary and exceptions go to HQ (and the local out/ topic); 0 = only on request. */
      reportIntervalS: z.number().int().min(0).default(900),
    })
    .default({ slaSeconds: 900, unreachableAfterS: 3600, lowBatteryMv: 2400, reportIntervalS: 900 }),
  rendering: z
    .object({
      /** Extra template directories; later ones override bundled templates of the same name. */
      templateDirs: z.array(z.string()).default([]),
      concurrency: z.number().int().min(1).max(64).default(4),
      /**
       * Render worker threads (layout and rasterising off the event loop, docs/decisions.md D30–D31): "auto" = one per
       * core but one, at least 1, at most 2 (memory); 0 = render on the main thread.
       */
      workers: z.union([z.literal('auto'), z.number().int().min(0).max(32)]).default('auto'),
      /**
       * Nice steps the render workers run below the event loop's thread (Linux; D150): when both want a core, the
       * thread answering APs and acknowledgements gets it and rendering waits. Opt-in: it did not move the reference
       * store's figures, and beside other busy processes it starves rendering (bench/render-priority). 0 = the same.
       */
      workerNice: z.number().int().min(0).max(19).default(0),
    })
    .default({ templateDirs: [], concurrency: 4, workers: 'auto', workerNice: 0 }),
  /**
   * Label rules (issue 14, docs/decisions.md D49–D52): an effect a stock or lot event starts or ends switches at the
   * first whole minute at least `switchLeadS` ahead, so the till's price feed and the labels' timed display switch at
   * the same instant. Price changes are announced to the till `dispatch.prestageLeadS` ahead.
   */
  rules: z
    .object({
      switchLeadS: z.number().int().min(0).max(3600).default(60),
    })
    .default({ switchLeadS: 60 }),
  /** Bounds on every table that grows with input, and on the database file (docs/decisions.md D26). */
  storage: StorageSchema,
  /**
   * The store dashboard (src/api/dashboard/, docs/decisions.md D32–D33): a web page on the HTTP port under /dashboard.
   * Users log in with a name and password from this list (scrypt hash or plaintext, like the MQTT users) or, when
   * tokenLogin is not "off", with an HTTP API token, which gets that role.
   */
  dashboard: z
    .object({
      enabled: z.boolean().default(true),
      users: z
        .array(z.object({ username: z.string().min(1).max(64), password: storedSecret(secret), role: z.enum(['viewer', 'operator']) }))
        .default([]),
      tokenLogin: z.enum(['off', 'viewer', 'operator']).default('operator'),
      sessionTtlS: z.number().int().min(60).max(7 * 86_400).default(8 * 3600),
      /** Mark the session cookie Secure (set it when the edge is reached over HTTPS). */
      secureCookie: z.boolean().default(false),
      /** How often the live stream recomputes the store summary while someone watches (ms). */
      liveIntervalMs: z.number().int().min(200).max(60_000).default(1000),
      /** Where the built UI lies (default: dist/dashboard-ui of the package, written by `npm run build`). */
      assetsDir: z.string().min(1).optional(),
    })
    .default({ enabled: true, users: [], tokenLogin: 'operator', sessionTtlS: 8 * 3600, secureCookie: false, liveIntervalMs: 1000 }),
  serialAps: z
    .array(z.object({ apId: id, path: z.string().min(1), baudRate: z.number().int().default(115200) }))
    .default([]),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
