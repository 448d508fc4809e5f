// What the `hearth server` process does with signals, for a service manager:
// - SIGTERM / SIGINT: drain (HearthServer.stop: no new connections, clients
//   told SHUTDOWN, database closed, logs flushed), then exit 0. If the drain
//   hangs past STOP_DEADLINE_MS (below the unit's TimeoutStopSec), exit 1
//   rather than wait for SIGKILL.
// - SIGHUP: re-read the config file and the TLS certificate and apply them
//   (HearthServer.reload); nobody is disconnected. A bad file changes nothing.
// - An uncaught exception or unhandled rejection: logged at fatal level with
//   its stack (that is what "why did it crash" needs), clients told SHUTDOWN
//   if the drain still works, exit 1 so systemd restarts the server.
import type { ServerConfig } from '../config/server-config.js';
import type { HearthServer } from '../server/server.js';

export const STOP_DEADLINE_MS = 20_000;

export function installSignalHandlers(server: HearthServer, loadConfig: () => ServerConfig): void {
  let stopping = false;
  const stop = (why: string, code: number, fields: Record<string, unknown> = {}) => {
    if (stopping) {
      server.log.warn({ signal: why }, 'already shutting down');
      return;
    }
    stopping = true;
    server.log[code === 0 ? 'info' : 'fatal']({ signal: why, ...fields }, code === 0 ? 'shutting down' : 'exiting after a fatal error');
    setTimeout(() => {
      server.log.error({ deadlineMs: STOP_DEADLINE_MS }, 'shutdown did not finish in time; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    server.stop().then(
      () => process.exit(code),
      (err: unknown) => {
        server.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM', 0));
  process.on('SIGINT', () => stop('SIGINT', 0));
  process.on('SIGHUP', () => {
    if (stopping) return;
    server.log.info({ signal: 'SIGHUP' }, 'reloading configuration and TLS certificate');
    try {
      server.reload(loadConfig());
    } catch (err) {
      server.log.error({ err: (err as Error).message }, 'reload refused; the running configuration and certificate are unchanged');
    }
  });
  process.on('uncaughtException', (err) => stop('uncaughtException', 1, { err }));
  process.on('unhandledRejection', (reason) => stop('unhandledRejection', 1, { err: reason }));
}
