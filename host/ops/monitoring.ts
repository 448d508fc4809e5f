// Puts the monitoring pieces together for one server: the forwarding timer on
// its voice lane, the metrics registry, the health checks and the HTTP
// endpoint. Nothing here runs unless metrics.listen is set, and the metrics
// registry (prom-client, 5 MB of resident memory) is only loaded then.
import type { Logger } from '../log/logger.js';
import { startEndpoint } from './endpoint.js';
import { ForwardTiming, timeForwarding } from './forward-timing.js';
import { HealthChecks, type ReadinessSource } from './health.js';
import { parseListenAddress, type ListenAddress } from './listen-address.js';
import type { MetricsSource } from './metrics.js';

export interface Monitoring {
  readonly address: ListenAddress;
  close(): Promise<void>;
}

export async function startMonitoring(server: MetricsSource & ReadinessSource, listen: string, version: string, log: Logger): Promise<Monitoring> {
  const { buildRegistry } = await import('./metrics.js');
  const timing = new ForwardTiming();
  const untime = timeForwarding(server.voice, timing);
  const registry = buildRegistry(server, version, timing);
  try {
    const endpoint = await startEndpoint({ listen: parseListenAddress(listen), registry, health: new HealthChecks(server), version, log });
    return {
      address: endpoint.address,
      close: async () => {
        untime();
        await endpoint.close();
      },
    };
  } catch (err) {
    untime();
    throw err;
  }
}
