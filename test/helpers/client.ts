// Client cores for the integration tests: a real ClientCore (its audio engine
// thread, Opus, jitter buffers, UDP socket) connected over real TLS and UDP to
// a real server from ./server.ts, with WAV or virtual devices.
import { join } from 'node:path';
import pino from 'pino';
import { ClientCore, type ClientCoreOptions } from '../../host/client/core/client-core.js';
import type { ClientSnapshot } from '../../host/client/core/snapshot.js';
import { PASSWORD, tempDir, type TestServer } from './server.js';

export const quietLogger = pino({ level: process.env.HEARTH_TEST_LOG ? 'debug' : 'silent' });

export async function startCore(opts: Partial<ClientCoreOptions> = {}): Promise<ClientCore> {
  return ClientCore.start({ logger: quietLogger, knownHostsFile: join(tempDir('hearth-client-'), 'known_hosts.json'), ...opts });
}

/** Connects a core as `username` and waits until it is connected (or fails the test). */
export async function connectCore(core: ClientCore, t: TestServer, username: string, extra: { channel?: string; password?: string; fingerprint?: boolean } = {}): Promise<ClientSnapshot> {
  core.push({
    type: 'connect',
    server: { host: '127.0.0.1', port: t.port },
    username,
    password: extra.password ?? PASSWORD,
    ...(extra.fingerprint === false ? {} : { fingerprint: t.fingerprint }),
    ...(extra.channel ? { channel: extra.channel } : {}),
  });
  const s = await core.state.until((x) => x.connection.status === 'connected' || x.connection.status === 'failed', 10_000);
  if (s.connection.status !== 'connected') throw new Error(`${username} did not connect: ${JSON.stringify(s.connection.error)}`);
  return s;
}

/** Waits until `core` hears (has a jitter buffer for) `n` speakers and the voice lane runs. */
export function until(core: ClientCore, pred: (s: ClientSnapshot) => boolean, timeoutMs = 10_000): Promise<ClientSnapshot> {
  return core.state.until(pred, timeoutMs);
}
