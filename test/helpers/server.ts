// Test harness: a real HearthServer on 127.0.0.1 (ephemeral port) with a fresh
// data directory (real SQLite file, real TLS, real log files), and clients that
// talk to it over real TLS sockets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerConfig, type ServerConfigInput } from '../../host/config/server-config.js';
import { HearthServer } from '../../host/server/server.js';
import { ControlClient, ServerError } from '../../host/client/control/control-client.js';
import { hashPassword } from '../../host/server/password.js';
import type { Role } from '../../host/protocol/roles.js';

export const PASSWORD = 'correct horse battery';

export function tempDir(prefix = 'hearth-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestServer {
  server: HearthServer;
  dataDir: string;
  port: number;
  fingerprint: string;
  bootstrapToken: string | null;
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** Starts a server. `dataDir` reuses an existing directory (restart tests). */
export async function startServer(overrides: ServerConfigInput = {}, dataDir = tempDir()): Promise<TestServer> {
  const config = loadServerConfig({
    host: '127.0.0.1',
    port: 0,
    ...overrides,
    dataDir,
    log: { level: 'debug', pretty: false, ...(overrides.log ?? {}) },
  });
  const server = new HearthServer(config);
  const info = await server.start();
  return {
    server,
    dataDir,
    port: info.port,
    fingerprint: info.fingerprint,
    bootstrapToken: info.bootstrapToken,
    async stop(opts = {}) {
      await server.stop();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function connect(t: TestServer, extra: { pingIntervalMs?: number } = {}): Promise<ControlClient> {
  return ControlClient.connect({ host: '127.0.0.1', port: t.port, fingerprint: t.fingerprint, pingIntervalMs: extra.pingIntervalMs ?? 0 });
}

/** Creates an account straight in the database (as the admin CLI does). */
export async function createUser(t: TestServer, username: string, role: Role = 'member', password = PASSWORD): Promise<number> {
  const user = t.server.store.users.create(username, await hashPassword(password), role);
  if (!user) throw new Error(`user ${username} exists`);
  return user.id;
}

/** Creates the account if needed, connects and logs in. */
export async function loginAs(t: TestServer, username: string, role: Role = 'member'): Promise<ControlClient> {
  if (!t.server.store.users.findByName(username)) await createUser(t, username, role);
  const c = await connect(t);
  await c.login(username, PASSWORD);
  return c;
}

/** Asserts that `p` rejects with a ServerError of `code`, and returns it. */
export async function expectError(p: Promise<unknown>, code: string): Promise<ServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ServerError && err.code === code) return err;
    throw new Error(`expected ${code}, got ${err instanceof ServerError ? err.code : String(err)}`);
  }
  throw new Error(`expected ${code}, but the request succeeded`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns truthy. */
export async function eventually<T>(fn: () => T | undefined | null | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
