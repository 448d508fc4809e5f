// The opt-in HTTP endpoint (metrics.listen / --metrics): /metrics in the
// Prometheus text format, /healthz and /readyz as JSON. Plain node:http on its
// own address, apart from the control lane, so it can stay on loopback or a
// private network while the voice ports face the internet. Read-only: GET and
// HEAD only, nothing it answers changes the server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';
import { OpsError } from './errors.js';
import type { HealthChecks } from './health.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';

export interface Endpoint {
  /** Where it listens (the port resolved when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function startEndpoint(opts: { listen: ListenAddress; registry: Registry; health: HealthChecks; version: string; log: Logger }): Promise<Endpoint> {
  const { registry, health, log } = opts;
  const startedAt = Date.now();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body) + '\n');
    };
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
          res.end(req.method === 'HEAD' ? undefined : text);
        },
        (err: unknown) => {
          log.error({ err }, 'metrics: collecting failed');
          json(500, { error: 'collecting metrics failed' });
        },
      );
    } else if (path === '/healthz') {
      json(200, { status: 'ok', version: opts.version, pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
    } else if (path === '/readyz') {
      const r = health.readiness();
      if (!r.ready) log.warn({ checks: r.checks }, 'readiness probe failed');
      json(r.ready ? 200 : 503, r);
    } else json(404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
  });
  // A scraper that opens a connection and says nothing must not hold it forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new OpsError('METRICS_BIND_FAILED', `metrics endpoint cannot listen on ${formatListenAddress(opts.listen)}: ${err.message}`)));
    server.listen(opts.listen.port, opts.listen.host, () => resolve());
  });
  server.on('error', (err) => log.error({ err }, 'metrics endpoint error'));
  const a = server.address() as AddressInfo;
  const address = { host: opts.listen.host, port: a.port };
  log.info({ address: formatListenAddress(address) }, 'metrics endpoint listening (/metrics, /healthz, /readyz)');
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
