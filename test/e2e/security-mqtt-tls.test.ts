/**
 * Issue 10, defect 7 (MQTT half): MQTT over TLS (MQTT 3.1.1 §5.1) with mutual TLS for APs (protocol §11.3 "or client
 * certificate"). A throwaway CA and certificates are made with openssl at test time; every client verifies the
 * server (rejectUnauthorized). Plain TCP is off here, so the edge's own client uses the loopback edge-only listener.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect as tlsConnect_ } from 'node:tls';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { Daemon } from '../../src/daemon.js';
import { ROOT, USERS, startTestDaemon, tempDir } from '../support/edge-fixture.js';
import { connackCode } from '../support/raw-mqtt.js';

function openssl(cwd: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA (`name`.crt/.key) and leaf certificates signed by it. */
function makeCa(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`);
}
function makeLeaf(dir: string, ca: string, name: string, cn: string, server = false): void {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(join(dir, `${name}.ext`), server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
}

describe('MQTT over TLS with client certificates', () => {
  const tmp = tempDir();
  const pki = tempDir();
  let daemon: Daemon;
  let tlsPort: number;
  const file = (name: string) => readFileSync(join(pki.dir, name));

  beforeAll(async () => {
    makeCa(pki.dir, 'store-ca');
    makeCa(pki.dir, 'rogue-ca');
    makeLeaf(pki.dir, 'store-ca', 'server', 'esl-edge', true);
    makeLeaf(pki.dir, 'store-ca', 'ap-1', 'ap-1');
    makeLeaf(pki.dir, 'store-ca', 'ap-2', 'ap-2');
    makeLeaf(pki.dir, 'store-ca', 'pos', 'pos');
    makeLeaf(pki.dir, 'rogue-ca', 'rogue-ap-1', 'ap-1');
    daemon = await startTestDaemon(tmp.dir, {
      mqtt: {
        embedded: {
          enabled: true,
          host: '127.0.0.1',
          port: 0,
          plain: false,
          tls: { port: 0, cert: join(pki.dir, 'server.crt'), key: join(pki.dir, 'server.key'), clientCa: join(pki.dir, 'store-ca.crt') },
        },
        users: Object.values(USERS),
      },
    });
    tlsPort = daemon.broker!.tlsPort!;
  });
  afterAll(async () => {
    await daemon?.stop();
    tmp.remove();
    pki.remove();
  });

  const tlsConnect = (cert: string | null, user: { username: string; password: string }, clientId: string, ca = 'store-ca.crt') =>
    mqtt.connectAsync({
      protocol: 'mqtts',
      host: '127.0.0.1',
      port: tlsPort,
      ca: file(ca),
      ...(cert ? { cert: file(`${cert}.crt`), key: file(`${cert}.key`) } : {}),
      rejectUnauthorized: true,
      username: user.username,
      password: user.password,
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 5_000,
    });

  const refusal = async (p: Promise<mqtt.MqttClient>): Promise<string> => {
    try {
      const c = await p;
      await c.endAsync(true);
      return 'connected';
    } catch (err) {
      const e = err as { code?: number | string; message?: string };
      return typeof e.code === 'number' ? `connack ${e.code}` : String(e.code ?? e.message);
    }
  };

  it('accepts an AP with its certificate and password, both sides verified', async () => {
    const ap = await tlsConnect('ap-1', USERS.ap1, 'AP-1');
    await ap.publishAsync(`${ROOT}/ap/AP-1/status`, 'online', { qos: 1, retain: true });
    await ap.endAsync();
  });

  it('fails when the client does not trust the server (verification on)', async () => {
    expect(await refusal(tlsConnect('ap-1', USERS.ap1, 'AP-1', 'rogue-ca.crt'))).not.toBe('connected');
  });

  /**
   * With TLS 1.3 the server refuses a client certificate after the client considers the handshake done, so MQTT.js
   * sees only a closed socket; a raw TLS socket shows what happens: no CONNACK, the connection closed.
   */
  const rawTlsConnack = (cert: string | null) =>
    new Promise<{ bytes: number }>((resolve) => {
      const chunks: Buffer[] = [];
            const socket = tlsConnect_({ host: '127.0.0.1', port: tlsPort, ca: file('store-ca.crt'), rejectUnauthorized: true, ...(cert ? { cert: file(`${cert}.crt`), key: file(`${cert}.key`) } : {}) }, () => {
        socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'AP-1', keepalive: 60, username: USERS.ap1.username, password: Buffer.from(USERS.ap1.password) }));
      });
      socket.on('data', (d) => {
        chunks.push(d);
        socket.destroy();
      });
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ bytes: Buffer.concat(chunks).length }));
    });

  it('refuses a client without a certificate, or with one from another CA, in the TLS handshake', async () => {
    // Control: with the right certificate, the same raw client gets its CONNACK (4 bytes).
    expect((await rawTlsConnack('ap-1')).bytes).toBe(4);
    for (const cert of [null, 'rogue-ap-1']) expect((await rawTlsConnack(cert)).bytes).toBe(0);
  });

  it("refuses a certificate whose CN is not the login's username (CONNACK 5)", async () => {
    expect(await refusal(tlsConnect('ap-2', USERS.ap1, 'AP-1'))).toBe('connack 5');
    expect(await refusal(tlsConnect('ap-2', USERS.ap2, 'AP-2'))).toBe('connected');
  });

  it('with plain TCP off, the loopback listener admits only the edge, and the edge still answers over TLS', async () => {
    const { code, client } = await connackCode({ port: daemon.mqttPort, username: USERS.pos.username, password: USERS.pos.password, clientId: 'pos-plain' });
    client.end();
    expect(code).toBe(5);
    const pos = await tlsConnect('pos', USERS.pos, 'pos-tls');
    await pos.subscribeAsync(`${ROOT}/reply/pos/#`, { qos: 1 });
    const reply = new Promise<string>((r) => pos.once('message', (_t, p) => r(p.toString('utf8'))));
    await pos.publishAsync(`${ROOT}/in/price`, JSON.stringify({ id: 'tls-1', source: 'test', version: 1, type: 'price', data: { gtin: '4006381333931', priceCents: 99, currency: 'EUR' }, replyTo: `${ROOT}/reply/pos/tls` }), { qos: 1 });
    expect(JSON.parse(await reply)).toMatchObject({ eventId: 'tls-1' });
    await pos.endAsync();
  });
});
