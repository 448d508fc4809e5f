// The server's TLS identity. Self-signed ECDSA P-256 generated on first run and
// kept in <data>/tls, unless the admin points at their own files. Clients pin
// the SHA-256 fingerprint of the certificate (TOFU), so it must stay stable
// across restarts: we never regenerate an existing pair.
import { webcrypto, X509Certificate, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// Loaded only to generate a certificate (first run): @peculiar/x509 and its
// ASN.1 stack cost a running server several MB of memory it never uses again.
import type * as X509 from '@peculiar/x509';

export interface TlsIdentity {
  key: string;
  cert: string;
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by ':' (as openssl prints it). */
  fingerprint: string;
  generated: boolean;
  certFile: string;
  keyFile: string;
}

export function fingerprintOf(certPemOrDer: string | Buffer): string {
  const der = typeof certPemOrDer === 'string' ? new X509Certificate(certPemOrDer).raw : certPemOrDer;
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}

async function generate(commonName: string): Promise<{ key: string; cert: string }> {
  const x509: typeof X509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof X509.cryptoProvider.set>[0]);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = new Date();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, '_')}`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 20 * 365 * 24 * 3600_000),
    signingAlgorithm: alg,
    keys: keys as unknown as Parameters<typeof X509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { key: keyPem, cert: cert.toString('pem') + '\n' };
}

export async function loadOrCreateIdentity(opts: {
  dataDir: string;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  commonName: string;
}): Promise<TlsIdentity> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('tls: give both certFile and keyFile, or neither');
    const cert = readFileSync(opts.certFile, 'utf8');
    const key = readFileSync(opts.keyFile, 'utf8');
    return { cert, key, fingerprint: fingerprintOf(cert), generated: false, certFile: opts.certFile, keyFile: opts.keyFile };
  }
  const dir = join(opts.dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    return { cert, key: readFileSync(keyFile, 'utf8'), fingerprint: fingerprintOf(cert), generated: false, certFile, keyFile };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { key, cert } = await generate(opts.commonName);
  writeFileSync(keyFile, key, { mode: 0o600 });
  writeFileSync(certFile, cert, { mode: 0o644 });
  return { cert, key, fingerprint: fingerprintOf(cert), generated: true, certFile, keyFile };
}
