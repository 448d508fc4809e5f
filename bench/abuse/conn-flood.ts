// Issue 10 figures for the control lane, against a real server on 127.0.0.1
// (same process; loopback sources 127.x.y.z stand for distinct client IPs):
// - loginMsBaseline / loginMsUnderFlood: TCP connect + TLS + login of one
//   legitimate client (median of LOGINS), with no flood and then while 2,100
//   sockets from 8 addresses hold connections open without a ClientHello;
//   loginMsUnderHandshakeFlood: the same while 2,100 completed handshakes from
//   105 addresses sit without logging in. A login that fails counts as null
//   (and loginFailures says how many).
// - guessesPerSecPerAccount10Ips: an attacker on 10 addresses, 20 connections
//   each, guessing one account's password for GUESS_SECONDS as fast as the
//   server answers (pausing as retryAfterMs says when throttled): password
//   checks actually performed (AUTH_FAILED answers) per second.
//   ownerLoginAfterGuessing: the owner then logs in from an address it used before.
//   (GUESS_SECONDS mostly shows the burst; sustainedGuessesPerHourPerAccount is
//   the long-run rate the configuration allows.)
// Usage: node dist/bench/abuse/conn-flood.js [guessSeconds]   (one JSON line on stdout)
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadServerConfig } from '../../host/config/server-config.js';
import { HearthServer } from '../../host/server/server.js';
import { hashPassword } from '../../host/server/password.js';
import { AbuseClient, silentSocket } from '../../test/helpers/abuse-client.js';

const FLOOD = 2100;
const LOGINS = 5;
const PASSWORD = 'conn flood bench password';

export interface ConnFloodFigures {
  loginMsBaseline: number | null;
  loginMsUnderFlood: number | null;
  loginMsUnderHandshakeFlood: number | null;
  loginFailures: { baseline: number; flood: number; handshakeFlood: number };
  floodSockets: number;
  /** Unauthenticated sockets the server held during the pre-handshake flood (null: server does not report it). */
  floodHeldByServer: number | null;
  guessesPerSecPerAccount10Ips: number;
  guessesChecked: number;
  guessesThrottled: number;
  guessSeconds: number;
  ownerLoginAfterGuessing: boolean;
  /**
   * Past the burst, the long-run rate the config allows against one account
   * from any number of new addresses (3 600 000 / loginThrottle.accountRefillMs);
   * null when the server has no such limit.
   */
  sustainedGuessesPerHourPerAccount: number | null;
  loadAvg1: number;
}

const median = (a: number[]): number | null => {
  if (a.length === 0) return null;
  const s = [...a].sort((x, y) => x - y);
  return Math.round(s[Math.floor(s.length / 2)]! * 10) / 10;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startBenchServer(): Promise<{ server: HearthServer; port: number; stop: () => Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-bench-abuse-'));
  const config = loadServerConfig({ host: '127.0.0.1', port: 0, dataDir, plugins: { enabled: false } });
  const server = new HearthServer(config, { logger: pino({ level: 'silent' }) });
  const info = await server.start();
  await Promise.all(['owner', 'legit'].map(async (n) => server.store.users.create(n, await hashPassword(PASSWORD), 'member')));
  return {
    server,
    port: info.port,
    stop: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Times LOGINS sequential connect + TLS + login from 127.0.0.1 (an address no flood uses). */
async function timeLogins(port: number): Promise<{ ms: number[]; failures: number }> {
  const ms: number[] = [];
  let failures = 0;
  for (let i = 0; i < LOGINS; i++) {
    const start = process.hrtime.bigint();
    try {
      const c = await AbuseClient.connect(port, undefined, 5000);
      const r = await Promise.race([c.login('legit', PASSWORD), sleep(5000).then(() => null)]);
      if (r?.type === 'reply') ms.push(Number(process.hrtime.bigint() - start) / 1e6);
      else failures++;
      c.close();
    } catch {
      failures++;
    }
    await sleep(50);
  }
  return { ms, failures };
}

function accountRefill(server: HearthServer): number | null {
  const ms = (server.config.loginThrottle as { accountRefillMs?: number }).accountRefillMs;
  return ms === undefined ? null : Math.round(3_600_000 / ms);
}

async function spread<T>(n: number, ips: string[], batch: number, open: (ip: string) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    const wave: Promise<T>[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) wave.push(open(ips[j % ips.length]!));
    out.push(...(await Promise.all(wave)));
  }
  return out;
}

async function guessing(port: number, seconds: number): Promise<{ checked: number; throttled: number }> {
  const ips = Array.from({ length: 10 }, (_, i) => `127.0.20.${i + 1}`);
  const clients = (await spread(200, ips, 50, (ip) => AbuseClient.connect(port, ip).catch(() => null))).filter((c): c is AbuseClient => c !== null);
  const end = Date.now() + seconds * 1000;
  let checked = 0;
  let throttled = 0;
  let n = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (Date.now() < end && !c.closed) {
        const r = await Promise.race([c.login('owner', `guess ${n++}`), sleep(3000).then(() => null)]);
        if (r?.type === 'error' && r.code === 'AUTH_FAILED') checked++;
        else if (r?.type === 'error' && r.code === 'AUTH_THROTTLED') {
          throttled++;
          // A patient attacker comes back when told to (but keeps every connection busy).
          await sleep(Math.min(Number(r.details?.retryAfterMs ?? 200), Math.max(0, end - Date.now()), 1000));
        } else if (r === null) break;
      }
    }),
  );
  for (const c of clients) c.close();
  return { checked, throttled };
}

export async function measureConnFlood(opts: { guessSeconds?: number } = {}): Promise<ConnFloodFigures> {
  const guessSeconds = opts.guessSeconds ?? 10;
  const s = await startBenchServer();
  try {
    // The owner's home address: one good login before the attack.
    const home = await AbuseClient.connect(s.port, '127.0.21.1');
    await home.login('owner', PASSWORD);
    home.close();

    const baseline = await timeLogins(s.port);

    const ips = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
    const sockets: net.Socket[] = await spread(FLOOD, ips, 300, (ip) => silentSocket(s.port, ip));
    const counts = (s.server as unknown as { admissionCounts?: { unauthenticated: number } }).admissionCounts;
    const flood = await timeLogins(s.port);
    for (const x of sockets) x.destroy();
    await sleep(300);

    const hsIps = Array.from({ length: 105 }, (_, i) => `127.0.1.${i + 1}`);
    const parked = (await spread(FLOOD, hsIps, 150, (ip) => AbuseClient.connect(s.port, ip).catch(() => null))).filter((c): c is AbuseClient => c !== null);
    const hsFlood = await timeLogins(s.port);
    for (const c of parked) c.close();
    await sleep(300);

    const g = await guessing(s.port, guessSeconds);
    const back = await AbuseClient.connect(s.port, '127.0.21.1');
    const owner = await Promise.race([back.login('owner', PASSWORD), sleep(5000).then(() => null)]);
    back.close();

    return {
      loginMsBaseline: median(baseline.ms),
      loginMsUnderFlood: median(flood.ms),
      loginMsUnderHandshakeFlood: median(hsFlood.ms),
      loginFailures: { baseline: baseline.failures, flood: flood.failures, handshakeFlood: hsFlood.failures },
      floodSockets: FLOOD,
      floodHeldByServer: counts?.unauthenticated ?? null,
      guessesPerSecPerAccount10Ips: Math.round((g.checked / guessSeconds) * 100) / 100,
      guessesChecked: g.checked,
      guessesThrottled: g.throttled,
      guessSeconds,
      ownerLoginAfterGuessing: owner?.type === 'reply',
      sustainedGuessesPerHourPerAccount: accountRefill(s.server),
      loadAvg1: Math.round(loadavg()[0]! * 100) / 100,
    };
  } finally {
    await s.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = process.argv[2] ? Number(process.argv[2]) : undefined;
  measureConnFlood(seconds === undefined ? {} : { guessSeconds: seconds }).then(
    (f) => {
      process.stdout.write(`${JSON.stringify({ bench: 'abuse-conn-flood', ...f })}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`conn-flood: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
