// The client's logger: the same pino setup as the server (host/log/logger.ts:
// rolling JSON files, pretty terminal output when interactive, secrets
// redacted), writing <state>/logs/client.<n>.log. Logs go to the state dir, not
// the config dir: they are produced, not chosen, and may be deleted any time.
import { createLogger, type HostLogger, type LogOptions } from '../../log/logger.js';
import { clientPaths, type ClientPaths } from './paths.js';

export interface ClientLogOptions extends Omit<LogOptions, 'dir' | 'name'> {
  /** Defaults to clientPaths() (XDG dirs, or HEARTH_CLIENT_HOME). */
  paths?: Pick<ClientPaths, 'logDir'>;
}

export const CLIENT_LOG_NAME = 'client';

export function createClientLogger(opts: ClientLogOptions = {}): Promise<HostLogger> {
  const { paths = clientPaths(), ...rest } = opts;
  return createLogger({ keep: 5, ...rest, dir: paths.logDir, name: CLIENT_LOG_NAME });
}
