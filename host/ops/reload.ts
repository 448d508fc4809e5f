// SIGHUP: the configuration file and the TLS certificate are read again and
// applied without disconnecting anyone. What can change on the fly does (new
// connections get the new certificate; connections already open keep the one
// they shook hands with); what is fixed at start (sockets, sizes of structures
// built once) is reported as needing a restart and left as it was. A config
// that does not validate, or a certificate that cannot be read or does not
// match its key, changes nothing at all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { ServerConfig } from '../config/server-config.js';
import { fingerprintOf } from '../tls/certificate.js';
import { OpsError } from './errors.js';

/**
 * Keys read once at start, by the listeners, the voice lane, the plugin
 * manager, the logger, connection admission or the login guard: changing them
 * takes a restart. A prefix covers every key under it.
 */
export const RESTART_KEYS = [
  'dataDir',
  'host',
  'port',
  'voice',
  'plugins',
  'metrics',
  'log',
  'loginThrottle',
  'limits.maxConnections',
  'limits.maxConnectionsPerIp',
  'limits.maxUnauthenticated',
  'limits.handshakeTimeoutMs',
  'limits.registrationsPerIp',
  'limits.registrationWindowMs',
] as const;

export interface ReloadOutcome {
  /** Keys whose new value is in effect now (limits.* of a connection: for connections opened from now on). */
  applied: string[];
  /** Keys that changed in the file but keep their old value until a restart. */
  needsRestart: string[];
  fingerprint: string;
  certificateChanged: boolean;
  /** The identity now served to new connections (holds the private key: never log it). */
  identity: Identity;
}

export interface Identity {
  key: string;
  cert: string;
  fingerprint: string;
  certFile: string;
  keyFile: string;
}

/** The identity the new config points at. Never generates one: a missing file is an error here, not a reason for a new fingerprint. */
export function readIdentity(cfg: ServerConfig): Identity {
  const certFile = cfg.tls.certFile ?? join(cfg.dataDir, 'tls', 'cert.pem');
  const keyFile = cfg.tls.keyFile ?? join(cfg.dataDir, 'tls', 'key.pem');
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certFile, 'utf8');
    key = readFileSync(keyFile, 'utf8');
  } catch (err) {
    throw new OpsError('RELOAD_FAILED', `cannot read the TLS identity: ${(err as Error).message}`);
  }
  try {
    // Throws on a bad PEM or a key that does not belong to the certificate.
    tls.createSecureContext({ key, cert });
    return { key, cert, fingerprint: fingerprintOf(cert), certFile, keyFile };
  } catch (err) {
    throw new OpsError('RELOAD_FAILED', `the TLS identity in ${certFile} / ${keyFile} is unusable: ${(err as Error).message}`);
  }
}

const isRestartKey = (path: string) => RESTART_KEYS.some((k) => path === k || path.startsWith(`${k}.`));

function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) leaves(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, value);
  return out;
}

/** Writes `value` at `path` into the live config object (every component holds that same object). */
function assign(live: ServerConfig, path: string, value: unknown): void {
  const parts = path.split('.');
  let obj = live as unknown as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) {
    if (obj[p] === undefined || obj[p] === null || typeof obj[p] !== 'object') obj[p] = {};
    obj = obj[p] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete obj[last];
  else obj[last] = value;
}

/**
 * Applies `next` to `live` and the certificate to `tlsServer`. Both are
 * checked before anything changes: on a throw, nothing did.
 */
export function applyReload(live: ServerConfig, next: ServerConfig, tlsServer: tls.Server, currentFingerprint: string): ReloadOutcome {
  const identity = readIdentity(next);
  const before = leaves(live, '', new Map());
  const after = leaves(next, '', new Map());
  const applied: string[] = [];
  const needsRestart: string[] = [];
  for (const path of new Set([...before.keys(), ...after.keys()])) {
    if (JSON.stringify(before.get(path)) === JSON.stringify(after.get(path))) continue;
    if (isRestartKey(path)) needsRestart.push(path);
    else applied.push(path);
  }
  tlsServer.setSecureContext({ key: identity.key, cert: identity.cert, minVersion: 'TLSv1.3' });
  for (const path of applied) assign(live, path, after.get(path));
  return { applied, needsRestart, fingerprint: identity.fingerprint, certificateChanged: identity.fingerprint !== currentFingerprint, identity };
}
