// Makes a self-signed ECDSA P-256 pair for host/tls/certificate.ts, in a worker
// thread of its own so that @peculiar/x509 never loads into the server's isolate.
import { webcrypto } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type * as X509 from '@peculiar/x509';

export async function generate(commonName: string): Promise<{ key: string; cert: string }> {
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

const { commonName } = workerData as { commonName: string };
parentPort!.postMessage(await generate(commonName));
