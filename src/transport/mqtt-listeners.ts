/**
 * The embedded broker's listeners: plain TCP (MQTT 3.1.1 §4.2, port 1883) and/or TLS (§5.1, port 8883).
 *
 * With `tls.clientCa` the TLS listener asks for client certificates signed by that CA (mutual TLS for APs, protocol
 * §11.3 "or client certificate"); `requireClientCert` (default: on when a client CA is set) refuses the handshake of
 * clients without one. When the plain listener is off, the edge's own client still needs a way in that does not
 * depend on the certificate's names: a loopback listener on an ephemeral port that only the edge's user may use.
 *
 * Every socket gets TCP keepalive: MQTT keepalive 0 is legal (§3.1.2.10) and turns off the broker's own check, so
 * without it a peer that vanished without a FIN would hold its connection (and client id) for good.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../core/logger.js';
import type { Config } from '../config/config-schema.js';

const TCP_KEEPALIVE_MS = 60_000;

export interface BrokerListeners {
  port: number;
  tlsPort: number | null;
  edgeUrl: string;
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

function loopbackOf(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export async function startBrokerListeners(opts: {
  handle: (socket: Socket) => void;
  embedded: Config['mqtt']['embedded'];
  baseDir: string;
  host: string;
  port: number;
  log: Logger;
  markEdgeOnly: (socket: Socket) => void;
}): Promise<BrokerListeners> {
  const { embedded, log } = opts;
  const servers: Server[] = [];
  const accept = (socket: Socket) => {
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    opts.handle(socket);
  };
  try {
    let port: number;
    let edgeUrl: string;
    if (embedded.plain) {
      const plain = createServer(accept);
      servers.push(plain);
      port = await listen(plain, opts.port, opts.host);
      edgeUrl = `mqtt://${loopbackOf(opts.host)}:${port}`;
      log.info({ evt: 'mqtt.broker_started', host: opts.host, port }, 'embedded MQTT broker listening');
    } else {
      const internal = createServer((socket) => {
        opts.markEdgeOnly(socket);
        accept(socket);
      });
      servers.push(internal);
      port = await listen(internal, 0, '127.0.0.1');
      edgeUrl = `mqtt://127.0.0.1:${port}`;
    }
    let tlsPort: number | null = null;
    if (embedded.tls) {
      const t = embedded.tls;
      const file = (name: string) => readFileSync(isAbsolute(name) ? name : resolve(opts.baseDir, name));
      const requireCert = t.requireClientCert ?? t.clientCa !== undefined;
      const server = createTlsServer(
        {
          cert: file(t.cert),
          key: file(t.key),
          ...(t.clientCa ? { ca: file(t.clientCa), requestCert: true, rejectUnauthorized: requireCert } : {}),
          minVersion: 'TLSv1.2',
        },
        (socket: TLSSocket) => accept(socket),
      );
      server.on('tlsClientError', (err) => log.warn({ evt: 'mqtt.tls_refused', err: err.message }, 'TLS handshake refused'));
      servers.push(server);
      const host = t.host ?? opts.host;
      tlsPort = await listen(server, t.port, host);
      log.info({ evt: 'mqtt.tls_started', host, port: tlsPort, mutual: t.clientCa !== undefined, requireClientCert: requireCert }, 'embedded MQTT broker listening (TLS)');
    }
    return {
      port,
      tlsPort,
      edgeUrl,
      async close() {
        await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
      },
    };
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
}
