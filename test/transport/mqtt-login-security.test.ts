/**
 * Issue 10, defect 7 (MQTT half): failed logins slow down per source address and per username, with metrics, and a
 * flood of wrong passwords does not delay a correct login (docs/decisions.md D25); passwords may be scrypt hashes.
 *
 * Time is a ManualClock that the test never advances while it checks the correct login: every delay the throttle
 * imposes waits on that clock, so a correct login answered while the clock stands still was delayed by the throttle
 * for exactly 0 ms (well within the required second). What remains is CPU time, which no assertion measures. The
 * real aedes broker and real sockets are used; "other machines" are other loopback source addresses (127.0.0.2, …).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/logger.js';
import { hashSecret } from '../../src/core/secret-hash.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/transport/embedded-broker.js';
import { LoginThrottle } from '../../src/transport/login-throttle.js';
import { USERS, tempDir, testConfig } from '../support/edge-fixture.js';
import { connackCode, rawConnect } from '../support/raw-mqtt.js';

/** Moves the manual clock a minute at a time (letting sockets and timers run in between) until `p` settles. */
async function advanceUntil<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.finally(() => (done = true)).catch(() => undefined);
  for (let i = 0; i < 200 && !done; i++) {
    clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 10));
  }
  return p;
}

const THROTTLE = { freeFailures: 3, baseDelayMs: 250, maxDelayMs: 15_000, maxPendingPerSource: 4, forgetAfterMs: 900_000 };

describe('LoginThrottle (injected clock)', () => {
  it('grows the delay per failure from the first non-free one, doubling, capped', () => {
    const t = new LoginThrottle(new ManualClock(0), THROTTLE);
    expect([0, 1, 2, 3, 4, 5, 6, 10, 100].map((n) => t.delayFor(n))).toEqual([0, 0, 0, 0, 250, 500, 1000, 15_000, 15_000]);
  });

  it('holds a source with failures until its delay passed, forgets it after forgetAfterMs, and resets on success', async () => {
    const clock = new ManualClock(1_000_000);
    const t = new LoginThrottle(clock, THROTTLE);
    for (let i = 0; i < 5; i++) {
      expect(await t.gate('10.0.0.9')).toEqual({ ok: true, waitedMs: 0 });
      t.done('10.0.0.9', 'pos', false);
      t.release('10.0.0.9');
      if (i < 4) clock.advance(10_000); // past any delay owed so far
    }
    // 5 failures: 2 over the free ones → 500 ms.
    expect(t.sourceWaitMs('10.0.0.9')).toBe(500);
    let admitted = false;
    const gate = t.gate('10.0.0.9').then((r) => (admitted = r.ok));
    await Promise.resolve();
    clock.advance(499);
    await Promise.resolve();
    expect(admitted).toBe(false);
    clock.advance(1);
    await gate;
    expect(admitted).toBe(true);
    t.done('10.0.0.9', 'pos', true);
    expect(t.sourceWaitMs('10.0.0.9')).toBe(0);
    // Another source is never held by this one's failures.
    expect(t.sourceWaitMs('10.0.0.10')).toBe(0);
    // The per-username tarpit: the 6th failure for "pos" is answered after 1000 ms.
    await t.gate('10.0.0.11');
    expect(t.done('10.0.0.11', 'pos', false)).toBe(1000);
    // Forgotten: failures of another source, once forgetAfterMs passed without a new one.
    await t.gate('10.0.0.12');
    t.done('10.0.0.12', 'x', false);
    t.release('10.0.0.12');
    for (let i = 0; i < 4; i++) {
      clock.advance(20_000);
      await t.gate('10.0.0.12');
      t.done('10.0.0.12', 'x', false);
      t.release('10.0.0.12');
    }
    expect(t.sourceWaitMs('10.0.0.12')).toBe(500);
    clock.advance(THROTTLE.forgetAfterMs + 1);
    expect(t.sourceWaitMs('10.0.0.12')).toBe(0);
  });

  it('refuses more than maxPendingPerSource logins of one source at once, unchecked', async () => {
    const clock = new ManualClock(0);
    const t = new LoginThrottle(clock, { ...THROTTLE, freeFailures: 0 });
    await t.gate('s');
    t.done('s', 'u', false);
    t.release('s');
    const waiting = [t.gate('s'), t.gate('s'), t.gate('s'), t.gate('s')];
    expect(await t.gate('s')).toEqual({ ok: false, reason: 'busy' });
    clock.advance(250);
    expect((await Promise.all(waiting)).every((r) => r.ok)).toBe(true);
  });
});

describe('embedded broker logins', () => {
  const tmp = tempDir();
  let broker: EmbeddedBroker | null = null;
  afterEach(async () => {
    await broker?.close();
    broker = null;
  });

  async function start(users: { username: string; password: string; role: 'ap' | 'publisher' | 'observer'; apId?: string }[], clock = new ManualClock(Date.now())) {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString('utf8'));
        cb();
      },
    });
    const config = testConfig(tmp.dir, { mqtt: { embedded: { enabled: true, host: '127.0.0.1', port: 0, loginThrottle: THROTTLE }, users } });
    broker = await startEmbeddedBroker({ config, log: createLogger({ level: 'debug', destination }), clock, host: '127.0.0.1', port: 0, maxPacketBytes: 256 * 1024 });
    return { broker, clock, lines };
  }

  it('a flood of wrong passwords from one address does not delay a correct login from another (throttle delay 0 ms)', async () => {
    const { broker: b, clock } = await start(Object.values(USERS));
    const attacker = '127.0.0.2';
    // 60 wrong passwords for "pos", all at once, from one address.
    const flood = Array.from({ length: 60 }, (_, i) => connackCode({ port: b.port, localAddress: attacker, username: 'pos', password: `guess-${i}`, clientId: `flood-${i}` }));
    // While they are being answered (and the clock stands still), the real POS logs in from its own address.
    const real = await connackCode({ port: b.port, localAddress: '127.0.0.3', username: USERS.pos.username, password: USERS.pos.password, clientId: 'pos-real' });
    expect(real.code).toBe(0);
    real.client.end();
    // MQTT.js too (from 127.0.0.1), and an AP whose username is not under attack.
    const js = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { username: USERS.pos.username, password: USERS.pos.password, reconnectPeriod: 0 });
    await js.endAsync();
    // Credentials that logged in before skip the source throttle: a device sharing the attacker's address (NAT)
    // is admitted at once, while that address's guesses wait (held on the standing clock, or refused as busy).
    const neighbour = await connackCode({ port: b.port, localAddress: attacker, username: USERS.pos.username, password: USERS.pos.password, clientId: 'pos-neighbour' });
    expect(neighbour.code).toBe(0);
    neighbour.client.end();
    // ... but a first-time login from there is held like any guess (the AP's credentials never logged in before).
    const firstTime = connackCode({ port: b.port, localAddress: attacker, username: USERS.ap1.username, password: USERS.ap1.password, clientId: 'AP-1' });
    expect(await Promise.race([firstTime.then((r) => r.code), new Promise<'held'>((r) => setTimeout(() => r('held'), 300))])).not.toBe(0);
    // The flood: 3 free failures answered 4 at once; 4 more wait for the (standing) clock; the rest are refused
    // unchecked with CONNACK 3 "Server unavailable" (§3.2.2.3) — never CONNACK 0, never an undefined code.
    const settled = await Promise.race([Promise.all(flood), new Promise<null>((r) => setTimeout(() => r(null), 300))]);
    expect(settled).toBeNull(); // some are still held: the throttle is holding them on the manual clock
    const late = await advanceUntil(clock, firstTime);
    late.client.end();
    const codes = (await advanceUntil(clock, Promise.all(flood))).map((r) => (r.client.end(), r.code));
    expect(codes.filter((c) => c === 4).length).toBeGreaterThanOrEqual(3);
    expect(codes.filter((c) => c === 3).length).toBeGreaterThanOrEqual(40);
    expect(codes.every((c) => c === 3 || c === 4)).toBe(true);
    // (That the attacker's own address is held back, a correct login from it included, is the unit test above.)
    const metrics = await b.metrics.metrics();
    expect(metrics).toMatch(/esl_edge_mqtt_login_failures_total\{reason="bad password"\} ([0-9]+)/);
    expect(Number(/esl_edge_mqtt_logins_throttled_total\{kind="busy"\} ([0-9]+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(40);
  });

  it('accepts scrypt-hashed passwords, warns about plaintext ones by name only and never logs a secret', async () => {
    const hashed = await hashSecret(USERS.pos.password, { logN: 10 });
    const { broker: b, lines } = await start([{ ...USERS.pos, password: hashed }, USERS.ap1]);
    expect((await connackCode({ port: b.port, username: 'pos', password: USERS.pos.password, clientId: 'pos-h' })).code).toBe(0);
    const wrong = await connackCode({ port: b.port, username: 'pos', password: 'not-the-password', clientId: 'pos-w' });
    expect(wrong.code).toBe(4);
    wrong.client.end();
    const ap = await rawConnect({ port: b.port, username: USERS.ap1.username, password: USERS.ap1.password, clientId: 'AP-1' });
    expect(await ap.next()).toMatchObject({ cmd: 'connack', returnCode: 0 });
    ap.end();
    const log = lines.join('');
    const warning = lines.map((l) => JSON.parse(l) as { evt?: string; where?: string; names?: string[] }).find((l) => l.evt === 'config.plaintext_secret' && l.where === 'mqtt.users');
    expect(warning?.names).toEqual(['ap-1']);
    for (const secret of [USERS.pos.password, USERS.ap1.password, 'not-the-password', hashed]) expect(log).not.toContain(secret);
  });
});
