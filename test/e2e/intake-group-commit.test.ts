/**
 * Acknowledged means committed, with group commit (docs/decisions.md D5, D20): a real daemon (embedded aedes, sqlite
 * file), real MQTT clients publishing QoS 1 and an HTTP client, all at once. While another connection holds the
 * database's write lock no event can commit — and no PUBACK and no HTTP response may arrive. Once it is released,
 * every PUBACK finds its event committed (read through that other connection the moment the PUBACK arrives), and
 * the events that arrived together were committed together.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { Database } from '../../src/persistence/database.js';
import type { Daemon } from '../../src/daemon.js';
import { gtin13 } from '#contracts';
import { ROOT, TOKEN, USERS, connectClient, startTestDaemon, tempDir } from '../support/edge-fixture.js';

describe('intake group commit over MQTT and HTTP', () => {
  const tmp = tempDir();
  let daemon: Daemon;
  let other: Database;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    daemon = await startTestDaemon(tmp.dir);
    other = await Database.open(daemon.db.file);
    for (let i = 0; i < 4; i++) clients.push(await connectClient(daemon, USERS.pos, { clientId: `pos-gc-${i}` }));
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync(true);
    await other.close();
    await daemon.stop();
    tmp.remove();
  });

  it('sends no PUBACK and no HTTP response before the commit, and every PUBACK finds its event committed', async () => {
    await daemon.settle();
    const before = { ...daemon.intake.groupCommitStats };
    let release: (() => void) | undefined;
    const held = other.transaction(() => new Promise<void>((r) => (release = r)));
    // The body runs once BEGIN IMMEDIATE holds the lock: wait for that, not 20 wall ms (a loaded machine may run
    // the BEGIN later, and the intake would commit first, D53).
    while (release === undefined) await new Promise((r) => setTimeout(r, 5));

    const answered: string[] = [];
    const atAck: Promise<string>[] = [];
    const price = (id: string, i: number) => JSON.stringify({ id, source: 'pos', version: 1, type: 'price', data: { gtin: gtin13(`4200000${String(i).padStart(5, '0')}`), priceCents: 100 + i } });
    clients.forEach((c, ci) => {
      for (let k = 0; k < 10; k++) {
        const id = `gc-mqtt-${ci}-${k}`;
        atAck.push(
          c.publishAsync(`${ROOT}/in/price`, price(id, ci * 10 + k), { qos: 1 }).then(async () => {
            answered.push(id);
            // The moment the PUBACK is here, another connection must see the event committed.
            const row = await other.get<{ status: string }>('SELECT status FROM events WHERE id = ?', [id]);
            return `${id}:${row?.status ?? 'missing'}`;
          }),
        );
      }
    });
    const http = fetch(`http://127.0.0.1:${daemon.httpPort}/api/v1/events/price`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: price('gc-http', 99),
    }).then(async (res) => {
      answered.push('gc-http');
      const row = await other.get<{ status: string }>('SELECT status FROM events WHERE id = ?', ['gc-http']);
      return { status: res.status, body: (await res.json()) as unknown, row: row?.status ?? 'missing' };
    });

    // While the lock is held nothing can commit: nothing may be acknowledged (however long we look).
    for (let i = 0; i < 30; i++) await new Promise((r) => setTimeout(r, 10));
    expect(answered).toEqual([]);
    release();
    await held;

    const seen = await Promise.all(atAck);
    expect(seen.sort()).toEqual(clients.flatMap((_, ci) => Array.from({ length: 10 }, (_x, k) => `gc-mqtt-${ci}-${k}:applied`)).sort());
    expect(await http).toEqual({ status: 200, body: { eventId: 'gc-http', status: 'applied' }, row: 'applied' });
    // 41 events from five senders, and fewer commits than events: they were committed together.
    const after = daemon.intake.groupCommitStats;
    expect(after.jobs - before.jobs).toBe(41);
    expect(after.ticks - before.ticks).toBeLessThan(41);
    expect(after.maxTickJobs).toBeGreaterThan(1);
  });
});
