/**
 * Structured logging: one line = one event, JSON (pino). Secrets never reach a log: the redact list covers every
 * config and request field that can hold one.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'req.headers.authorization',
  'headers.authorization',
  'config.http.tokens',
  'config.mqtt.users',
  'config.dashboard.users',
];

export function createLogger(opts: { level: LevelWithSilent; name?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: opts.level,
      name: opts.name ?? 'esl-edge',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
