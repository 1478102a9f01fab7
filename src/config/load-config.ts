/**
 * Loads the config file, applies environment overrides and validates the result once.
 *
 * Environment overrides: ESL_EDGE_<PATH>, path segments separated by "__", case-insensitive, values parsed as
 * JSON when they parse (numbers, booleans, arrays), else taken as strings. Example:
 * ESL_EDGE_HTTP__PORT=8081, ESL_EDGE_LOG__LEVEL=debug, ESL_EDGE_DATA_DIR=/var/lib/esl-edge (a single "_" stays part
 * of the key: DATA_DIR → dataDir).
 */
import { readFileSync } from 'node:fs';
import { resolve, dirname, isAbsolute } from 'node:path';
import { ConfigSchema, type Config } from './config-schema.js';
import { EdgeError, EdgeErrorCode } from '#contracts';

const ENV_PREFIX = 'ESL_EDGE_';

function camel(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || value === undefined) continue;
    const path = key.slice(ENV_PREFIX.length).split('__').map(camel);
    let node: Record<string, unknown> = out;
    for (const seg of path.slice(0, -1)) {
      const next = node[seg];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    let parsed: unknown = value;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = value;
    }
    node[path[path.length - 1]!] = parsed;
  }
  return out;
}

/** Validates a raw config object; the error names every wrong or missing setting by its path. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new EdgeError(EdgeErrorCode.CONFIG_INVALID, `invalid configuration in ${source}:\n  - ${problems.join('\n  - ')}`, {
      problems,
    });
  }
  return result.data;
}

export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): { config: Config; baseDir: string } {
  let raw: Record<string, unknown> = {};
  let baseDir = process.cwd();
  if (file) {
    const abs = resolve(file);
    baseDir = dirname(abs);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      throw new EdgeError(EdgeErrorCode.CONFIG_NOT_FOUND, `cannot read config file ${abs}: ${(err as Error).message}`);
    }
    try {
      raw = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new EdgeError(EdgeErrorCode.CONFIG_INVALID, `config file ${abs} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const config = parseConfig(applyEnvOverrides(raw, env), file ?? 'environment');
  // Relative paths in a config file are relative to that file, so a config works from any working directory.
  if (!isAbsolute(config.dataDir)) config.dataDir = resolve(baseDir, config.dataDir);
  config.rendering.templateDirs = config.rendering.templateDirs.map((d) => (isAbsolute(d) ? d : resolve(baseDir, d)));
  const tls = config.mqtt.embedded.tls;
  if (tls) {
    const abs = (f: string) => (isAbsolute(f) ? f : resolve(baseDir, f));
    tls.cert = abs(tls.cert);
    tls.key = abs(tls.key);
    if (tls.clientCa) tls.clientCa = abs(tls.clientCa);
  }
  if (config.http.tls) config.http.tls = { cert: resolve(baseDir, config.http.tls.cert), key: resolve(baseDir, config.http.tls.key) };
  return { config, baseDir };
}
