// `hearth status --data DIR`: what /healthz and /readyz say, for a shell.
// It finds the server through <data>/hearth.run.json. With the metrics
// endpoint on, it asks the server itself; without it, it checks what it can
// from outside: the process exists, the control port accepts a connection,
// and the database takes a write from this process.
// Exit status: 0 ready, 1 running but not ready, 3 not running (as LSB's
// `status` actions do).
import Database from 'better-sqlite3';
import net from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { READY_PROBE_KEY, type CheckResult, type Readiness } from '../ops/health.js';
import { parseListenAddress } from '../ops/listen-address.js';
import { processAlive, readRunFile, type RunInfo } from '../ops/run-file.js';
import { escapeField, out } from './output.js';

export const EXIT_NOT_READY = 1;
export const EXIT_NOT_RUNNING = 3;

/** A wildcard bind address is reached on loopback. */
function reachable(hostPort: string): { host: string; port: number } {
  const a = parseListenAddress(hostPort);
  const host = a.host === '0.0.0.0' ? '127.0.0.1' : a.host === '::' ? '::1' : a.host;
  return { host, port: a.port };
}

const url = (hostPort: string, path: string) => {
  const { host, port } = reachable(hostPort);
  return `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}${path}`;
};

async function fromEndpoint(info: RunInfo): Promise<{ healthy: boolean; readiness: Readiness | null; error?: string }> {
  try {
    const h = await fetch(url(info.metrics!, '/healthz'), { signal: AbortSignal.timeout(5000) });
    const r = await fetch(url(info.metrics!, '/readyz'), { signal: AbortSignal.timeout(10_000) });
    return { healthy: h.ok, readiness: (await r.json()) as Readiness };
  } catch (err) {
    return { healthy: false, readiness: null, error: `metrics endpoint ${info.metrics} did not answer: ${(err as Error).message}` };
  }
}

function tcpCheck(hostPort: string): Promise<CheckResult> {
  const { host, port } = reachable(hostPort);
  return new Promise((done) => {
    const s = net.connect({ host, port });
    const finish = (r: CheckResult) => {
      s.destroy();
      done(r);
    };
    s.setTimeout(3000, () => finish({ ok: false, detail: `no TCP answer from ${hostPort}` }));
    s.once('connect', () => finish({ ok: true, detail: `tls ${hostPort} accepts connections` }));
    s.once('error', (err) => finish({ ok: false, detail: `tcp ${hostPort}: ${err.message}` }));
  });
}

/** The same write the server's probe makes, from this process (the file must take writes from anyone who runs the server). */
function databaseCheck(dataDir: string): CheckResult {
  try {
    const db = new Database(join(dataDir, 'hearth.db'), { fileMustExist: true, timeout: 2000 });
    try {
      db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(READY_PROBE_KEY, String(Date.now()));
      return { ok: true, detail: 'write probe (from this process) ok' };
    } finally {
      db.close();
    }
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, detail: `write failed: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}` };
  }
}

async function fromOutside(dataDir: string, info: RunInfo): Promise<Readiness> {
  const checks: Readiness['checks'] = {
    draining: { ok: true, detail: 'unknown without the metrics endpoint' },
    control: await tcpCheck(info.control),
    voice: { ok: true, detail: `udp ${info.voice} (bound at start; not probed from outside)` },
    database: databaseCheck(dataDir),
  };
  return { ready: Object.values(checks).every((c) => c.ok), checks };
}

export async function status(dataDirArg: string, json: boolean): Promise<number> {
  const dataDir = resolve(dataDirArg);
  const info = readRunFile(dataDir);
  if (info === null || !processAlive(info.pid)) {
    if (json) out(JSON.stringify({ running: false, stale: info !== null }));
    else out(info === null ? `not running (no ${join(dataDir, 'hearth.run.json')})` : `not running (pid ${info.pid} is gone: the server did not stop cleanly)`);
    return EXIT_NOT_RUNNING;
  }
  const viaEndpoint = info.metrics !== null ? await fromEndpoint(info) : null;
  const readiness = viaEndpoint?.readiness ?? (viaEndpoint === null ? await fromOutside(dataDir, info) : null);
  const healthy = viaEndpoint === null ? true : viaEndpoint.healthy;
  const ready = healthy && readiness !== null && readiness.ready;
  if (json) {
    out(JSON.stringify({ running: true, pid: info.pid, version: info.version, startedAt: info.startedAt, healthy, ready, readiness, source: viaEndpoint ? 'endpoint' : 'outside', error: viaEndpoint?.error }));
  } else {
    out(`Hearth ${escapeField(info.version)}, pid ${info.pid}, running since ${escapeField(info.startedAt)}`);
    out(`healthz: ${healthy ? 'ok' : 'FAILING'}${viaEndpoint?.error ? ` (${escapeField(viaEndpoint.error)})` : ''}`);
    out(`readyz: ${ready ? 'ready' : 'NOT READY'}${viaEndpoint ? ` (from ${escapeField(info.metrics)})` : ' (checked from outside: no metrics endpoint)'}`);
    for (const [name, c] of Object.entries(readiness?.checks ?? {})) out(`  ${name.padEnd(9)} ${c.ok ? 'ok  ' : 'FAIL'}  ${escapeField(c.detail)}`);
  }
  return ready ? 0 : EXIT_NOT_READY;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('is the server on this data directory alive and ready? (exit 0 ready, 1 not ready, 3 not running)')
    .option('-d, --data <dir>', 'data directory', './hearth-data')
    .option('--json', 'print one JSON object')
    .action(async (o: { data: string; json?: boolean }) => {
      process.exitCode = await status(o.data, Boolean(o.json));
    });
}
