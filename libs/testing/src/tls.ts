import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** A self-signed certificate's files: `certFile` is also the CA an agent is told to trust. */
export interface SelfSignedCertificate {
  certFile: string;
  keyFile: string;
}

/**
 * A self-signed P-256 certificate (openssl) for the given IP addresses and DNS names, written to
 * `dir` as cert.pem / key.pem : what an operator configures as GRPC_TLS_CERT_FILE /
 * GRPC_TLS_KEY_FILE, and the agents' TRIAD_GRPC_TLS_CA_FILE.
 */
export function selfSignedCertificate(dir: string, names: { ips?: string[]; dns?: string[]; days?: number }): SelfSignedCertificate {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const san = [...(names.ips ?? []).map((ip) => `IP:${ip}`), ...(names.dns ?? []).map((d) => `DNS:${d}`)];
  if (san.length === 0) throw new Error('selfSignedCertificate: name at least one IP address or DNS name');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', String(names.days ?? 7), '-subj', '/CN=triad-control-plane', '-addext', `subjectAltName=${san.join(',')}`, '-keyout', keyFile, '-out', certFile],
    { stdio: ['ignore', 'ignore', 'pipe'] }, // openssl creates the key file 0600
  );
  return { certFile, keyFile };
}
