/**
 * A throwaway certificate authority and a server certificate for 127.0.0.1/localhost, made with openssl (Debian's
 * `openssl` package) at test time, so no key material is ever committed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export interface TestCa {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

export function makeTestCa(dir: string, commonName = 'localhost'): TestCa {
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', '/CN=esl-edge test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${commonName}`);
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\nbasicConstraints=CA:FALSE\\n' > '${p('server.ext')}'`]);
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '1', '-extfile', p('server.ext'));
  return { caCert: p('ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key') };
}
