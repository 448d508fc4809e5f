// The server's TLS identity. Self-signed ECDSA P-256 generated on first run and
// kept in <data>/tls, unless the admin points at their own files. Clients pin
// the SHA-256 fingerprint of the certificate (TOFU), so it must stay stable
// across restarts: we never regenerate an existing pair.
import { X509Certificate, createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

// The pair is made in a short-lived worker thread: @peculiar/x509 and its ASN.1
// stack would otherwise stay in the server's heap for its whole life (about 1 MB
// resident after a first run, issue 12); the worker's isolate is freed when it exits.
function generate(commonName: string): Promise<{ key: string; cert: string }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./generate-worker.js', import.meta.url), { workerData: { commonName } });
    let result: { key: string; cert: string } | null = null;
    worker.once('message', (m: { key: string; cert: string }) => (result = m));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (result !== null) resolve(result);
      else reject(new Error(`tls: certificate generation failed (worker exited with code ${code})`));
    });
  });
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
