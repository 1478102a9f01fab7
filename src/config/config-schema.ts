/**
 * The daemon's configuration, validated once at start-up (docs/configuration.md). Every field has a default
 * where a safe one exists; secrets (passwords, tokens) never do.
 */
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'letters, digits, "_" or "-", at most 32');
const secret = z.string().min(8, 'at least 8 characters');

export const MqttUserSchema = z
  .object({
    username: z.string().min(1).max(64),
    password: secret,
    /** ap: one access point; publisher: HQ/POS systems sending events; observer: read-only dashboards. */
    role: z.enum(['ap', 'publisher', 'observer']),
    /** For role "ap": the AP id this user may speak for (§11 of the protocol spec). */
    apId: id.optional(),
  })
  .refine((u) => u.role !== 'ap' || u.apId !== undefined, { message: 'an "ap" user needs apId', path: ['apId'] });

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
      })
      .default({ enabled: true, host: '127.0.0.1', port: 1883, maxPacketBytes: 256 * 1024 }),
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
    tokens: z.array(z.object({ name: z.string().min(1), token: z.string().min(16, 'at least 16 characters') })).min(1, 'at least one API token'),
    bodyLimitBytes: z.number().int().min(1024).default(16 * 1024 * 1024),
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
    })
    .default({
      maxInFlightPerAp: 256,
      ackTimeoutMs: 10_000,
      transferTimeoutMs: 300_000,
      retryBaseMs: 5_000,
      retryMaxMs: 600_000,
      maxAttempts: 12,
      prestageLeadS: 1800,
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
    })
    .default({ templateDirs: [], concurrency: 4 }),
  serialAps: z
    .array(z.object({ apId: id, path: z.string().min(1), baudRate: z.number().int().default(115200) }))
    .default([]),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
