import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyEnvOverrides, loadConfig, parseConfig } from '../../src/config/load-config.js';
import { EdgeError } from '#contracts';
import { tempDir } from '../support/temp-dir.js';

const minimal = { store: { chain: 'c', id: 's' }, mqtt: {}, http: { tokens: [{ name: 'a', token: 'x'.repeat(16) }] } };

describe('configuration', () => {
  it('fills defaults', () => {
    const c = parseConfig(minimal);
    expect(c.mqtt.embedded).toMatchObject({ enabled: true, port: 1883 });
    expect(c.store.timezone).toBe('Europe/Berlin');
    expect(c.dispatch.maxInFlightPerAp).toBe(256);
  });

  it('names every wrong or missing setting', () => {
    try {
      parseConfig({ store: { chain: 'bad chain!' }, mqtt: { users: [{ username: 'ap', password: 'short', role: 'ap' }] }, http: { tokens: [] } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EdgeError);
      const e = err as EdgeError;
      expect(e.code).toBe('CONFIG_INVALID');
      expect(e.message).toMatch(/store\.chain/);
      expect(e.message).toMatch(/store\.id/);
      expect(e.message).toMatch(/mqtt\.users\.0\.password: at least 8 characters/);
      expect(e.message).toMatch(/mqtt\.users\.0\.apId/);
      expect(e.message).toMatch(/http\.tokens: at least one API token/);
    }
  });

  it('takes ESL_EDGE_* overrides, with "__" between path segments', () => {
    const out = applyEnvOverrides(minimal, { ESL_EDGE_HTTP__PORT: '9090', ESL_EDGE_LOG__LEVEL: 'debug', ESL_EDGE_DATA_DIR: '/var/lib/esl', OTHER: 'x' });
    const c = parseConfig(out);
    expect(c.http.port).toBe(9090);
    expect(c.log.level).toBe('debug');
    expect(c.dataDir).toBe('/var/lib/esl');
  });

  it('resolves a relative dataDir against the config file and reports unreadable files clearly', () => {
    const tmp = tempDir();
    const file = join(tmp.dir, 'edge.json');
    writeFileSync(file, JSON.stringify({ ...minimal, dataDir: 'state' }));
    expect(loadConfig(file, {}).config.dataDir).toBe(join(tmp.dir, 'state'));
    expect(() => loadConfig(join(tmp.dir, 'missing.json'), {})).toThrow(/cannot read config file/);
    writeFileSync(file, '{ nope');
    expect(() => loadConfig(file, {})).toThrow(/not valid JSON/);
    tmp.remove();
  });
});
