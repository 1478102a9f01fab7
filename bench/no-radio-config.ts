/**
 * The edge's configuration for the benches that drive a daemon in their own process without a radio (planning,
 * resources): its sqlite file in `dataDir`, the embedded broker and HTTP on free ports, quiet logs.
 */
import { parseConfig } from '../src/config/load-config.js';

export function noRadioConfig(dataDir: string, extra: Record<string, unknown> = {}) {
  return parseConfig({
    store: { chain: 'bench', id: 'ref-1' },
    dataDir,
    log: { level: 'error' },
    mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0 }, users: [] },
    http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'bench', token: 'bench-token-0123456789abcdef' }] },
    ...extra,
  });
}
